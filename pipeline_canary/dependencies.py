"""What pipeline-canary needs installed, and what to tell a user when something is missing.

Three sources of "not installed": a declared dependency absent from the environment (a partial
install, a hand-made image), a Python module an import or DuckDB asks for (DuckDB imports pytz to
return TIMESTAMPTZ values, and says so in an ``InvalidInputException``), and a DuckDB extension
that a database file needs. Each becomes a :class:`MissingDependencyError` whose fix is a command.
"""

from __future__ import annotations

import re
from importlib import metadata

from pipeline_canary.errors import MissingDependencyError

DISTRIBUTION = "pipeline-canary"

# Import names whose distribution is named otherwise (the rest install under their import name).
_DISTRIBUTIONS = {
    "yaml": "pyyaml",
    "grpc": "grpcio",
    "slack_sdk": "slack-sdk",
    "great_expectations": "great-expectations",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.monitoring_v3": "google-cloud-monitoring",
    "google.cloud.storage": "google-cloud-storage",
    "google.api_core": "google-api-core",
    "google.auth": "google-auth",
    "google.oauth2": "google-auth",
    "google.protobuf": "protobuf",
    "dateutil": "python-dateutil",
}
_REQUIRED_MODULE = re.compile(r"Required module '([\w.]+)' failed to import")
_EXTENSION = re.compile(r'extension "?([\w]+)"?', re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def distribution_for(module: str) -> str:
    """The PyPI distribution that provides ``module`` (best effort: our own imports are mapped)."""
    for prefix in sorted(_DISTRIBUTIONS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return _DISTRIBUTIONS[prefix]
    return module.split(".")[0].replace("_", "-")


def requirement_for(distribution: str) -> str:
    """Our declared requirement for ``distribution`` (with its range), else the bare name."""
    wanted = _normalise(distribution)
    for requirement in declared_requirements():
        match = _NAME.match(requirement)
        if match and _normalise(match.group(0)) == wanted:
            return requirement.split(";")[0].strip()
    return distribution


def install_fix(*distributions: str) -> str:
    names = " ".join(f"'{requirement_for(d)}'" for d in distributions)
    return f"python -m pip install {names} (in the environment that runs canary)"


def missing_module(module: str, needed_for: str) -> MissingDependencyError:
    return MissingDependencyError(
        f"{needed_for} needs the Python module {module!r}, which is not installed",
        install_fix(distribution_for(module)),
    )


def from_module_not_found(exc: ModuleNotFoundError, needed_for: str) -> MissingDependencyError:
    return missing_module(exc.name or str(exc), needed_for)


def from_duckdb(exc: BaseException, where: str) -> MissingDependencyError | None:
    """A DuckDB error that means something is not installed, as our error; None for any other."""
    text = str(exc)
    module = _REQUIRED_MODULE.search(text)
    if module:
        return missing_module(module.group(1), f"DuckDB ({where})")
    if type(exc).__name__ == "MissingExtensionException" or "is not loaded" in text or "to be loaded" in text:
        ext = _EXTENSION.search(text)
        name = ext.group(1) if ext else "the extension named in DuckDB's message"
        import duckdb

        return MissingDependencyError(
            f"DuckDB ({where}) needs the extension {name!r}, which is not installed",
            f"install it from PyPI: python -m pip install 'duckdb-extension-{name}=={duckdb.__version__}' "
            "(or, with internet access, `INSTALL " + name + "` in DuckDB)",
        )
    return None


def missing_distributions() -> list[str]:
    """Declared runtime dependencies of pipeline-canary that are not installed."""
    missing = []
    for requirement in declared_requirements():
        match = _NAME.match(requirement)
        if not match:
            continue
        try:
            metadata.distribution(match.group(0))
        except metadata.PackageNotFoundError:
            missing.append(match.group(0))
    return missing


def declared_requirements() -> list[str]:
    """pipeline-canary's runtime requirements as installed (empty when it was never installed)."""
    try:
        declared = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return []
    return [r for r in declared if "extra ==" not in r]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
