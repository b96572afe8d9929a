"""Block Kit payloads for incident messages, each section kept under Slack's 3,000-character limit.

A parent message says what broke in the pipeline's words, the observed value against the
threshold, a short evidence summary, the runbook and a link to the run's Data Docs page; its edits
carry "failing since", runs and the latest value. Replies are short. Every payload has ``text``
(notifications, webhook fallbacks) next to ``blocks``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pipeline_canary.alerting.incidents import BLIND, Incident
from pipeline_canary.results import CheckpointResult

if TYPE_CHECKING:
    from pipeline_canary.catalogue import Catalogue

SECTION_LIMIT = 2900  # Slack rejects section text of 3,000 characters or more
HEADER_LIMIT = 150
BLOCKS_LIMIT = 50  # blocks per message
REPEAT_NOTE = "(may repeat an earlier message that Slack did not confirm)"
_ICON = {"critical": "🔴", "warning": "🟠", "resolved": "✅", "closed": "⏹️", "blind": "🙈"}


@dataclass(frozen=True)
class CanaryInfo:
    """What the canary protects, in the pipeline's words (from the canary registry)."""

    title: str
    description: str
    runbook: str

    @classmethod
    def lookup(cls, checkpoint: str, catalogue: Catalogue | None = None) -> CanaryInfo:
        """From the configuration's catalogue (canary files too); without one, the built-in canaries."""
        from pipeline_canary.errors import UnknownCheckpointError

        source: Any = catalogue
        if source is None:
            from pipeline_canary.canaries import registry as source
        try:
            canary = source.get(checkpoint)
        except UnknownCheckpointError:
            return cls(title=checkpoint, description="", runbook="")
        return cls(title=canary.title, description=canary.description, runbook=canary.runbook)


def docs_url(docs_path: str | None, base_url: str | None, root: Path | None = None) -> str | None:
    """A link to a Data Docs page: under ``base_url`` when published, else the local file.

    ``canary docs publish`` uploads the whole site folder ``root`` (``docs_root(config)``, the
    ``data_docs/`` folder holding the dashboard's ``index.html`` and GX's ``local_site/``) below the
    prefix, so the published page is ``base_url`` + the page's path relative to ``root``, e.g.
    ``https://storage.googleapis.com/BUCKET/canary/local_site/validations/...``. A page outside
    ``root`` (another site folder) keeps its path from ``local_site/`` on.
    """
    if not docs_path:
        return None
    if base_url:
        rel = _site_relative(docs_path, root)
        return base_url.rstrip("/") + "/" + quote("/".join(rel))
    return "file://" + quote(docs_path)


def _site_relative(docs_path: str, root: Path | None) -> tuple[str, ...]:
    if root is not None:
        page = Path(docs_path)
        for a, b in ((page, root), (page.resolve(), root.resolve())):
            try:
                return a.relative_to(b).parts
            except ValueError:
                continue
    parts = PurePosixPath(docs_path).parts
    if "local_site" in parts:
        return parts[parts.index("local_site") :]
    if "data_docs" in parts:
        return parts[parts.index("data_docs") + 1 :]
    return parts[-1:]


def fit(lines: list[str], limit: int = SECTION_LIMIT, more: str = "") -> str:
    """Join lines, cutting whole lines with "+N more" so the result stays under ``limit``."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for i, line in enumerate(lines):
        tail = f"\n… +{len(lines) - i} more{more}"
        if len("\n".join([*kept, line])) + len(tail) + 20 > limit:
            return "\n".join(kept) + f"\n… +{len(lines) - i} more{more}"
        kept.append(line)
    return text[:limit]  # pragma: no cover - unreachable: the loop returns first


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _num(value: float | None) -> str:
    if value is None:
        return "NULL"
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def esc(text: str) -> str:
    """Slack mrkdwn control characters in data (thresholds such as "<= 0", evidence values)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def evidence_lines(result: CheckpointResult | None, rows: int, link: str | None, check: str | None = None) -> str:
    """A short summary of the evidence: the checkpoint's own sentence and the first lines of what broke.

    The tables that explain ``check`` (else every check that did not pass), each line naming the
    game, column or table; "+N more" counts every row found, not only those the result kept.
    """
    from pipeline_canary.evidence import table_lines, what_broke

    if result is None:
        return ""
    lines = [esc(result.message)] if result.message else []
    more = f" (see <{link}|Data Docs>)" if link and link.startswith("http") else " (see Data Docs)"
    tables = what_broke(result, rows, check=check) if check and check != BLIND else []
    if not tables:
        tables = what_broke(result, rows)
    if not tables:  # nothing names what broke: show what the checkpoint saw
        tables = [table_lines(result.name, n, t, rows) for n, t in result.evidence.items() if t.total]
    for table in tables:
        lines.append(f"*{esc(table.title)}* ({table.total}):")
        lines.extend(f"• {esc(line)}" for line in table.lines)
        if table.more:
            lines.append(f"… +{table.more} more{more}")
    return fit(lines, more=more)


def title(incident: Incident, info: CanaryInfo) -> str:
    if incident.check == BLIND:
        return f"{info.title}: canary is blind ({incident.checkpoint} cannot run)"
    return f"{info.title}: {incident.check}"


