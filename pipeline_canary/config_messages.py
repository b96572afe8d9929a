"""Configuration errors in words a user can act on: which key, what is wrong, where the value came from.

pydantic's errors are turned into :class:`Problem` s (a dotted key and a sentence): an unknown key
suggests the nearest valid one (``difflib``), a rule about a whole section reads as a sentence
about that section rather than ``section.: Value error, ...``, and :func:`describe` says for each
one whether the file or a ``CANARY_*`` environment variable set it, naming the variable (and not
the file) when the value came from the environment.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from pipeline_canary.errors import ConfigError


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``key`` (dotted, ``""`` for the whole configuration) and what is wrong with it."""

    key: str
    text: str
    kind: str = "value"  # "value" (one key's value), "unknown" (a key no section has), "section" (a rule across keys)
    suggestion: str | None = None  # unknown: the nearest valid key

    def action(self) -> str:
        """What to change, in a few words: ``rename 'a' to 'b'``, ``correct warehouse.path``."""
        if self.kind == "unknown":
            return f"rename '{self.key}' to '{self.suggestion}'" if self.suggestion else f"remove '{self.key}'"
        if self.kind == "section":
            return f"correct [{self.key}]" if self.key else "correct the configuration"
        return f"correct {self.key}"

    def line(self) -> str:
        if self.kind == "unknown":
            return f"unknown key '{self.key}'{self.text}"
        if self.kind == "section":
            return f"In [{self.key}], {self.text}." if self.key else f"{self.text[:1].upper()}{self.text[1:]}."
        return f"{self.key}: {self.text}"


class SettingsError(ConfigError):
    """A canary's settings are invalid; ``problems`` keep each key so the caller can say where it was set."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.line() for p in problems))
        self.problems = problems


def problems(exc: ValidationError, model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[Problem]:
    """The errors of validating ``model`` (found at ``prefix`` in the configuration) as problems."""
    found = []
    for error in exc.errors():
        loc = tuple(str(p) for p in error["loc"])
        key = ".".join(prefix + loc)
        message = _sentence(str(error["msg"]))
        if error["type"] == "extra_forbidden":
            hint, nearest = _suggestion(model, prefix, loc)
            found.append(Problem(key, hint, "unknown", nearest))
        elif _is_section(model, loc):
            found.append(Problem(key, message, "section"))
        else:
            found.append(Problem(key, f"{message} (got {error.get('input')!r})"))
    return found


def describe(found: Iterable[Problem], where: str | None, file_data: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The error message: a header naming where the problems came from, one line each.

    ``where`` is the file (None: no file); ``file_data`` what it says; ``env`` dotted key -> variable.
    """
    lines, sources = [], set()
    for problem in found:
        variables = _variables(problem, env)
        in_file = where is not None and _in_file(file_data, problem.key)
        sources |= ({"env"} if variables else set()) | ({"file"} if in_file or not variables else set())
        origin = f" (from environment variable {', '.join(variables)})" if variables else ""
        line = problem.line()
        lines.append(f"  {line[:-1]}{origin}." if line.endswith(".") else f"  {line}{origin}")
    if sources == {"env"}:
        header = "invalid configuration from the environment:"
    elif "env" in sources:
        header = f"invalid configuration in {where} and the environment:"
    else:
        header = f"invalid configuration in {where or 'the built-in defaults'}:"
    return "\n".join([header, *lines])


def fix_for(found: Iterable[Problem], where: str | None, file_data: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """What to do, naming the file and the variables: ``in canary.toml: rename ...; change or unset CANARY_X``."""
    in_file: list[str] = []
    variables: list[str] = []
    for problem in found:
        named = _variables(problem, env)
        variables += [v for v in named if v not in variables]
        if where is not None and (_in_file(file_data, problem.key) or not named):
            in_file.append(problem.action())
    steps = [f"in {where}: {', '.join(dict.fromkeys(in_file))}"] if in_file else []
    if variables:
        steps.append(f"change or unset {', '.join(variables)}")
    return "; ".join(steps) or "correct the values named above"


def _sentence(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _variables(problem: Problem, env: Mapping[str, str]) -> list[str]:
    if problem.key in env:
        return [env[problem.key]]
    if problem.kind == "section":  # a rule across the section's keys: any of them set from the environment
        prefix = f"{problem.key}." if problem.key else ""
        return sorted(var for key, var in env.items() if key.startswith(prefix))
    return []


def _in_file(data: Mapping[str, Any], key: str) -> bool:
    node: Any = data
    for part in key.split(".") if key else []:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _suggestion(model: type[BaseModel], prefix: tuple[str, ...], loc: tuple[str, ...]) -> tuple[str, str | None]:
    """`` (did you mean 'warehouse.path'?)`` and that key, or the valid keys of the section when none is close."""
    valid = _keys_at(model, loc[:-1])
    if not valid:
        return " (check the spelling; see README for the keys)", None
    close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.6)
    if close:
        nearest = ".".join((*prefix, *loc[:-1], close[0]))
        return f" (did you mean '{nearest}'?)", nearest
    return f" (valid keys here: {', '.join(sorted(valid))})", None


def _keys_at(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    target = _walk(model, loc)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return [name for name in target.model_fields if name != "source"]
    return []


def _is_section(model: type[BaseModel], loc: tuple[str, ...]) -> bool:
    target = _walk(model, loc)
    return isinstance(target, type) and issubclass(target, BaseModel)


def _walk(model: type[BaseModel], loc: tuple[str, ...]) -> Any:
    """The type found at ``loc`` below ``model`` (a model, a leaf type, or None when the path leaves it)."""
    current: Any = model
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = _unwrap(field.annotation)
        elif typing.get_origin(current) is dict:  # a table of named entries: the part is a name
            current = _unwrap(typing.get_args(current)[1])
        else:
            return None
    return current


def _unwrap(annotation: Any) -> Any:
    """``Optional[X]`` and ``Annotated[X, ...]`` -> ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
