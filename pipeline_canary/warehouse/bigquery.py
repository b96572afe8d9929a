"""The production backend: Google BigQuery through google-cloud-bigquery (imported here only).

Every call carries an explicit ``timeout`` and a bounded ``retry``: the client's defaults wait up to
600 s when nothing answers, far longer than a canary run may take. Driver errors are mapped at this
boundary (see ``_bq_errors``). SQL that reads a partitioned pipeline table without a ``game_date``
predicate is refused before it is sent (see ``_bq_guard``).

One client serves every thread of a run (the client's requests session is safe to share across
threads); its connection pool is sized to ``[warehouse] max_concurrent_queries``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline_canary.errors import ConfigError, WarehouseError
from pipeline_canary.schema.model import Field, normalize_type
from pipeline_canary.warehouse._bq_errors import map_error
from pipeline_canary.warehouse._bq_guard import PartitionGuard
from pipeline_canary.warehouse._bq_params import to_query_parameters
from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse

if TYPE_CHECKING:
    from pipeline_canary.config import WarehouseConfig

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://bigquery.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/bigquery",)
PING_TIMEOUT_S = 5.0
# The pipeline's tables (and the schedule view over nba_raw.nbac_schedule) are partitioned by
# game_date with require_partition_filter (docs: pipeline-facts.md §1).
DEFAULT_PARTITIONED_TABLES = (
    "nba_raw.nbac_schedule",
    "nba_reference.nba_schedule",
    "nba_predictions.player_prop_predictions",
    "nba_predictions.ml_feature_store_v2",
)
QUERY_PERMISSIONS = "bigquery.jobs.create (project) and bigquery.tables.getData (dataset)"
REQUESTS_POOL_SIZE = 10  # connections requests keeps per host by default


def resolve_credentials(cfg: WarehouseConfig) -> tuple[Any, str]:
    """Credentials and how they were found: the service-account file, anonymous for a local
    ``api_endpoint``, else Application Default Credentials. ConfigError says how to fix a miss."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError

    if cfg.credentials_file is not None:
        from google.oauth2 import service_account

        path = Path(cfg.credentials_file)
        try:
            creds = service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
        except (OSError, ValueError, GoogleAuthError) as exc:
            raise ConfigError(
                f"warehouse.credentials_file {path}: not a readable service-account JSON key ({exc}); "
                "download a key for the service account or remove the setting to use ADC"
            ) from exc
        return creds, f"service account {creds.service_account_email} from {path}"
    if cfg.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), f"anonymous (local endpoint {cfg.api_endpoint})"
    try:
        creds, _ = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as exc:
        raise ConfigError(
            "no Google credentials: run `gcloud auth application-default login`, set "
            "GOOGLE_APPLICATION_CREDENTIALS, or set warehouse.credentials_file to a service-account key"
        ) from exc
    return creds, "Application Default Credentials"


