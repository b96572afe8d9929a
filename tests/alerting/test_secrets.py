"""No part of a Slack secret leaves through any error path: CLI output, tracebacks, JSON logs, the state.

Each client error is provoked with a secret-bearing token or webhook URL (characters no URL may hold,
a refused connection, a name that does not resolve, 500s, time-outs, invalid_auth, an unknown
webhook), through the real CLI in subprocesses (``-vv``: debug logs and tracebacks included) and
through ``canary serve``'s JSON log; every output, and the state file, is searched for the secret
and for each of its parts.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline_canary.config import CanaryConfig
from tests.cli.test_cli import canary
from tests.conftest import NOW
from tests.scheduler.conftest import subprocess_env
from tests.scheduler.test_sched_serve import SLOW, free_port, get, wait_for
from tests.servers.slack import SlackServer
from tests.servers.slack import running as slack_running

TOKEN = "xoxb-9090909090-8080808080-tokenPARTsecretABC"  # the one the local Slack accepts
REVOKED = "xoxb-7070707070-6060606060-revokedPARTsecretDEF"
HOOK_PATH = "/services/TSECRET9/BSECRET9/hookPART0secretXYZ"
UNKNOWN_HOOK_PATH = "/services/TOTHER77/BOTHER77/unknownHOOKsecretQRS"
RUN_AT = NOW.isoformat()
FAST = "[alerting]\nmax_attempts = 2\nbackoff_s = 0.01\ntimeout_s = 1\n"


def fragments(secret: str) -> set[str]:
    """The secret, a URL's path, and every run of letters and digits of 6 or more (as redaction promises)."""
    found = {secret}
    if "://" in secret:
        found.add(urlsplit(secret).path)
    found |= {run for run in re.findall(r"[A-Za-z0-9]+", secret) if len(run) >= 6 and run not in ("services",)}
    return found


def closed_port() -> int:
    return free_port()  # bound, then released: nothing listens there


@dataclass
class Case:
    name: str
    env: Callable[[SlackServer], dict[str, str]]
    setup: Callable[[SlackServer], None] = lambda slack: None
    more: tuple[str, ...] = ()  # commands beyond `alerts test` and `alerts flush`: run, status, doctor


def _token(api: Callable[[SlackServer], str], token: str = TOKEN) -> Callable[[SlackServer], dict[str, str]]:
    return lambda slack: {"CANARY_SLACK_TOKEN": token, "CANARY_SLACK_API_URL": api(slack)}


def _hook(url: Callable[[SlackServer], str]) -> Callable[[SlackServer], dict[str, str]]:
    return lambda slack: {"CANARY_SLACK_WEBHOOK_URL": url(slack)}


def _hang(slack: SlackServer) -> None:
    slack.fail("hang", times=50, seconds=3)  # past the 1 s client time-out


CASES = [
    Case("token: connection refused", _token(lambda s: f"http://127.0.0.1:{closed_port()}/api/"),
         more=("run", "doctor")),
    Case("token: name does not resolve", _token(lambda s: "https://canary-nowhere.invalid/api/"),
         more=("run", "doctor")),
    Case("token: 500s", _token(lambda s: s.api_url), lambda s: s.fail_posts("500"), more=("run",)),
    Case("token: time-outs", _token(lambda s: s.api_url), _hang),
    Case("token: invalid_auth", _token(lambda s: s.api_url, REVOKED), more=("run", "status", "doctor")),
    Case("webhook: a space in the URL", _hook(lambda s: s.url + HOOK_PATH.replace("PART0", "PART0 ")),
         more=("run", "doctor")),
    Case("webhook: a control character", _hook(lambda s: s.url + HOOK_PATH.replace("PART0", "PART0\x07"))),
    Case("webhook: a line break inside", _hook(lambda s: s.url + HOOK_PATH.replace("secret", "sec\nret"))),
    Case("webhook: connection refused", _hook(lambda s: f"http://127.0.0.1:{closed_port()}{HOOK_PATH}"), more=("run",)),
    Case("webhook: 500s", _hook(lambda s: s.webhook_url), lambda s: s.fail_posts("500")),
    Case("webhook: time-outs", _hook(lambda s: s.webhook_url), _hang),
    Case("webhook: 401 invalid_auth", _hook(lambda s: s.webhook_url), lambda s: s.refuse("invalid_auth", 401),
         more=("run", "status", "doctor")),
    Case("webhook: unknown (404 no_service)", _hook(lambda s: s.url + UNKNOWN_HOOK_PATH)),
]  # fmt: skip


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_running(token=TOKEN, webhook_path=HOOK_PATH) as server:
        yield server


