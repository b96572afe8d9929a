"""``canary doctor``: check the set-up before the first run, and say how to fix each problem.

Checks, in order: the configuration loads; Slack, when alerts go there (token: auth.test, the scopes, each
alert channel; webhook: the URL's shape only, it cannot be tested without posting); a shared state
backend's bucket answers and its lock is free or whose it is; BigQuery credentials are present; the warehouse answers
(seconds, not the client's default minutes); every configured pipeline table exists with the columns
the checkpoints read; the staging dataset can be listed; the warehouse knows when tables were
created (DuckDB keeps no creation times: a source must be configured); queries can be run (BigQuery: a dry run,
which needs bigquery.jobs.create and read access to the table but bills nothing).
Exit 0 when everything is fine, 2 otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.dependencies import from_module_not_found
from pipeline_canary.errors import (
    CanaryError,
    MissingDependencyError,
    NoCreationTimesError,
    PermissionDeniedError,
    TableNotFoundError,
    WarehouseTimeoutError,
)
from pipeline_canary.findings import Finding
from pipeline_canary.redaction import redact

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.warehouse.base import TableRef, Warehouse


# The columns the built-in checkpoints' SQL reads, per configured table (prediction_gap's ``reads``,
# feature_contamination.toml's [tables]); tests/bigquery/test_doctor.py checks this against their SQL.
def required_columns() -> dict[str, tuple[str, ...]]:
    """Columns the built-in checkpoints read, per configured table key: ``reads``, or a built-in file's tables."""
    from pipeline_canary.canaries import registry
    from pipeline_canary.canary_files import FileCanary

    merged: dict[str, list[str]] = {}
    for canary in registry.all():
        reads = dict(canary.reads)
        if isinstance(canary, FileCanary):
            reads = {t.table: tuple(t.columns) for t in canary.table_specs.values() if "." not in t.table}
        for key, columns in reads.items():
            merged.setdefault(key, [])
            merged[key] += [c for c in columns if c not in merged[key]]
    return {key: tuple(columns) for key, columns in merged.items()}


@dataclass
class NeededTable:
    """A table some checkpoint reads, the columns they read, and where it is configured (for the fix)."""

    ref: TableRef
    columns: list[str]
    origin: str  # "pipeline.schedule_table", or "canaries/x.toml [tables.gamebook]"
    key: str | None = None  # the [pipeline] key, for a configured table


def required_tables(config: CanaryConfig) -> list[NeededTable]:
    """Every table the configuration's checkpoints read (built-in and file canaries, the game calendar)."""
    from pipeline_canary.canary_files import FileCanary
    from pipeline_canary.game_calendar import READS

    pipeline = config.pipeline
    needed: dict[str, NeededTable] = {}

    def add(ref: TableRef, columns: tuple[str, ...] | list[str], origin: str, key: str | None = None) -> None:
        entry = needed.setdefault(str(ref), NeededTable(ref, [], origin, key))
        entry.columns += [c for c in columns if c not in entry.columns]

    canaries = config.catalogue.all()
    if any(c.uses_calendar for c in canaries):
        add(pipeline.table("schedule_table"), READS, "pipeline.schedule_table", "schedule_table")
    for canary in canaries:
        if isinstance(canary, FileCanary):
            refs = canary.table_refs(pipeline, config.settings_for(canary.name))
            for placeholder, table in canary.table_specs.items():
                configured = table.table if "." not in table.table else None
                origin = f"pipeline.{configured}" if configured else f"{canary.path} [tables.{placeholder}]"
                add(refs[placeholder], table.columns, origin, configured)
            continue
        for key, columns in canary.reads.items():
            add(pipeline.table(key), columns, f"pipeline.{key}", key)
    return list(needed.values())


REQUIRED_COLUMNS = required_columns()  # the built-in canaries' (tests compare it with their SQL)
log = logging.getLogger(__name__)
T = TypeVar("T")
DOCTOR_TIMEOUT_S = 10.0


