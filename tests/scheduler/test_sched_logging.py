"""JSON log lines carry a Cloud Logging severity, the message, the time and the run's fields."""

from __future__ import annotations

import io
import json
import logging

import pytest

from pipeline_canary.scheduler.logging_json import JsonFormatter, configure, severity


@pytest.mark.parametrize(
    ("level", "expected"),
    [(logging.DEBUG, "DEBUG"), (logging.INFO, "INFO"), (logging.WARNING, "WARNING"), (logging.ERROR, "ERROR"),
     (logging.CRITICAL, "CRITICAL"), (25, "INFO"), (5, "DEFAULT")],
)  # fmt: skip
def test_levels_map_to_cloud_logging_severities(level: int, expected: str) -> None:
    assert severity(level) == expected


def test_run_line_keeps_extra_fields() -> None:
    record = logging.LogRecord("pipeline_canary.x", logging.INFO, __file__, 1, "checkpoint %s", ("done",), None)
    for key, value in {"checkpoint": "prediction_gap", "outcome": "passed", "duration_s": 0.12,
                       "bytes_processed": 1024}.items():  # fmt: skip
        setattr(record, key, value)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["severity"] == "INFO" and entry["message"] == "checkpoint done"
    assert entry["time"].endswith("+00:00")
    assert {k: entry[k] for k in ("checkpoint", "outcome", "duration_s", "bytes_processed")} == {
        "checkpoint": "prediction_gap", "outcome": "passed", "duration_s": 0.12, "bytes_processed": 1024,
    }  # fmt: skip
    assert "args" not in entry and "levelname" not in entry


def test_exceptions_become_a_stack_trace_on_one_line() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    noisy = {name: logging.getLogger(name).level for name in ("apscheduler", "great_expectations", "urllib3", "google")}
    handler = configure(logging.INFO, stream)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("pipeline_canary.test").exception("it broke")
        logging.getLogger("apscheduler.scheduler").info("chatter that is dropped")
    finally:  # configure() rewires global logging: leave it as later tests (caplog) expect it
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for old in saved[1]:
            root.addHandler(old)
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["severity"] == "ERROR" and "ValueError: boom" in entry["stack_trace"]
