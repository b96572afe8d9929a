"""Human output for run results: a compact table that reads well in a terminal and in CI logs."""

from __future__ import annotations

import json
from typing import Any

import click

from pipeline_canary.evidence import what_broke
from pipeline_canary.results import CheckpointResult, Outcome, RunResult

TERMINAL_LINES = 5  # evidence lines per table under a checkpoint that did not pass

_COLORS = {
    Outcome.PASSED: "green",
    Outcome.WARNED: "yellow",
    Outcome.FAILED: "red",
    Outcome.ERRORED: "magenta",
    Outcome.SKIPPED: "blue",
}


_NOW_SOURCE = {
    "given": "--now",
    "wall_clock": "wall clock",
    "end_of_game_day": "end of the game day",
}


def badge(outcome: Outcome, *, pending: bool = False) -> str:
    """The outcome in colour; a pending skip (data not due yet) reads PENDING."""
    label = "pending" if pending and outcome is Outcome.SKIPPED else outcome.value
    return click.style(f"{label.upper():<7}", fg=_COLORS[outcome], bold=True)


def print_run(result: RunResult) -> None:
    source = _NOW_SOURCE.get(result.now_source, result.now_source)
    click.echo(f"as of {result.as_of.isoformat()} · now {result.now.isoformat(timespec='seconds')} ({source})")
    if result.replay:
        click.echo(
            f"replay: {result.as_of.isoformat()} is not the current game day; "
            "recorded in history, live incidents untouched (--alert to alert anyway)"
        )
    width = max((len(c.name) for c in result.checkpoints), default=10)
    for cp in result.checkpoints:
        click.echo(f"{badge(cp.outcome, pending=cp.pending)} {cp.name:<{width}}  {cp.message}")
        for check in cp.checks:
            if check.outcome is not Outcome.PASSED:
                click.echo(f"        └ {check.name}: {check.message}")
        for line in evidence_lines(cp):
            click.echo(f"          {line}")
    counts: dict[str, int] = {}
    for cp in result.checkpoints:
        label = "pending" if cp.pending else cp.outcome.value
        counts[label] = counts.get(label, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    click.echo(f"{badge(result.outcome)} {summary} in {result.duration_s:.2f}s")


def evidence_lines(cp: CheckpointResult, limit: int = TERMINAL_LINES) -> list[str]:
    """What broke, by name: the top lines of the evidence of a warned, failed or errored checkpoint."""
    if cp.outcome not in (Outcome.WARNED, Outcome.FAILED, Outcome.ERRORED):
        return []
    out = []
    for table in what_broke(cp, limit):
        out.append(f"{table.title} ({table.total}):")
        out += [f"  {line}" for line in table.lines]
        if table.more:
            kept = cp.evidence[table.table]
            listed = f"the first {len(kept)}" if kept.truncated else "them all"
            out.append(f"  … and {table.more} more (--json lists {listed})")
    return out


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))