class Doctor:
    """Runs the checks in order; a finding per check, later checks skipped when they cannot help."""

    def __init__(self, config: CanaryConfig) -> None:
        self.config = config
        self.findings: list[Finding] = []

    def add(self, check: str, ok: bool, detail: str, fix: str = "") -> bool:
        self.findings.append(Finding(check, ok, detail, fix))
        return ok

    def call(self, check: str, action: Callable[[], T], fix: Callable[[CanaryError], str]) -> T | None:
        """Run one step; a failure, ours or not, becomes a finding with its fix (never a traceback) and None."""
        try:
            return action()
        except (MissingDependencyError, NoCreationTimesError) as exc:  # errors that carry their own fix
            self.add(check, False, str(exc).removesuffix(f": {exc.fix}"), exc.fix)
        except CanaryError as exc:
            self.add(check, False, redact(str(exc)), fix(exc))
        except ModuleNotFoundError as exc:
            missing = from_module_not_found(exc, check)
            self.add(check, False, str(missing).removesuffix(f": {missing.fix}"), missing.fix)
        except Exception as exc:  # not ours: say what it was, and how to see more
            log.debug("doctor: %s raised", check, exc_info=True)
            detail = f"unexpected {type(exc).__name__}: {redact(str(exc))}"
            self.add(check, False, detail, "run `canary -vv doctor` for the traceback")
        return None

    def attempt(self, check: str, action: Callable[[], str], fix: Callable[[CanaryError], str]) -> bool:
        detail = self.call(check, action, fix)
        return detail is not None and self.add(check, True, detail)

    def run(self) -> list[Finding]:
        wh = self.config.warehouse
        self._packages()
        self._contract()
        self._slack()
        if self.config.state.backend == "gcs":
            self._shared_state()
        else:
            self._local_lock()
        if wh.backend == "bigquery" and not self._bigquery_settings():
            return self.findings
        from pipeline_canary.warehouse import connect

        short = wh.model_copy(update={"timeout_s": min(wh.timeout_s, DOCTOR_TIMEOUT_S)})
        warehouse = self.call("warehouse", lambda: connect(short), lambda exc: self._connect_fix())
        if warehouse is None:
            return self.findings
        with warehouse:
            where = (wh.api_endpoint or "bigquery.googleapis.com") if wh.backend == "bigquery" else str(wh.path)
            reachable = self.attempt(
                "warehouse reachable",
                lambda: (warehouse.ping(), f"{wh.backend} at {where} answered")[1],
                lambda exc: (
                    f"start the BigQuery server at {wh.api_endpoint}, or correct warehouse.api_endpoint"
                    if wh.backend == "bigquery" and wh.api_endpoint
                    else "let this machine reach bigquery.googleapis.com (proxy, firewall) or raise warehouse.timeout_s"
                    if wh.backend == "bigquery"
                    else f"run `canary demo` to seed a demo warehouse, or set warehouse.path to your DuckDB file "
                    f"(now {wh.path})"
                ),
            )
            if not reachable:
                self.add(
                    "tables",
                    False,
                    "skipped: the warehouse is unreachable",
                    "make the warehouse reachable (the 'warehouse reachable' fix), then run `canary doctor` again",
                )
                return self.findings
            for table in required_tables(self.config):
                self._table(warehouse, table)
            self._staging(warehouse)
            self._creation_times(warehouse)
            self._canary_notes(warehouse)
        return self.findings

    def _connect_fix(self) -> str:
        wh = self.config.warehouse
        if wh.backend == "bigquery":
            return (
                f"check warehouse.project ({wh.project}) and the credentials "
                "(warehouse.credentials_file, or `gcloud auth application-default login`)"
            )
        return f"make warehouse.path ({wh.path}) a DuckDB file this user can open (`canary demo` seeds one)"

    def _today(self) -> dt.date:
        """Today as the checkpoints see it: the game date in the pipeline's timezone."""
        from pipeline_canary.checkpoints.runner import resolve_clock

        return resolve_clock(self.config.pipeline.timezone).as_of

    def _packages(self) -> None:
        """Every declared dependency is installed (a partial install fails later, and less clearly)."""
        from pipeline_canary.dependencies import declared_requirements, install_fix, missing_distributions

        if not declared_requirements():
            self.add("packages", True, "not checked: pipeline-canary runs from a source tree that was never installed")
            return
        missing = missing_distributions()
        if missing:
            self.add("packages", False, f"not installed: {', '.join(missing)}", install_fix(*missing))
        else:
            self.add("packages", True, "every declared dependency is installed")

    def _contract(self) -> None:
        """schema_parity compares the worker's output contract with the table: it must be readable."""
        from pipeline_canary.schema.loaders import load_contract

        path = self.config.pipeline.worker_contract
        if path is None:
            self.add(
                "worker contract",
                False,
                "pipeline.worker_contract is not set (schema_parity cannot run)",
                "point [pipeline] worker_contract at the JSON schema of what the prediction worker writes",
            )
            return
        self.attempt(
            "worker contract",
            lambda: f"{path}: {len(load_contract(path))} fields",
            lambda exc: (
                f"correct {path} (a BigQuery schema: a JSON list of name/type/mode fields), "
                "or point [pipeline] worker_contract at the worker's schema file"
            ),
        )

    def _slack(self) -> None:
        """Slack answers the token and lets it post to the alert channels (nothing is posted)."""
        from pipeline_canary.alerting.probe import probe_slack

        checks = self.call("slack", lambda: probe_slack(self.config.alerting), lambda exc: "see the message above")
        self.findings.extend(checks or [])

    def _local_lock(self) -> None:
        """The run lock beside the SQLite state store: free, or held by a run now (not taken)."""
        from pipeline_canary.state.lock import inspect_lock

        path = self.config.state.path.with_suffix(".lock")
        held = self.call("run lock", lambda: inspect_lock(path), lambda exc: "point [state] path at a writable folder")
        if held is None and not any(f.check == "run lock" for f in self.findings):
            self.add("run lock", True, f"{path}: free")
        elif held:
            fix = f"wait for it to end, or find the process with `fuser {path}`"
            self.findings.append(Finding("run lock", True, held, fix, warning=True))

    def _shared_state(self) -> None:
        """``[state] backend = "gcs"``: the bucket answers, and who holds the lock (without taking it)."""
        from pipeline_canary.state.gcs import GCSStateFile, StateStorageError, explain
        from pipeline_canary.state.gcs_lock import GCSLock

        state = self.config.state
        assert state.uri is not None  # validated with the backend

        def reachable() -> str:
            from google.api_core import exceptions as gexc

            remote = GCSStateFile.from_uri(state.uri or "")
            try:
                blob = remote.bucket.get_blob(remote.name)
                lock = GCSLock(remote.bucket, remote.lock_name, ttl_s=state.lock_ttl_s, wait_s=0).inspect()
            except gexc.GoogleAPIError as exc:
                raise StateStorageError(f"cannot read {remote.url}: {explain(exc)}") from None
            found = (
                f"generation {blob.generation}, {blob.size} bytes"
                if blob
                else "no state yet (the first run creates it)"
            )
            if lock is None:
                held = "lock free"
            elif lock.expired():
                held = f"lock expired ({lock.describe()}): the next run takes it over"
            else:
                held = f"lock {lock.describe()}"
            return f"{remote.url}: {found}; {held}"

        self.attempt(
            "state bucket",
            reachable,
            lambda exc: (
                "create the bucket, fix [state] uri, and grant the job's service account "
                "roles/storage.objectUser on the bucket"
            ),
        )

    def _bigquery_settings(self) -> bool:
        from pipeline_canary.warehouse.bigquery import resolve_credentials

        wh = self.config.warehouse
        if not wh.project:
            return self.add(
                "project",
                False,
                "warehouse.project is not set",
                'set project = "your-gcp-project" under [warehouse] (or CANARY_WAREHOUSE__PROJECT)',
            )
        return self.attempt(
            "credentials",
            lambda: resolve_credentials(wh)[1],
            lambda exc: (
                "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS or "
                "warehouse.credentials_file to a service-account key file"
            ),
        )

    def _table(self, warehouse: Warehouse, table: NeededTable) -> None:
        ref, needed, origin = table.ref, table.columns, table.origin
        fields = self.call(f"table {ref}", lambda: warehouse.columns(ref), lambda exc: _table_fix(exc, table))
        if fields is None:
            return
        have = {f.name for f in fields}
        missing = [c for c in needed if c not in have]
        if missing:
            self.add(
                f"table {ref}",
                False,
                f"{ref} lacks column(s) the checkpoints read: {', '.join(missing)}",
                f"point {origin} at the right table, or add the column(s) (ALTER TABLE {ref} ADD COLUMN ...)",
            )
            return
        self.add(f"table {ref}", True, f"{len(fields)} columns, including all {len(needed)} the checkpoints read")
        self.attempt(
            f"query {ref}",
            lambda: _probe_query(warehouse, warehouse.table_sql(ref), self._today(), dated="game_date" in have),
            lambda exc: (
                "grant roles/bigquery.jobUser on the project and roles/bigquery.dataViewer on the dataset"
                if isinstance(exc, PermissionDeniedError)
                else _query_fix(exc, self.config.warehouse.timeout_s, ref)
            ),
        )

    def _staging(self, warehouse: Warehouse) -> None:
        dataset = self.config.pipeline.staging_dataset
        prefix = self.config.pipeline.staging_prefix

        def listing() -> str:
            tables = warehouse.tables(dataset)
            staging = sum(1 for t in tables if t.name.startswith(prefix))
            return f"{len(tables)} tables listed, {staging} named {prefix}*"

        self.attempt(
            f"staging dataset {dataset}",
            listing,
            lambda exc: (
                f"grant bigquery.tables.list on dataset {dataset} (roles/bigquery.metadataViewer)"
                if isinstance(exc, PermissionDeniedError)
                else f"set pipeline.staging_dataset to the dataset the prediction workers write {prefix}* tables to"
            ),
        )

    def _canary_notes(self, warehouse: Warehouse) -> None:
        """What each canary says about its own set-up (e.g. prediction_gap without tip times)."""
        pipeline = self.config.pipeline
        for canary in self.config.catalogue.all():
            settings = self.config.settings_for(canary.name)
            notes = self.call(
                canary.name, partial(canary.setup_notes, warehouse, pipeline, settings), lambda exc: "see above"
            )
            self.findings.extend(notes or [])

    def _creation_times(self, warehouse: Warehouse) -> None:
        """orphaned_staging_tables and staging cleanup judge tables by age: the warehouse must know it."""
        self.attempt(
            "creation times",
            warehouse.creation_time_source,
            lambda exc: (
                f"grant bigquery.tables.list on dataset {self.config.pipeline.staging_dataset} "
                "(roles/bigquery.metadataViewer): creation times come from INFORMATION_SCHEMA.TABLES"
                if self.config.warehouse.backend == "bigquery"
                else 'set [warehouse] created_table = "schema.table" (columns dataset, table_name, created_at) '
                "or created_query, so table ages can be told"
            ),
        )


