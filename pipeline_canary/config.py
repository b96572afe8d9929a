"""User configuration: one TOML file plus ``CANARY_*`` environment overrides, validated once.

Lookup: ``--config FILE``, else ``$CANARY_CONFIG``, else ``./canary.toml``, else built-in defaults
(the embedded demo warehouse under ``./canary-demo``). Relative paths are resolved against the
directory of the file that names them.

Environment overrides use a double underscore between levels, e.g.
``CANARY_WAREHOUSE__PATH=/data/wh.duckdb`` or ``CANARY_CHECKPOINTS__FEATURE_CONTAMINATION__FAIL_PCT=10``.
Secrets (Slack token, webhook URL) are read from the environment only, never from this file.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline_canary.alerting.settings import AlertingConfig, MetricsConfig
from pipeline_canary.config_messages import SettingsError, describe, fix_for, problems
from pipeline_canary.config_sources import apply_env, read_toml
from pipeline_canary.config_types import Bounded, Section
from pipeline_canary.errors import ConfigError
from pipeline_canary.evidence import EvidenceConfig
from pipeline_canary.scheduler.settings import ScheduleConfig
from pipeline_canary.warehouse.base import TableRef, validate_identifier

if TYPE_CHECKING:
    from pipeline_canary.catalogue import Catalogue

DEFAULT_CONFIG_NAME = "canary.toml"
DEFAULT_DEMO_DIR = "canary-demo"
DEMO_CONTRACT = Path(__file__).resolve().parent / "demo" / "worker_contract.json"
MAX_BYTES_BILLED = 10**15
_CANARY_NAME = r"^[a-z][a-z0-9_]*$"
_PACK_ENTRY = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"  # "nba" (the whole pack) or "nba.grading_freshness"


class WarehouseConfig(Section):
    backend: Literal["duckdb", "bigquery"] = "duckdb"
    path: Path = Path(DEFAULT_DEMO_DIR) / "warehouse.duckdb"
    project: str | None = None
    location: str = "US"
    credentials_file: Path | None = None
    api_endpoint: str | None = None
    # BigQuery stops any query job after 6 hours
    timeout_s: Annotated[float, Bounded(0, 6 * 3600, lo_open=True, unit="s")] = 60.0
    max_bytes_billed: Annotated[int | None, Bounded(1, MAX_BYTES_BILLED, unit="bytes (1 PB)")] = None
    # A run sends its canaries' statements from this many threads at once (BigQuery runs jobs in
    # parallel; DuckDB gives each thread its own cursor).
    max_concurrent_queries: Annotated[int, Bounded(1, 64, unit="queries")] = 8
    # DuckDB keeps no creation times: a table (dataset, table_name, created_at) or a query returning
    # dataset, table name and creation time. Neither: the demo's _canary_meta.table_created, if present.
    created_table: str | None = None
    created_query: str | None = None

    @field_validator("created_table")
    @classmethod
    def _created_table(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ref = TableRef.parse(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
            if ref.project is not None:
                raise ValueError(f"{value!r}: a DuckDB table is schema.table, without a project")
        return value

    @field_validator("created_query")
    @classmethod
    def _created_query(cls, value: str | None) -> str | None:
        from pipeline_canary.warehouse.duckdb_created import check_query

        return None if value is None else check_query(value)

    @model_validator(mode="after")
    def _created_source(self) -> WarehouseConfig:
        if self.created_table is not None and self.created_query is not None:
            raise ValueError("set created_table or created_query, not both")
        if self.backend != "duckdb" and (self.created_table is not None or self.created_query is not None):
            raise ValueError(
                "created_table and created_query apply to the duckdb backend only (BigQuery reports creation times)"
            )
        return self


class PipelineConfig(Section):
    timezone: str = "America/New_York"
    schedule_table: str = "nba_reference.nba_schedule"
    predictions_table: str = "nba_predictions.player_prop_predictions"
    feature_store_table: str = "nba_predictions.ml_feature_store_v2"
    staging_dataset: str = "nba_predictions"
    staging_prefix: str = "_staging_"
    worker_contract: Path | None = None
    # Each game's tip time (for prediction_gap's per-game lead, via the game calendar): this column of
    # the schedule table, or of tip_table (with game_id and game_date), e.g. "nba_raw.nbac_schedule" where
    # the reference view lacks it. Without one, tips are unknown and only due_by applies (and says so).
    tip_column: str = "game_date_est"
    tip_table: str | None = None

    @field_validator("tip_column")
    @classmethod
    def _tip_column(cls, value: str) -> str:
        try:
            return validate_identifier(value, "column name")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("tip_table")
    @classmethod
    def _tip_table(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                TableRef.parse(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as America/New_York)") from exc
        return value

    @field_validator("schedule_table", "predictions_table", "feature_store_table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        TableRef.parse(value)
        return value

    @field_validator("staging_dataset")
    @classmethod
    def _dataset_name(cls, value: str) -> str:
        return validate_identifier(value, "dataset name")

    @field_validator("staging_prefix")
    @classmethod
    def _staging_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"_?[A-Za-z0-9]+_", value) or "staging" not in value.lower():
            raise ValueError(
                f"staging_prefix {value!r} is too broad: it must contain 'staging' and end with '_' "
                "(for example '_staging_'), so that no production table can match it"
            )
        return value

    def table(self, key: str) -> TableRef:
        return TableRef.parse(getattr(self, key))

    def partitioned_tables(self) -> tuple[str, ...]:
        """The tables partitioned by game_date: every query that reads them must filter on it."""
        return (self.schedule_table, self.predictions_table, self.feature_store_table)


class GXConfig(Section):
    project_dir: Path = Path(DEFAULT_DEMO_DIR) / "gx"
    build_docs: bool = True


class StateConfig(Section):
    """Where incidents, the outbox, history and the run lock live.

    ``sqlite``: the file at ``path``. ``gcs``: the same SQLite file kept in Cloud Storage at ``uri``,
    shared by every execution (a Cloud Run job); ``path`` is then only the local lock file's folder.
    """

    backend: Literal["sqlite", "gcs"] = "sqlite"
    path: Path = Path(DEFAULT_DEMO_DIR) / "state.sqlite"
    uri: str | None = None  # gcs: gs://BUCKET/PREFIX/state.sqlite
    # gcs: wait this long for another execution, then skip
    lock_wait_s: Annotated[float, Bounded(0, 86400, unit="s")] = 300.0
    # gcs: a lock older than this is abandoned (keep it above the task timeout)
    lock_ttl_s: Annotated[float, Bounded(0, 86400, lo_open=True, unit="s")] = 1200.0
    # run history older than this (before the newest run) is pruned
    retention_days: Annotated[int, Bounded(1, 3650, unit="days")] = 90

    @field_validator("uri")
    @classmethod
    def _gs_object(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from pipeline_canary.state.gcs import parse_object_uri

        try:
            parse_object_uri(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _backend_needs(self) -> StateConfig:
        if self.backend == "gcs" and self.uri is None:
            raise ValueError('backend "gcs" needs uri = "gs://BUCKET/PREFIX/state.sqlite" (or CANARY_STATE__URI)')
        if self.backend == "sqlite" and self.uri is not None:
            raise ValueError('uri applies to backend "gcs" only: set backend = "gcs" or remove uri')
        return self


class CanariesConfig(Section):
    """``[canaries]``: the user's canary files (folders of ``*.toml``) and the packs enabled.

    ``packs``: ``"nba"`` enables a whole pack, ``"nba.grading_freshness"`` one of its canaries;
    ``exclude``: canaries of the enabled packs to leave out (pipeline_canary.packs).
    """

    paths: tuple[Path, ...] = ()
    packs: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("paths", "packs", "exclude", mode="before")
    @classmethod
    def _one_item(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | Path) else value  # CANARY_CANARIES__PATHS=canaries

    @field_validator("packs")
    @classmethod
    def _pack_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.fullmatch(_PACK_ENTRY, entry):
                raise ValueError(f'{entry!r} is not a pack ("nba") or one canary of a pack ("nba.grading_freshness")')
        return value

    @field_validator("exclude")
    @classmethod
    def _canary_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.fullmatch(_CANARY_NAME, entry):
                raise ValueError(f"{entry!r} is not a canary name (lowercase letters, digits and _)")
        return value

    def pack_files(self) -> tuple[Path, ...]:
        """The canary files the enabled packs contribute (ConfigError for an unknown pack or canary)."""
        if not self.packs:
            if self.exclude:
                raise ConfigError("canaries.exclude: no pack is enabled; remove exclude or add [canaries] packs")
            return ()
        from pipeline_canary.packs import PackSelection

        return PackSelection.resolve(self.packs, self.exclude).files

    def sources(self) -> tuple[Path, ...]:
        """Folders and files of canary files: ``paths``, then the packs' files."""
        return (*self.paths, *self.pack_files())


class CanaryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    warehouse: WarehouseConfig = WarehouseConfig()
    pipeline: PipelineConfig = PipelineConfig()
    gx: GXConfig = GXConfig()
    state: StateConfig = StateConfig()
    # default_factory: validated (secrets read from the environment) per config, not at import time
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    metrics: MetricsConfig = MetricsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    canaries: CanariesConfig = CanariesConfig()
    checkpoints: dict[str, dict[str, Any]] = Field(default_factory=dict)
    source: Path | None = None
    _catalogue: Catalogue | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _known_checkpoints(self, info: ValidationInfo) -> CanaryConfig:
        from pipeline_canary.catalogue import Catalogue

        catalogue = (info.context or {}).get("catalogue") or Catalogue.load(self.canaries.sources())
        self._catalogue = catalogue
        for name, values in self.checkpoints.items():
            canary = catalogue.get(name)  # raises UnknownCheckpointError naming the choices
            canary.parse_settings(values)
        for canary in catalogue.all():
            self._check_baselines(canary.name, canary.parse_settings(self.checkpoints.get(canary.name, {})))
        tiers = self.schedule.tier_names()
        for canary in catalogue.all():
            tier = self.tier_of(canary.name)
            if tier in tiers:
                continue
            known = f"known tiers: {', '.join(tiers)}; add [schedule.tiers.{tier}] to declare it"
            if self.checkpoints.get(canary.name, {}).get("tier") is not None:
                raise ConfigError(f"checkpoints.{canary.name}.tier: unknown tier {tier!r} ({known})")
            problem = getattr(canary, "problem", None)
            where = problem(("tier",), f"unknown tier {tier!r}") if problem else f"{canary.name}: tier {tier!r}"
            raise ConfigError(f"{where} ({known})")
        return self

    @property
    def catalogue(self) -> Catalogue:
        """The canaries of this configuration: the built-in ones and those of its canary files."""
        if self._catalogue is None:
            from pipeline_canary.catalogue import Catalogue

            self._catalogue = Catalogue.load(self.canaries.sources())
        return self._catalogue

    def _check_baselines(self, name: str, settings: Any) -> None:
        """A baseline learns only from history the state store still keeps."""
        from pipeline_canary.baselines.spec import retention_problems

        found = retention_problems(name, getattr(settings, "baselines", ()), self.state.retention_days)
        if found:
            raise SettingsError(found)

    def settings_for(self, name: str) -> Any:
        return self.catalogue.get(name).parse_settings(self.checkpoints.get(name, {}))

    def tier_of(self, name: str) -> str:
        """The tier a checkpoint runs in: ``[checkpoints.NAME] tier``, else the canary's own."""
        return self.catalogue.get(name).tier_for(self.settings_for(name))

    def names_in_tier(self, tier: str) -> list[str]:
        return [c.name for c in self.catalogue.all() if self.tier_of(c.name) == tier]

    def guarded_tables(self) -> tuple[str, ...]:
        """Tables every query must filter on game_date: the pipeline's, and those canary files declare."""
        tables = list(self.pipeline.partitioned_tables())
        for canary in self.catalogue.files():
            tables += [str(t) for t in canary.guarded_tables(self.pipeline, self.settings_for(canary.name))]
        return tuple(dict.fromkeys(tables))


