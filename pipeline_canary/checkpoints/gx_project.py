"""The GX project on disk: data source, suites, validation definitions and checkpoints, Data Docs.

One GX Checkpoint per canary, each with one validation definition over a pandas dataframe asset:
the canary's pushed-down metrics frame. Objects are created or updated only when they differ from
what the canary definitions say, so ``gx/`` stays a reviewed, stable set of files.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_canary.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.checkpoint import Checkpoint
    from great_expectations.checkpoint.checkpoint import CheckpointResult

    from pipeline_canary.canaries.base import Canary

log = logging.getLogger(__name__)

DATASOURCE = "pipeline_canary"
BATCH_DEFINITION = "metrics"
# BASIC keeps each check's observed value on its Data Docs page; the partial unexpected lists that
# SUMMARY adds mean nothing for a one-row metrics frame and cost GX time on every run.
RESULT_FORMAT = {"result_format": "BASIC"}
# Data Docs stay bounded as history grows (GX re-renders every stored result otherwise): the store
# keeps the newest results per checkpoint, the index lists at most that many, and a build renders
# only pages that do not exist yet. Run history (observed values, outcomes) lives in the state store.
VALIDATION_RESULTS_KEPT = 25  # per checkpoint: GX pages exist for the newest 25 runs
VALIDATION_RESULTS_INDEXED = 40  # in GX's index page, over all checkpoints (it reads each one)
# GX's validations section inherits the index's limit unless told otherwise: with 28 checkpoints only
# the newest 40 results of all of them got a page, and the dashboard called the rest "pruned". A build
# renders only kept results without a page, and the store keeps VALIDATION_RESULTS_KEPT per checkpoint.
VALIDATION_PAGES_LIMIT = 100_000


class GXProject:
    """A file-backed GX context rooted at ``project_dir`` (a folder named ``gx``)."""

    def __init__(self, project_dir: Path) -> None:
        if project_dir.name != "gx":
            raise ConfigError(f"gx.project_dir must point at a folder named 'gx', got {project_dir}")
        self.project_dir = project_dir
        self._results = project_dir / "uncommitted" / "validations"  # GX's stored validation results
        self._site = project_dir / "uncommitted" / "data_docs" / "local_site"  # GX's Data Docs
        self._context: Any = None
        self._checkpoints: dict[str, tuple[Any, Checkpoint]] = {}

    @property
    def context(self) -> Any:
        if self._context is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            # The suites in gx/ use our expectation type: GX must know it before it reads them.
            import pipeline_canary.expectations.canary_metric  # noqa: F401

            self.project_dir.parent.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(self.project_dir.parent))
            bars = context.variables.progress_bars
            enabled = bars.get("globally", True) if isinstance(bars, dict) else getattr(bars, "globally", True)
            # No progress bars on our stdout, and no config-variables file: GX re-parses that YAML
            # file on every store access (28 times per checkpoint run); we substitute nothing.
            if bars is None or enabled or context.variables.config_variables_file_path:
                context.variables.progress_bars = ProgressBarsConfig(globally=False)
                context.variables.config_variables_file_path = None  # type: ignore[assignment]  # GX accepts None
                context.variables.save()
                # The open context built its config provider from the old file path and would keep
                # re-parsing the YAML file for as long as it lives; a context opened now does not.
                context = gx.get_context(mode="file", project_root_dir=str(self.project_dir.parent))
            _configure_sites(context)
            self._context = context
        return self._context

    def prepare(self, planned: list[tuple[Canary, Any]]) -> None:
        """Import GX, open the context and sync every planned checkpoint (while the pool collects).

        Failures are left for :meth:`checkpoint` to raise again where they are reported per checkpoint.
        """
        try:
            for canary, settings in planned:
                self.checkpoint(canary, settings)
        except Exception:
            log.debug("GX warm-up failed; the checkpoint run will report it", exc_info=True)

    def checkpoint(self, canary: Canary, settings: Any) -> Checkpoint:
        """The canary's GX checkpoint, created or updated to match its current definition."""
        key = repr(settings)
        cached = self._checkpoints.get(canary.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        checkpoint = self._sync(canary, settings)
        self._checkpoints[canary.name] = (key, checkpoint)
        return checkpoint

    def _sync(self, canary: Canary, settings: Any) -> Checkpoint:
        import great_expectations as gx

        from pipeline_canary.expectations.suite import build_expectations, build_suite, signature, suite_meta

        ctx = self.context
        try:
            source = ctx.data_sources.get(DATASOURCE)
        except (KeyError, ValueError, LookupError):
            source = ctx.data_sources.add_pandas(DATASOURCE)
        asset_name = f"{canary.name}_metrics"
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(asset_name)
        try:
            batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
        except (KeyError, LookupError):
            batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)

        try:
            existing = ctx.suites.get(canary.name)
        except Exception:  # GX raises several types for "not found"
            existing = None
        if existing is None:
            suite, changed = ctx.suites.add(build_suite(canary, settings)), True
        else:
            meta = suite_meta(canary)
            ours = {k: (existing.meta or {}).get(k) for k in meta}  # GX adds keys of its own (version)
            wanted = build_expectations(canary, settings)
            changed = signature(existing.expectations) != signature(wanted) or ours != meta
            suite = _replace_expectations(existing, wanted, meta) if changed else existing

        try:
            validation = ctx.validation_definitions.get(canary.name)
            if validation.suite.name != suite.name or changed:
                raise LookupError
        except Exception:
            validation = ctx.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=canary.name, data=batch_definition, suite=suite)
            )
        try:
            checkpoint = ctx.checkpoints.get(canary.name)
            if changed or checkpoint.result_format != RESULT_FORMAT:
                raise LookupError
        except Exception:
            checkpoint = ctx.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=canary.name,
                    validation_definitions=[validation],
                    actions=[],
                    result_format=RESULT_FORMAT,
                )
            )
        return checkpoint

    def run(
        self,
        checkpoint: Checkpoint,
        frame: pd.DataFrame,
        run_name: str,
        run_time: dt.datetime,
        parameters: dict[str, float | None] | None = None,
    ) -> CheckpointResult:
        """Validate ``frame``; the result is stored under the run's name and time (its injected "now").

        ``parameters`` are the suite parameters of the run: the bands its baselines learned.

        The time is always given: without one GX parses the run name as a date, and a run name whose
        random suffix happens to read as a UTC offset made every checkpoint of that run fail.
        """
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = RunIdentifier(run_name=run_name, run_time=run_time)
        return checkpoint.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=parameters or None, run_id=run_id
        )

    def docs_page(self, identifier: Any) -> str | None:
        """Path of the Data Docs page of one validation result (it exists after build_docs).

        The local site lays pages out as ``validations/<suite>/<run name>/<run time>/<batch>.html``;
        computing that is 3 ms cheaper per checkpoint than GX's ``get_docs_sites_urls``, which builds a
        whole SiteBuilder per call. GX's own answer is the fallback for identifiers of another shape.
        """
        site = self._site
        parts: tuple[Any, ...] = identifier.to_tuple() if hasattr(identifier, "to_tuple") else ()
        if len(parts) == 4 and site.is_dir() and all(isinstance(p, str) and p for p in parts):
            return str(site / "validations" / "/".join(parts[:3]) / f"{parts[3]}.html")
        try:
            urls = self.context.get_docs_sites_urls(resource_identifier=identifier, only_if_exists=False)
        except Exception:  # pragma: no cover - docs are a convenience, never fatal
            log.debug("no docs url for %s", identifier, exc_info=True)
            return None
        url = urls[0].get("site_url") if urls else None
        return url.removeprefix("file://") if url else None

    def prune_results(self) -> int:
        """Keep the newest ``VALIDATION_RESULTS_KEPT`` validation results per checkpoint, with their pages.

        Every run stores one result per checkpoint, so this bounds ``uncommitted/validations`` whether
        or not the Data Docs are built. Returns how many results were removed.
        """
        return self._prune_results()[0]

    def _prune_results(self) -> tuple[int, list[Any]]:
        """Remove old results (their JSON, page and emptied folders); return how many, and the keys kept."""
        ctx = self.context
        store = ctx.stores[ctx.validation_results_store_name]
        by_suite: dict[str, list[Any]] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        stored, site = self._results, self._site / "validations"
        removed = 0
        kept: list[Any] = []
        for keys in by_suite.values():
            if len(keys) <= VALIDATION_RESULTS_KEPT:  # the usual case: nothing to order or remove
                kept += keys
                continue
            # Runs replayed or tested at one injected "now" share a run time: the order they were
            # stored in breaks the tie, so a run never prunes the result it has just written.
            keys.sort(key=lambda k: (k.run_id.run_time, _stored_at(stored, k)), reverse=True)
            for old in keys[VALIDATION_RESULTS_KEPT:]:
                store.remove_key(old)
                _page(site, old).unlink(missing_ok=True)
                _remove_empty_dirs(stored, site, old.to_tuple()[:-1])  # GX walks every folder
                removed += 1
            kept += keys[:VALIDATION_RESULTS_KEPT]
        return removed, kept

    def build_docs(self) -> str | None:
        """Prune old validation results, render the missing pages and the (capped) index, offline-ready."""
        from pipeline_canary.reports.offline import localize

        ctx = self.context
        _, kept = self._prune_results()
        site = self._site / "validations"
        wanted: list[Any] = list(ctx.expectations_store.list_keys())
        wanted += [k for k in kept if not _page(site, k).exists()]
        urls = ctx.build_data_docs(resource_identifiers=wanted)
        localize(self._site)  # GX's pages load their CSS, JS and fonts from CDNs: point them at local copies
        url = next(iter(urls.values()), None) if urls else None
        return url.removeprefix("file://") if url else None


