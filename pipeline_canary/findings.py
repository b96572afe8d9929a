"""One line of ``canary doctor``: what was checked, whether it holds, what was seen and the fix.

Doctor's own steps, the Slack probe (``alerting.probe``) and each canary's ``setup_notes`` all say
what they found in this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # ok, with a note worth acting on (``fix`` says what would make it better)