def find_config_path(explicit: str | Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"configuration file {path} does not exist",
                f"give --config an existing file (`canary demo` writes one: {DEFAULT_DEMO_DIR}/{DEFAULT_CONFIG_NAME})",
            )
        return path
    if env.get("CANARY_CONFIG"):
        path = Path(env["CANARY_CONFIG"])
        if not path.is_file():
            raise ConfigError(
                f"configuration file {path} (from CANARY_CONFIG) does not exist",
                "set CANARY_CONFIG to an existing file, or unset it to use ./canary.toml",
            )
        return path
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> CanaryConfig:
    """Read, merge and validate the configuration; ConfigError names the key and where it was set."""
    env = os.environ if env is None else env
    found = find_config_path(path, env)
    data: dict[str, Any] = {}
    if found is not None:
        data = read_toml(found)
    in_file = copy.deepcopy(data)
    from_env = apply_env(data, env)
    base = found.resolve().parent if found is not None else Path.cwd()
    where = str(found) if found is not None else None
    catalogue = _catalogue(data, base, where, in_file, from_env)
    try:
        context = {"catalogue": catalogue, "checkpoints": data.get("checkpoints") or {}}
        config = CanaryConfig.model_validate({**data, "source": found}, context=context)
    except ValidationError as exc:
        found_problems = problems(exc, CanaryConfig)
        raise ConfigError(
            describe(found_problems, where, in_file, from_env), fix_for(found_problems, where, in_file, from_env)
        ) from None
    except SettingsError as exc:  # a checkpoint's settings
        raise ConfigError(
            describe(exc.problems, where, in_file, from_env), fix_for(exc.problems, where, in_file, from_env)
        ) from None
    except ConfigError as exc:  # an unknown checkpoint name: in the file, or made up by a variable
        name = _named(exc)
        named = [var for key, var in from_env.items() if name in key.split(".")]
        if named and not _mentions(in_file, name):
            raise type(exc)(f"environment variable {', '.join(named)}: {exc}", f"unset {', '.join(named)}") from None
        raise type(exc)(f"{where or 'built-in defaults'}: {exc}", f"in {where}: rename or remove '{name}'") from None
    return _resolve_paths(config, base)