class BigQueryWarehouse(Warehouse):
    name: ClassVar[str] = "bigquery"
    sqlglot_dialect: ClassVar[str] = "bigquery"

    def __init__(
        self,
        client: Any,
        *,
        timeout_s: float = 60.0,
        max_bytes_billed: int | None = None,
        endpoint: str | None = None,
        partitioned_tables: Iterable[TableRef | str] = DEFAULT_PARTITIONED_TABLES,
        partition_guard: bool = True,
        history: int = 500,
    ) -> None:
        self.client = client
        self.project: str = client.project
        self.location: str | None = client.location
        self.timeout_s = timeout_s
        self.max_bytes_billed = max_bytes_billed
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.guard: PartitionGuard | None = PartitionGuard.of(partitioned_tables) if partition_guard else None
        self.sent: collections.deque[str] = collections.deque(maxlen=history)

    @classmethod
    def from_config(cls, cfg: WarehouseConfig, **kwargs: Any) -> BigQueryWarehouse:
        if not cfg.project:
            raise ConfigError(
                'warehouse.project is required for the BigQuery backend: set `project = "your-project"` '
                "under [warehouse] (or CANARY_WAREHOUSE__PROJECT)"
            )
        credentials, how = resolve_credentials(cfg)
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        options = ClientOptions(api_endpoint=cfg.api_endpoint) if cfg.api_endpoint else None
        client = bigquery.Client(
            project=cfg.project, credentials=credentials, location=cfg.location, client_options=options
        )
        if cfg.max_concurrent_queries > REQUESTS_POOL_SIZE:  # else extra connections are dropped after use
            from requests.adapters import HTTPAdapter

            adapter = HTTPAdapter(pool_maxsize=cfg.max_concurrent_queries)
            for scheme in ("https://", "http://"):
                client._http.mount(scheme, adapter)
        log.debug("BigQuery client for %s at %s with %s", cfg.project, cfg.api_endpoint or DEFAULT_ENDPOINT, how)
        return cls(
            client,
            timeout_s=cfg.timeout_s,
            max_bytes_billed=cfg.max_bytes_billed,
            endpoint=cfg.api_endpoint,
            **kwargs,
        )

    def guard_tables(self, tables: Iterable[TableRef | str]) -> None:
        """Also require a partition filter on ``tables`` (e.g. the configured pipeline tables)."""
        extra = PartitionGuard.of(tables)
        base = self.guard.tables if self.guard else frozenset()
        self.guard = PartitionGuard(tables=base | extra.tables)

    # --- calls ---------------------------------------------------------------------------------

    def _retry(self, deadline: float | None = None) -> Any:
        from google.cloud.bigquery.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(deadline or self.timeout_s)

    def _job_retry(self) -> Any:
        from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY

        return DEFAULT_JOB_RETRY.with_timeout(self.timeout_s)

    def _fail(self, exc: BaseException, what: str, permission: str) -> WarehouseError:
        return map_error(exc, what=what, endpoint=self.endpoint, permission=permission)

    def _ref(self, table: TableRef) -> str:
        return f"{table.project or self.project}.{table.dataset}.{table.name}"

    def table_sql(self, table: TableRef) -> str:
        return f"`{table.project or self.project}`.`{table.dataset}`.`{table.name}`"

    def check_partition_filters(self, sql: str) -> None:
        """Raise WarehouseError if ``sql`` reads a guarded table without a ``game_date`` predicate."""
        if self.guard is None:
            return
        problems = self.guard.violations(sql)
        if problems:
            raise WarehouseError(
                "refusing to send a query that BigQuery would reject or bill as a full scan: "
                + "; ".join(problems)
                + ". Add a game_date predicate (e.g. WHERE game_date = @as_of)"
            )

    def _job_config(self, params: Mapping[str, Any] | None, *, dry_run: bool = False) -> Any:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            query_parameters=to_query_parameters(params),
            maximum_bytes_billed=self.max_bytes_billed,
            dry_run=dry_run,
            use_query_cache=not dry_run,
        )

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        self.check_partition_filters(sql)
        job_config = self._job_config(params)
        self.sent.append(sql)

        def run_job() -> tuple[Any, Any]:
            # job_retry=None: with any other value the client wraps jobs.insert in its own retry
            # with a fixed 600 s deadline. Failed jobs are retried here instead, within timeout_s.
            job = self.client.query(
                sql,
                job_config=job_config,
                location=self.location,
                timeout=self.timeout_s,
                retry=self._retry(),
                job_retry=None,
            )
            return job, job.result(timeout=self.timeout_s, retry=self._retry(), job_retry=None)

        try:
            job, rows = self._job_retry()(run_job)()
            columns = tuple(f.name for f in rows.schema or ())
            data = tuple(tuple(row.values()) for row in rows)
        except _driver_errors() as exc:
            raise self._fail(exc, f"BigQuery query in {self.project}", QUERY_PERMISSIONS) from exc
        return QueryResult(columns=columns, rows=data, bytes_processed=job.total_bytes_processed, sql=sql)

    def dry_run(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Bytes BigQuery estimates ``sql`` would process; nothing is run or billed."""
        self.check_partition_filters(sql)
        try:
            job = self.client.query(
                sql,
                job_config=self._job_config(params, dry_run=True),
                location=self.location,
                timeout=self.timeout_s,
                retry=self._retry(),
                job_retry=None,
            )
        except _driver_errors() as exc:
            raise self._fail(exc, f"BigQuery dry run in {self.project}", QUERY_PERMISSIONS) from exc
        return int(job.total_bytes_processed or 0)

    def columns(self, table: TableRef) -> list[Field]:
        try:
            bq_table = self.client.get_table(self._ref(table), retry=self._retry(), timeout=self.timeout_s)
        except _driver_errors() as exc:
            raise self._fail(exc, f"table {self._ref(table)}", "bigquery.tables.get") from exc
        return [_to_field(f) for f in bq_table.schema]

    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        """One ``tables.list`` call (1,000 per page; no query job, nothing billed) with creation times.

        Rows and bytes are left None: fetching them costs a ``tables.get`` per table.
        """
        ref = f"{project or self.project}.{dataset}"
        try:
            items = list(self.client.list_tables(ref, page_size=1000, retry=self._retry(), timeout=self.timeout_s))
            if not items:  # an empty dataset and a missing one both list nothing on some servers
                self.client.get_dataset(ref, retry=self._retry(), timeout=self.timeout_s)
        except _driver_errors() as exc:
            raise self._fail(exc, f"dataset {ref}", "bigquery.tables.list") from exc
        found = [
            TableInfo(dataset=dataset, name=item.table_id, created=item.created)
            for item in items
            if item.table_type in (None, "TABLE")
        ]
        return sorted(found, key=lambda t: t.name)

    def with_sizes(self, tables: list[TableInfo]) -> list[TableInfo]:
        """Rows and bytes from ``tables.get`` (one call each, eight at a time); a table whose call fails
        keeps None (it may have been dropped since the listing)."""
        from concurrent.futures import ThreadPoolExecutor

        def sized(info: TableInfo) -> TableInfo:
            if info.rows is not None and info.bytes is not None:
                return info
            ref = f"{self.project}.{info.dataset}.{info.name}"
            try:
                table = self.client.get_table(ref, retry=self._retry(), timeout=self.timeout_s)
            except _driver_errors():
                log.debug("no size for %s", ref, exc_info=True)
                return info
            return dataclasses.replace(info, rows=table.num_rows, bytes=table.num_bytes)

        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(sized, tables))

    def drop(self, table: TableRef) -> None:
        try:
            self.client.delete_table(self._ref(table), not_found_ok=False, retry=self._retry(), timeout=self.timeout_s)
        except _driver_errors() as exc:
            raise self._fail(exc, f"drop table {self._ref(table)}", "bigquery.tables.delete") from exc

    def set_expiration(self, table: TableRef, when: dt.datetime) -> None:
        """Let BigQuery drop ``table`` at ``when`` (a softer clean-up than :meth:`drop`)."""
        if when.tzinfo is None:
            raise ValueError("set_expiration needs a timezone-aware datetime")
        try:
            bq_table = self.client.get_table(self._ref(table), retry=self._retry(), timeout=self.timeout_s)
            bq_table.expires = when
            self.client.update_table(bq_table, ["expires"], retry=self._retry(), timeout=self.timeout_s)
        except _driver_errors() as exc:
            raise self._fail(exc, f"set expiration of {self._ref(table)}", "bigquery.tables.update") from exc

    def ping(self) -> None:
        """One ``datasets.list`` call with a short timeout: seconds, not the client's 600 s default."""
        timeout = min(self.timeout_s, PING_TIMEOUT_S)
        try:
            pages = self.client.list_datasets(max_results=1, page_size=1, retry=self._retry(timeout), timeout=timeout)
            next(iter(pages), None)
        except _driver_errors() as exc:
            raise self._fail(exc, f"ping {self.project}", "bigquery.datasets.list (or any dataset role)") from exc

    def close(self) -> None:
        self.client.close()


def _to_field(schema_field: Any) -> Field:
    """A google SchemaField as our Field: legacy names normalised, NUMERIC precision and RECORD nesting kept."""
    type_ = normalize_type(schema_field.field_type)
    if type_ in ("NUMERIC", "BIGNUMERIC") and schema_field.precision:
        type_ = f"{type_}({schema_field.precision},{schema_field.scale or 0})"
    return Field(
        name=schema_field.name,
        type=type_,
        mode=(schema_field.mode or "NULLABLE").upper(),
        fields=tuple(_to_field(f) for f in schema_field.fields or ()),
    )


def _driver_errors() -> tuple[type[Exception], ...]:
    import concurrent.futures

    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    return (
        gexc.GoogleAPIError,
        requests.exceptions.RequestException,
        auth_exc.GoogleAuthError,
        concurrent.futures.TimeoutError,
        TimeoutError,
    )
