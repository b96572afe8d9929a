"""Every package the code imports is declared, and a missing one is reported with what to install."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest

from pipeline_canary.dependencies import distribution_for, requirement_for
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parent.parent


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return {_normalise(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in requirements}  # type: ignore[union-attr]


def _imports(folder: Path) -> Iterator[tuple[str, str]]:
    """(module, file) for every absolute import under ``folder``, including the lazy ones in functions."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, str(path.relative_to(ROOT))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from google.cloud import bigquery` names google.cloud.bigquery
                    yield f"{node.module}.{alias.name}", str(path.relative_to(ROOT))


def _undeclared(folder: Path, declared: set[str]) -> dict[str, list[str]]:
    providers = metadata.packages_distributions()
    missing: dict[str, list[str]] = {}
    for module, where in _imports(folder):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in {"pipeline_canary", "tests", "__future__"}:
            continue
        # Namespace packages (google.*) are shared by many distributions: map by the longest known name.
        candidates = {_normalise(d) for d in providers.get(top, [])} if top != "google" else set()
        wanted = {_normalise(distribution_for(module))} if not candidates or len(candidates) > 1 else candidates
        if not wanted & declared:
            missing.setdefault(module, []).append(where)
    return missing


def test_every_runtime_import_is_a_declared_dependency() -> None:
    """An import that works only because another package brought it in breaks on the next release."""
    assert _undeclared(ROOT / "pipeline_canary", _declared()) == {}


def test_every_test_import_is_declared_in_the_dev_extra() -> None:
    assert _undeclared(ROOT / "tests", _declared() | _declared("dev")) == {}


def test_modules_name_their_distribution_and_our_range() -> None:
    assert distribution_for("yaml") == "pyyaml"
    assert distribution_for("google.cloud.bigquery.table") == "google-cloud-bigquery"
    assert distribution_for("pytz") == "pytz"
    assert requirement_for("pytz").startswith("pytz>=")
    assert re.fullmatch(r"pyyaml[<>=,.\d]*>=6[<>=,.\d]*", requirement_for("PyYAML"))
    assert requirement_for("not-a-dependency") == "not-a-dependency"


# A subprocess in which ``import pytz`` fails, as on a machine where it is not installed: DuckDB then
# cannot hand TIMESTAMPTZ values (the staging tables' creation times) to Python.
WITHOUT_PYTZ = "import sys\nsys.modules['pytz'] = None\nfrom pipeline_canary.cli import main\nmain(sys.argv[1:])\n"


def _without_pytz(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYTZ, *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture
def demo_config(tmp_path: Path, seeded: Callable[[str], Path]) -> Path:
    path = tmp_path / "canary.toml"
    path.write_text(
        f'[warehouse]\nbackend = "duckdb"\npath = "{seeded("healthy")}"\n'
        f'[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\n',
        encoding="utf-8",
    )
    return path


def test_doctor_names_a_missing_module_and_how_to_install_it(tmp_path: Path, demo_config: Path) -> None:
    proc = _without_pytz("doctor", "--config", str(demo_config), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "FAIL staging dataset nba_predictions: " in proc.stdout
    assert "needs the Python module 'pytz', which is not installed" in proc.stdout
    assert "fix: python -m pip install 'pytz>=" in proc.stdout
    assert "ok   table nba_reference.nba_schedule" in proc.stdout  # the rest still ran


def test_a_missing_module_errors_the_check_and_says_what_to_install(tmp_path: Path, demo_config: Path) -> None:
    proc = _without_pytz(
        "run",
        "orphaned_staging_tables",
        "--config",
        str(demo_config),
        "--now",
        NOW.isoformat(),
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    import json

    (checkpoint,) = json.loads(proc.stdout)["checkpoints"]
    assert checkpoint["outcome"] == "errored"
    assert "python -m pip install 'pytz>=" in json.dumps(checkpoint)
    assert "Traceback" not in proc.stderr

    listing = _without_pytz("staging", "list", "--config", str(demo_config), cwd=tmp_path)
    assert listing.returncode == 3
    assert "needs the Python module 'pytz'" in listing.stderr
    assert "Traceback" not in listing.stderr