def parent(
    incident: Incident,
    info: CanaryInfo,
    *,
    result: CheckpointResult | None = None,
    link: str | None = None,
    evidence_rows: int = 8,
) -> dict[str, Any]:
    """The parent message of an incident, as first posted and as edited on every run."""
    resolved = incident.status in ("resolved", "closed")
    closed = incident.status == "closed"
    icon = (
        _ICON[incident.status] if resolved else _ICON["blind"] if incident.check == BLIND else _ICON[incident.severity]
    )
    label = "ENDED UNRESOLVED" if closed else "RESOLVED" if resolved else incident.severity.upper()
    head = f"{icon} {label} · {title(incident, info)}"[:HEADER_LIMIT]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": head, "emoji": True}}]
    what = [info.description] if info.description else []
    what.append(f"_{esc(incident.message)}_" if incident.message else "")
    blocks.append(_section(fit([w for w in what if w])))
    if incident.check == BLIND:
        value_line = f"*Errored runs:* {incident.runs}"
    else:
        value_line = f"*Observed:* {_num(incident.last_value)}   *Threshold:* {esc(incident.threshold or '-')}"
    if closed:
        status = f"game day {incident.game_date} over at {_when(incident.resolved_at)}, never passed"
    elif resolved:
        status = f"resolved {_when(incident.resolved_at)}"
    else:
        warned = result is not None and any(
            c.name == incident.check and c.outcome.value == "warned" for c in result.checks
        )
        status = f"{'warning' if warned else 'failing'} since {_when(incident.first_failed_at)}"
    facts = [
        value_line,
        f"*Status:* {status}   *Runs:* {incident.runs}   *Latest:* {_when(incident.last_seen_at)}",
        f"*Checkpoint:* `{incident.checkpoint}`   *Check:* `{incident.check}`   *Severity:* {incident.severity}",
    ]
    blocks.append(_section("\n".join(facts)))
    evidence = "" if resolved else evidence_lines(result, evidence_rows, link, incident.check)
    if evidence:
        blocks.append(_section("*Evidence*\n" + evidence))
    if info.runbook and not resolved:
        blocks.append(_section(fit(["*Runbook:* " + info.runbook])))
    if link:
        target = f"<{link}|Data Docs for this run>" if link.startswith("http") else f"Data Docs: `{link}`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": target[:SECTION_LIMIT]}]})
    expected = f", expected {incident.threshold}" if incident.threshold and incident.check != BLIND else ""
    text = f"{label}: {title(incident, info)} (observed {_num(incident.last_value)}{expected}, {status})"
    return {"text": text[:SECTION_LIMIT], "blocks": blocks}


def reply(incident: Incident, info: CanaryInfo, reason: str, *, standalone: bool = False) -> dict[str, Any]:
    """A thread reply (or, in webhook mode, a standalone follow-up that names the incident)."""
    if incident.status == "closed":
        body = (
            f"{_ICON['closed']} Game day {incident.game_date} is over and this never passed "
            f"({incident.runs} failing runs, last value {_num(incident.last_value)}): closing it unresolved"
        )
    elif incident.status == "resolved":
        body = f"{_ICON['resolved']} Resolved at {_when(incident.resolved_at)} after {incident.runs} failing runs"
        if incident.check != BLIND:
            body += f" (last failing value {_num(incident.last_value)})"
    elif reason == "changed":
        body = f"📈 Value changed: {_num(incident.last_value)} (threshold {esc(incident.threshold or '-')})"
    else:
        body = (
            f"⏰ Still failing since {_when(incident.first_failed_at)}: {incident.runs} runs, "
            f"latest {_num(incident.last_value)}"
        )
    if standalone:
        body = f"*{title(incident, info)}* · {body}"
    return {"text": body[:SECTION_LIMIT], "blocks": [_section(body)]}


def marked_copy(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` marked as possibly repeating an earlier post that Slack took without answering."""
    blocks = list(payload.get("blocks") or [])
    if REPEAT_NOTE in str(blocks):
        return payload
    if len(blocks) < BLOCKS_LIMIT:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": REPEAT_NOTE}]})
    text = str(payload.get("text", ""))
    text = text[: SECTION_LIMIT - len(REPEAT_NOTE) - 1] + " " + REPEAT_NOTE
    return {**payload, "text": text, "blocks": blocks}


PLAIN_LIMIT = 1500


def plain(payload: dict[str, Any], code: str, *, edit: bool = False) -> dict[str, Any]:
    """``payload`` as short plain text (no blocks), for a message Slack rejected for its content.

    An edit sends an empty ``blocks`` list: without it Slack would keep the old blocks.
    """

    def text_of(body: dict[str, Any]) -> str:
        note = f"(shown as plain text: Slack rejected the full message: {code})"
        text = str(body.get("text") or "").replace("\x00", "")
        return text[: PLAIN_LIMIT - len(note) - 1] + " " + note

    out: dict[str, Any] = {"text": text_of(payload), "plain": True}
    if edit:
        out["blocks"] = []
    if isinstance(payload.get("standalone"), dict):
        out["standalone"] = {"text": text_of(payload["standalone"]), "plain": True}
    return out


def test_message(channel: str, now: dt.datetime) -> dict[str, Any]:
    text = f"🧪 pipeline-canary test message to {channel} at {_when(now)}: alerts can reach this channel."
    return {"text": text, "blocks": [_section(text)]}
