"""Read canary files: every ``*.toml`` in the folders of ``[canaries] paths``, one canary per file.

A file is read once (bounded in size), parsed with ``tomllib`` and validated against the format
(``spec.py``); every problem in every file is reported at once, each naming the file, the line and
the key, as one ConfigError (exit 2). The SQL is not parsed here (see ``compile.py``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from pipeline_canary.canary_files import spec as specs
from pipeline_canary.canary_files._lines import dotted, key_lines, line_of
from pipeline_canary.canary_files.canary import FileCanary
from pipeline_canary.errors import ConfigError

MAX_FILE_BYTES = 256 * 1024  # a canary file is a few KiB of SQL and words


def canary_files(paths: Sequence[Path]) -> list[Path]:
    """The canary files of ``paths`` (folders, or single ``.toml`` files), in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.glob("*.toml") if not p.name.startswith(".") and p.is_file())
        elif path.is_file() and path.suffix == ".toml":
            found.append(path)
        else:
            raise ConfigError(
                f"canaries.paths: {path} is not a folder of canary files (create it, or fix [canaries] paths; "
                "`canary canaries new NAME` writes a first one)"
            )
    return found


def load_folders(paths: Sequence[Path]) -> list[FileCanary]:
    """Every canary file of ``paths``, validated; ConfigError lists every problem of every file."""
    canaries, problems = [], []
    for path in canary_files(paths):
        try:
            canaries.append(load_file(path))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("invalid canary file(s):\n" + "\n".join(problems))
    return canaries


def load_builtin(folder: Path) -> list[FileCanary]:
    """The canary files shipped in ``folder`` as built-in canaries (always enabled, source ``built-in``)."""
    return [load_file(path, source="built-in") for path in canary_files([folder])]


def load_file(path: Path, source: str | None = None) -> FileCanary:
    """One canary file as a canary; ConfigError naming the file, the line and the key."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the canary file: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; is this a canary file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    lines = key_lines(text)
    try:
        spec = specs.CanaryFileSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(_describe(path, lines, tuple(e["loc"]), _message(e)) for e in exc.errors())
        ) from None
    problems = specs.check_spec(spec, path.stem)
    if problems:
        raise ConfigError("\n".join(_describe(path, lines, key, message) for key, message in problems))
    return FileCanary.build(path, spec, lines, source=source)


def _describe(path: Path, lines: dict[tuple[str | int, ...], int], key: tuple[str | int, ...], message: str) -> str:
    return f"{path}:{line_of(lines, key)}: {dotted(key)}: {message}"


def _message(error: object) -> str:
    assert isinstance(error, dict)
    if error.get("type") == "extra_forbidden":
        return "unknown key (see README, Canary files, for the keys)"
    if error.get("type") == "missing":
        return "required key is missing"
    return f"{str(error.get('msg')).removeprefix('Value error, ')} (got {error.get('input')!r})"
