"""Packs: folders of canary files shipped with pipeline-canary, enabled from ``[canaries] packs``.

A pack is a folder ``pipeline_canary/packs/NAME/`` of canary files (the format of
``pipeline_canary.canary_files``). ``[canaries] packs = ["nba"]`` enables every canary of the pack;
``"nba.grading_freshness"`` enables one; ``[canaries] exclude = ["fleet_diversity"]`` leaves
canaries of enabled packs out. Pack canaries are ordinary file canaries: their thresholds, tables
and tiers are configured under ``[checkpoints.NAME]`` like those of the user's own files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from pipeline_canary.errors import ConfigError

PACKS_DIR = Path(__file__).parent
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def available() -> list[str]:
    """The packs shipped with this version."""
    return sorted(p.name for p in PACKS_DIR.iterdir() if p.is_dir() and _NAME.match(p.name) and any(p.glob("*.toml")))


def pack_files(pack: str) -> dict[str, Path]:
    """The canary files of one pack, by canary name."""
    folder = PACKS_DIR / pack
    if not _NAME.match(pack) or not folder.is_dir():
        known = available()
        near = get_close_matches(pack, known, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise ConfigError(f"canaries.packs: no pack named {pack!r}; {hint}packs shipped: {', '.join(known) or 'none'}")
    return {p.stem: p for p in sorted(folder.glob("*.toml")) if not p.name.startswith(".")}


@dataclass(frozen=True)
class PackSelection:
    """The canary files that ``[canaries] packs`` and ``exclude`` select, in pack and name order."""

    files: tuple[Path, ...]

    @classmethod
    def resolve(cls, packs: Sequence[str], exclude: Sequence[str] = ()) -> PackSelection:
        chosen: dict[str, Path] = {}
        for entry in packs:
            pack, _, one = entry.partition(".")
            files = pack_files(pack)
            if not one:
                chosen.update(files)
                continue
            if one not in files:
                near = get_close_matches(one, list(files), n=1)
                hint = f"did you mean {pack}.{near[0]}? " if near else ""
                raise ConfigError(
                    f"canaries.packs: pack {pack!r} has no canary {one!r}; {hint}"
                    f"its canaries: {', '.join(files)}"
                )
            chosen[one] = files[one]
        for name in exclude:
            if name not in chosen:
                raise ConfigError(
                    f"canaries.exclude: {name!r} is not a canary of the packs enabled "
                    f"({', '.join(packs) or 'none'}); remove it from exclude"
                )
            del chosen[name]
        return cls(files=tuple(chosen.values()))