def _probe_query(warehouse: Warehouse, ref_sql: str, day: dt.date, *, dated: bool = True) -> str:
    """A read of one partition (``dated``: the table has game_date) that costs nothing: a dry run on
    BigQuery, a count of one day elsewhere; a table without game_date is read for one row."""
    sql = f"SELECT COUNT(*) AS n FROM {ref_sql} WHERE game_date = @day"
    params: dict[str, Any] = {"day": day}
    if not dated:
        sql, params = f"SELECT 1 AS n FROM {ref_sql} LIMIT 1", {}
    estimated = warehouse.dry_run(sql, params)  # None: this backend cannot estimate (DuckDB)
    if estimated is not None:
        return f"dry run ok (jobs.create and read permissions; {estimated} bytes estimated)"
    warehouse.query(sql, params)
    return "query ok"


def _table_fix(exc: CanaryError, table: NeededTable) -> str:
    if isinstance(exc, TableNotFoundError):
        return f"set {table.origin} to the table's dataset.table name (now {table.ref}), or create the table"
    if isinstance(exc, PermissionDeniedError):
        return "grant roles/bigquery.dataViewer on the dataset (bigquery.tables.get, bigquery.tables.getData)"
    return _query_fix(exc, None, table.ref)


def _query_fix(exc: CanaryError, timeout_s: float | None, ref: object) -> str:
    if isinstance(exc, WarehouseTimeoutError):
        runs = f"; runs wait warehouse.timeout_s = {timeout_s:g} s" if timeout_s is not None else ""
        return f"check the warehouse's load and the network: no answer within doctor's {DOCTOR_TIMEOUT_S:g} s{runs}"
    return f"run `SELECT * FROM {ref} LIMIT 1` with the same credentials to see what the warehouse says"