def _stored_at(stored: Path, key: Any) -> int:
    parts = key.to_tuple()
    try:
        return stored.joinpath(*parts[:-1], f"{parts[-1]}.json").stat().st_mtime_ns
    except OSError:
        return 0


def _page(site: Path, key: Any) -> Path:
    parts = key.to_tuple()
    return site.joinpath(*parts[:-1], f"{parts[-1]}.html")


def _remove_empty_dirs(stored: Path, site: Path, parts: tuple[str, ...]) -> None:
    for root in (stored, site):
        for depth in range(len(parts), 1, -1):
            try:
                root.joinpath(*parts[:depth]).rmdir()
            except OSError:
                break


def _configure_sites(context: Any) -> None:
    """Every Data Docs site: GX's index limit, a page for every kept result, pages headed by check (saved once)."""
    from pipeline_canary.expectations.renderers import site_section_builders

    sites = context.variables.data_docs_sites or {}
    changed = False
    for site in sites.values():
        index = site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
        if index.get("validation_results_limit") != VALIDATION_RESULTS_INDEXED:
            index["validation_results_limit"] = VALIDATION_RESULTS_INDEXED
            changed = True
        sections = site.setdefault("site_section_builders", {})
        for name, wanted in site_section_builders().items():  # GX merges these with its defaults
            if sections.get(name, {}).get("renderer") != wanted["renderer"]:
                sections.setdefault(name, {})["renderer"] = wanted["renderer"]
                changed = True
        validations = sections.setdefault("validations", {})
        if validations.get("validation_results_limit") != VALIDATION_PAGES_LIMIT:
            validations["validation_results_limit"] = VALIDATION_PAGES_LIMIT
            changed = True
    if changed:
        context.variables.data_docs_sites = sites
        context.variables.save()


def _replace_expectations(suite: Any, wanted: list[Any], meta: dict[str, Any]) -> Any:
    """Make a stored suite say exactly what the canary says (GX's add_or_update merges instead)."""
    suite.expectations = []  # delete_expectation trips over duplicates an earlier merge left behind
    suite.save()
    for expectation in wanted:
        suite.add_expectation(expectation)
    suite.meta = {**(suite.meta or {}), **meta}
    suite.save()
    return suite
