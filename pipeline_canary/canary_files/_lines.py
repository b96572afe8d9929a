"""Where a key is in a TOML file: ``tomllib`` gives values without positions, so errors about a key
(``checks[1].max``) are placed by scanning the text for it within its table.

The scanner follows what a canary file uses: ``[table]`` and ``[[array]]`` headers, ``key = value``
lines with bare, quoted and dotted keys, multi-line strings and multi-line arrays or inline tables
(whose inner keys are placed at the line of the key that opens them). The text has already been
parsed by ``tomllib``, so it is valid TOML; anything the scanner cannot place falls back to the line
of the nearest enclosing key or table, else line 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _keys(text: str) -> tuple[list[str], str] | None:
    """The dotted key at the start of ``text`` and the rest after it, or None."""
    parts: list[str] = []
    i = 0
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] in "\"'":
            quote = text[i]
            end = i + 1
            while end < len(text) and text[end] != quote:
                end += 2 if quote == '"' and text[end] == "\\" else 1
            if end >= len(text):
                return None
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if match is None:
                return None
            parts.append(match.group())
            i = match.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, text[i:]


def _depth_change(text: str, in_string: str | None) -> tuple[int, str | None]:
    """Brackets opened minus closed in ``text`` outside strings and comments; the string still open."""
    depth, i = 0, 0
    while i < len(text):
        if in_string is not None:
            if text.startswith(in_string, i):
                i += len(in_string)
                in_string = None
                continue
            i += 2 if in_string[0] == '"' and text[i] == "\\" else 1
            continue
        char = text[i]
        if char == "#":
            break
        for quote in ('"""', "'''", '"', "'"):
            if text.startswith(quote, i):
                in_string = quote
                i += len(quote)
                break
        else:
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            i += 1
    if in_string in ('"', "'"):
        in_string = None  # a single-line string cannot span lines (tomllib accepted the file)
    return depth, in_string


def key_lines(text: str) -> dict[Path, int]:
    """Every table and key of the file with the (1-based) line it is defined on."""
    lines: dict[Path, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: Path = ()
    depth, in_string = 0, None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None or depth > 0:
            change, in_string = _depth_change(line, in_string)
            depth = max(0, depth + change)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            parsed = _keys(stripped[2:])
            if parsed:
                name = tuple(parsed[0])
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = (*name, index)
                lines.setdefault(name, number)
                lines[table] = number
            continue
        if stripped.startswith("["):
            parsed = _keys(stripped[1:])
            if parsed:
                table = tuple(parsed[0])
                lines.setdefault(table, number)
            continue
        parsed = _keys(stripped)
        if parsed is None or not parsed[1].startswith("="):
            continue
        path = (*table, *parsed[0])
        for end in range(len(table) + 1, len(path) + 1):
            lines.setdefault(path[:end], number)
        change, in_string = _depth_change(parsed[1][1:], None)
        depth = max(0, change)
    return lines


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int:
    """The line of ``path``, else of its nearest enclosing key or table that is in the file, else 1."""
    key = tuple(path)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return 1


def dotted(path: Sequence[str | int]) -> str:
    """``('checks', 1, 'max')`` -> ``checks[1].max``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
