"""Read what the worker writes (contract, sample records, builder) and what the table holds.

Every bad input raises :class:`~pipeline_canary.errors.InputError` with a one-line message naming
the file and, where it can be known, the line.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline_canary.errors import InputError
from pipeline_canary.schema.infer import infer_records
from pipeline_canary.schema.model import MODES, Field, WorkerSchema, normalize_type

KNOWN_TYPES = frozenset(
    {
        "STRING", "BYTES", "INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC", "BOOL", "TIMESTAMP", "DATE",
        "TIME", "DATETIME", "GEOGRAPHY", "JSON", "RECORD", "INTERVAL", "RANGE",
    }
)  # fmt: skip
MAX_INPUT_BYTES = 16 * 2**20  # contracts, schemas and samples are far smaller; /dev/zero is not
MAX_RECORD_DEPTH = 15  # BigQuery's limit on nested RECORD levels
MAX_DEPTH = 4 * MAX_RECORD_DEPTH  # lists and objects: each RECORD level is an object and its fields list
SCHEMA_KEYS = frozenset(
    {"name", "type", "mode", "fields", "description", "policyTags", "maxLength", "precision", "scale",
     "defaultValueExpression", "collation", "roundingMode", "rangeElementType", "foreignTypeDefinition"}
)  # fmt: skip


def _read(path: str | Path) -> str:
    """The file's text, read in a bounded way: at most MAX_INPUT_BYTES (``/dev/zero`` is refused)."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB; give a schema or a sample of records")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _too_deep(where: str) -> InputError:
    return InputError(
        f"{where}: nested deeper than {MAX_DEPTH} levels (BigQuery allows {MAX_RECORD_DEPTH} levels of RECORD)"
    )


