"""Where configuration values come from: the TOML file (read bounded) and ``CANARY_*`` variables.

``read_toml`` refuses what is not a configuration file (too big, not UTF-8, not TOML, nested too
deep) with a ConfigError that says so; ``apply_env`` overlays ``CANARY_A__B=v`` onto the file's values
and says which variable set which dotted key, so errors can name the variable instead of the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline_canary.errors import ConfigError

ENV_PREFIX = "CANARY_"
MAX_CONFIG_BYTES = 1024 * 1024  # a configuration file is a few KiB; /dev/zero or a data file is not
MAX_CONFIG_DEPTH = 16  # [schedule.checkpoints.NAME] is 3 levels


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, bounded: size, UTF-8 text and nesting depth are checked (ConfigError)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"cannot read configuration file {path}: {exc}", f"make {path} readable by this user, or give another file"
        ) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB; is this the configuration file?",
            "give --config the TOML configuration file (a few KiB)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); give the TOML configuration file",
            f"save {path} as UTF-8, or give --config the TOML configuration file",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        fix = f"correct the TOML syntax in {path} at the line and column given"
        raise ConfigError(f"{path}: not valid TOML: {exc}", fix) from exc
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_CONFIG_DEPTH:
        raise ConfigError(
            f"{path}: values nested deeper than {MAX_CONFIG_DEPTH} levels; the configuration needs a few at most",
            f"give --config the TOML configuration file; {path} is not one",
        )
    return data


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_CONFIG_DEPTH:
            stack.extend((child, depth + 1) for child in children)
    return deepest


def apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """Merge ``CANARY_A__B=v`` overrides into ``data``; returns dotted key -> variable name."""
    applied: dict[str, str] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX) :].split("__")]
        target = data
        for part in parts[:-1]:
            node = target.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(
                    f"environment variable {key}: {part!r} is not a section", f"unset {key} or correct its name"
                )
            target = node
        target[parts[-1]] = _coerce(value)
        applied[".".join(parts)] = key
    return applied


def _coerce(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
