"""The documented exit codes of every ``canary`` command."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_canary.results import RunResult


class ExitCode(IntEnum):
    OK = 0  # all passed (warnings and skips allowed)
    FAILED = 1  # at least one check failed
    USAGE = 2  # usage or configuration error
    ERRORED = 3  # something could not run and nothing failed

    @classmethod
    def for_run(cls, result: RunResult) -> ExitCode:
        if result.has_failures:
            return cls.FAILED
        if result.has_errors:
            return cls.ERRORED
        return cls.OK