def _named(exc: ConfigError) -> str:
    """The checkpoint an UnknownCheckpointError names (its first quoted word)."""
    match = re.search(r"'([^']+)'", str(exc))
    return match.group(1) if match else ""


def _mentions(data: Any, name: str) -> bool:
    """Whether a table anywhere in the file is called ``name``."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if name in node:
                return True
            stack.extend(node.values())
    return False


def _catalogue(
    data: dict[str, Any], base: Path, where: str | None, in_file: Mapping[str, Any], from_env: Mapping[str, str]
) -> Catalogue:
    """The built-in canaries and the canary files of ``[canaries] paths`` (relative to ``base``)."""
    from pipeline_canary.catalogue import Catalogue

    section = data.get("canaries", {})
    try:
        section = CanariesConfig.model_validate(section if isinstance(section, dict) else {"paths": section})
    except ValidationError as exc:
        found = problems(exc, CanariesConfig, ("canaries",))
        raise ConfigError(describe(found, where, in_file, from_env), fix_for(found, where, in_file, from_env)) from None
    try:
        paths = tuple(p if p.is_absolute() else base / p for p in section.paths)
        return Catalogue.load((*paths, *section.pack_files()))
    except ConfigError as exc:
        named = str(exc).partition(":")[0]  # "canaries.packs" or "canaries.exclude", from a pack's resolution
        variables = [var for key, var in from_env.items() if key == named]
        origin = f"environment variable {', '.join(variables)}" if variables else where  # env wins over the file
        raise type(exc)(f"{origin or 'built-in defaults'}: {exc}", exc.fix) from None


def _resolve_paths(config: CanaryConfig, base: Path) -> CanaryConfig:
    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    wh = config.warehouse.model_copy(
        update={
            "path": fix(config.warehouse.path),
            "credentials_file": fix(config.warehouse.credentials_file),
        }
    )
    contract = fix(config.pipeline.worker_contract)
    if contract is None and config.warehouse.backend == "duckdb":
        contract = DEMO_CONTRACT  # the embedded demo's worker; production must name its own
    pipe = config.pipeline.model_copy(update={"worker_contract": contract})
    gxc = config.gx.model_copy(update={"project_dir": fix(config.gx.project_dir)})
    state = config.state.model_copy(update={"path": fix(config.state.path)})
    canaries = config.canaries.model_copy(update={"paths": tuple(p for p in map(fix, config.canaries.paths) if p)})
    return config.model_copy(
        update={"warehouse": wh, "pipeline": pipe, "gx": gxc, "state": state, "canaries": canaries}
    )