def _check_depth(data: Any, where: str) -> Any:
    """``data`` if its lists and objects nest at most MAX_DEPTH deep (checked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(where)
        stack.extend((child, depth + 1) for child in children)
    return data


def _json(text: str, where: str) -> Any:
    try:
        return _check_depth(json.loads(text), where)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where} line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise _too_deep(where) from None


def _yaml(text: str, where: str) -> Any:
    import yaml  # only contracts written in YAML pay for this import

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_yaml_events(yaml.parse(text, Loader=loader), where)
        return yaml.load(text, Loader=loader)  # a safe loader; aliases were refused above
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}{line}: not valid YAML: {problem}") from None


def _check_yaml_events(events: Iterator[Any], where: str) -> None:
    """Refuse aliases (``*name``: an alias bomb expands to gigabytes) and deep nesting, before loading."""
    import yaml

    depth = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            line = f" line {event.start_mark.line + 1}" if event.start_mark is not None else ""
            raise InputError(
                f"{where}{line}: YAML aliases (*{event.anchor}) are not allowed in a contract; write the fields out"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(where)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _Where:
    """``FILE line N`` for a field, computed only when an error message needs it."""

    def __init__(self, where: str, text: str, name: str) -> None:
        self.where, self.text, self.name = where, text, name

    def __str__(self) -> str:
        return f"{self.where}{_line_of(self.text, self.name)}"


def _line_of(text: str, name: str) -> str:
    """`` line N`` of the first mention of ``name`` as a key value, or '' when it cannot be found."""
    pattern = re.compile(r"""(["']?)name\1\s*:\s*["']?""" + re.escape(name) + r"""(["',\s}]|$)""")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            return f" line {number}"
    return ""


def parse_fields(data: Any, where: str, text: str = "") -> list[Field]:
    """Fields from BigQuery's schema shape: a list of ``{name, type, mode, fields}`` mappings.

    Also accepts ``{"fields": [...]}`` and ``{"schema": {"fields": [...]}}`` (``bq show`` of a table).
    """
    if isinstance(data, Mapping) and isinstance(data.get("schema"), Mapping):
        data = data["schema"]
    if isinstance(data, Mapping) and "fields" in data and "name" not in data:
        data = data["fields"]
    if not isinstance(data, list):
        raise InputError(f"{where}: expected a list of fields ({{name, type, mode, fields}}), got {_kind(data)}")
    return _fields(data, where, text, "")


def _fields(items: list[Any], where: str, text: str, prefix: str) -> list[Field]:
    out: list[Field] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if isinstance(item, Field):
            out.append(item)
            continue
        label = f"{prefix}[{index}]" if not prefix else f"{prefix}.fields[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{where}: field {label} must be a mapping with name and type, got {_kind(item)}")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{where}: field {label} has no name")
        path = f"{prefix}.{name}" if prefix else name
        at = _Where(where, text, name)  # the line is looked up only for an error message
        if name.lower() in seen:
            raise InputError(f"{at}: field {path} is listed twice (BigQuery names are case-insensitive)")
        seen.add(name.lower())
        type_ = item.get("type", "STRING")
        if not isinstance(type_, str) or normalize_type(type_) not in KNOWN_TYPES:
            raise InputError(f"{at}: field {path} has unknown type {type_!r}")
        mode = str(item.get("mode") or "NULLABLE").upper()
        if mode not in MODES:
            raise InputError(f"{at}: field {path} has unknown mode {mode!r} (use {', '.join(MODES)})")
        children = item.get("fields") or []
        if not isinstance(children, list):
            raise InputError(f"{at}: fields of {path} must be a list, got {_kind(children)}")
        if normalize_type(type_) == "RECORD" and not children:
            raise InputError(f"{at}: field {path} is a RECORD without fields")
        sub = tuple(_fields(children, where, text, path))
        out.append(Field(name=name, type=type_.upper(), mode=mode, fields=sub))
    return out


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def load_contract(path: str | Path) -> list[Field]:
    """A worker contract: BigQuery's schema shape as JSON, or the same shape as YAML."""
    text = _read(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        data = _yaml(text, str(path))
    elif suffix == ".json" or text.lstrip().startswith(("[", "{")):
        data = _json(text, str(path))
    else:
        data = _yaml(text, str(path))
    return parse_fields(data, str(path), text)


def load_schema_file(path: str | Path) -> list[Field]:
    """The JSON ``bq show --schema --format=prettyjson PROJECT:DATASET.TABLE`` prints."""
    text = _read(path)
    return parse_fields(_json(text, str(path)), str(path), text)


def _records(text: str, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if text.lstrip().startswith("["):
        data = _json(text, where)
        for index, record in enumerate(data, 1):
            if not isinstance(record, Mapping):
                raise InputError(f"{where} record {index}: expected a JSON object, got {_kind(record)}")
            yield f"record {index}", record
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = _check_depth(json.loads(line), f"{where} line {number}")
        except json.JSONDecodeError as exc:
            raise InputError(f"{where} line {number} column {exc.colno}: not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise _too_deep(f"{where} line {number}") from None
        if not isinstance(record, Mapping):
            raise InputError(f"{where} line {number}: expected a JSON object, got {_kind(record)}")
        yield f"line {number}", record


def load_records(path: str | Path) -> WorkerSchema:
    """Sample worker records, one JSON object per line (or a JSON array); types are inferred."""
    text = _read(path)
    schema = infer_records(_records(text, str(path)), source=str(path))
    if not schema.record_count:
        raise InputError(f"{path}: no records (expected one JSON object per line)")
    return schema


def load_builder(spec: str) -> WorkerSchema:
    """Import ``module:function`` and call it with no arguments.

    It returns either a contract (a list of :class:`Field` or of schema mappings
    ``{name, type, mode, fields}``) or sample records (a list of record dicts).
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"--builder {spec!r}: expected module:function, e.g. mypkg.worker:sample_records")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an import error in user code is bad input, not a crash
        raise InputError(f"--builder {spec}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise InputError(f"--builder {spec}: {module_name} has no callable {attr}")
    try:
        result = target()
    except Exception as exc:
        raise InputError(f"--builder {spec}: the call raised {type(exc).__name__}: {exc}") from None
    if isinstance(result, Mapping):
        result = [result]
    if not isinstance(result, list | tuple) or not result:
        raise InputError(f"--builder {spec}: expected a non-empty list of fields or records, got {_kind(result)}")
    where = f"--builder {spec}"
    if all(isinstance(item, Field) or _is_schema_entry(item) for item in result):
        return WorkerSchema(fields=tuple(_fields(list(result), where, "", "")), source=where)
    if not all(isinstance(item, Mapping) for item in result):
        raise InputError(f"{where}: items must be all Field/schema mappings or all record dicts")
    schema = infer_records(((f"record {i}", r) for i, r in enumerate(result, 1)), source=where)
    return schema


def _is_schema_entry(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and "name" in item
        and isinstance(item.get("type"), str)
        and set(item) <= SCHEMA_KEYS
        and normalize_type(item["type"]) in KNOWN_TYPES
    )


def contract_schema(path: str | Path) -> WorkerSchema:
    """:func:`load_contract` wrapped as a :class:`WorkerSchema`."""
    return WorkerSchema(fields=tuple(load_contract(path)), source=str(path))