def _clear_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CANARY_SLACK_TOKEN", "CANARY_SLACK_WEBHOOK_URL", "CANARY_SLACK_API_URL", "CANARY_SLACK_CHANNEL"):
        monkeypatch.delenv(name, raising=False)


def _all_fragments(env: dict[str, str]) -> set[str]:
    found = set()
    for name in ("CANARY_SLACK_TOKEN", "CANARY_SLACK_WEBHOOK_URL"):
        if name in env:
            found |= fragments(env[name])
    return found | fragments(TOKEN) | fragments(REVOKED) | fragments(HOOK_PATH) | fragments(UNKNOWN_HOOK_PATH)


def _leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_cli_output_or_state_holds_any_part_of_a_secret(
    case: Case,
    slack: SlackServer,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = make_config(seeded("incident"), extra=FAST)
    _clear_env(monkeypatch)
    env = case.env(slack)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    case.setup(slack)
    secrets = _all_fragments(env)
    path = str(config.source)
    every = {
        "run": ("run", "prediction_gap", "--no-docs", "--now", RUN_AT),
        "test": ("alerts", "test"),
        "flush": ("alerts", "flush"),
        "status": ("alerts", "status"),
        "doctor": ("doctor",),
    }
    commands = [("-vv", *every[name], "--config", path) for name in every if name in {"test", "flush", *case.more}]
    bad_url = "webhook: a" in case.name
    for args in commands:
        proc = canary(*args, cwd=tmp_path)
        output = proc.stdout + proc.stderr
        assert not _leaks(output, secrets), (case.name, args, _leaks(output, secrets), output[-3000:])
        if bad_url:  # refused at load, naming the variable
            assert proc.returncode == 2 and "CANARY_SLACK_WEBHOOK_URL contains a space, a line break" in output
        else:
            assert proc.returncode in (0, 1, 2, 3), output[-3000:]
    if bad_url:
        return
    assert slack.messages == []  # nothing got through
    state = config.state.path.read_bytes() + b"".join(p.read_bytes() for p in config.state.path.parent.glob("*-wal"))
    assert not _leaks(state.decode("latin-1"), secrets)
    with sqlite3.connect(config.state.path) as conn:
        statuses = {r[0] for r in conn.execute("SELECT status FROM alert_outbox")}
    assert statuses and "rejected" not in statuses  # the alerts wait for Slack (or went unconfirmed): none dropped


@pytest.mark.parametrize("mode", ["token", "webhook"])
def test_the_service_json_log_holds_no_part_of_a_secret(
    mode: str, slack: SlackServer, seeded: Callable[[str], Path], tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{seeded("incident")}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\n{FAST}'
        "[schedule]\ninterval_minutes = 0.05\nshutdown_grace_s = 20\n"
        + "".join(f"checkpoints.{n} = {{ enabled = false }}\n"
                  for n in ("feature_contamination", "orphaned_staging_tables", "schema_parity")),
        encoding="utf-8",
    )  # fmt: skip
    if mode == "token":
        secret_env = {"CANARY_SLACK_TOKEN": REVOKED, "CANARY_SLACK_API_URL": slack.api_url}
    else:
        secret_env = {"CANARY_SLACK_WEBHOOK_URL": slack.webhook_url}
        slack.refuse("invalid_auth", 401)
    env = subprocess_env(**secret_env, SERVE_TEST_NOW=NOW.isoformat())
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", SLOW, "-vv", "serve", "--config", str(config), "--port", str(port)],
            cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: get(f"{base}/healthz")[0] == 200, 60, "/healthz", proc)
            answer = wait_for(lambda: json.loads(get(f"{base}/readyz")[1]).get("degraded"), 120, "the refusal", proc)
            assert "invalid_auth" in answer[0]
            slack.fail_posts("500")  # and then a Slack outage on top
            slack.refuse(None)
            if mode == "token":
                slack.token = REVOKED  # the service's token works again, but Slack answers 500s
            wait_for(lambda: any(c.status == 500 for c in slack.calls), 120, "a 500", proc)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log_path.read_text(encoding="utf-8")
    secrets = _all_fragments(secret_env)
    assert not _leaks(text, secrets), (_leaks(text, secrets), text[-3000:])
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    refusals = [e for e in lines if e["severity"] == "ERROR" and "Slack is refusing" in e["message"]]
    assert refusals and all(e["slack_refusal"] == "invalid_auth" for e in refusals)