@click.command(epilog="\b\nExamples:\n  canary doctor\n  canary doctor --config prod.toml")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: $CANARY_CONFIG, else ./canary.toml).",
)
def doctor(config_path: str | None) -> int:
    """Check configuration, credentials, connectivity, tables, columns and permissions."""
    from pipeline_canary.config import load_config
    from pipeline_canary.errors import ConfigError

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        fix = exc.fix or f"correct {config_path or 'the configuration'} as the message says"
        _echo(Finding("configuration", False, str(exc), fix))
        return int(ExitCode.USAGE)
    source = config.source or "built-in defaults"
    findings = [Finding("configuration", True, f"loaded from {source}"), *Doctor(config).run()]
    for finding in findings:
        _echo(finding)
    problems = [f for f in findings if not f.ok]
    warnings = sum(1 for f in findings if f.warning)
    noted = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
    if problems:
        click.echo(f"{len(problems)} problem(s) found{noted}")
        return int(ExitCode.USAGE)
    click.echo(f"all checks passed{noted}")
    return int(ExitCode.OK)


def _echo(finding: Finding) -> None:
    if finding.ok and finding.warning:
        click.echo(f"{click.style('warn', fg='yellow')} {finding.check}: {finding.detail}")
        if finding.fix:
            click.echo(f"     fix: {finding.fix}")
        return
    if finding.ok:
        click.echo(f"{click.style('ok  ', fg='green')} {finding.check}: {finding.detail}")
        return
    click.echo(f"{click.style('FAIL', fg='red', bold=True)} {finding.check}: {finding.detail}")
    if finding.fix:
        click.echo(f"     fix: {finding.fix}")
