"""A job execution killed after Slack took its post, before the state was uploaded, posts nothing twice.

The gcs backend uploads the state with each post's attempt before the post goes out
(:func:`pipeline_canary.state.sync.save_now`), so the next execution knows the post may be in Slack
and looks it up instead of posting it again.
"""

from __future__ import annotations

from tests.servers.slack import SlackServer
from tests.state.test_job_mode import GUARD_S, START, STEP, Job, job  # noqa: F401 - job is a fixture


def test_an_execution_killed_after_its_post_reached_slack_does_not_post_it_again(job: Job, slack: SlackServer) -> None:  # noqa: F811
    slack.fail("store_then_hang", seconds=GUARD_S)  # Slack stores the parent and never answers
    hung = {"CANARY_ALERTING__TIMEOUT_S": str(GUARD_S)}
    stuck = job.start("incident", START, env=hung, lock_ttl_s="10")
    assert slack.stored.wait(GUARD_S), "the execution never reached Slack"
    stuck.kill()  # the task timeout: no answer handled, no final upload, no lock release
    stuck.wait(timeout=GUARD_S)
    slack.release.set()
    assert len(slack.parents()) == 1

    code, _, err = job.run("incident", START + STEP)  # waits for the dead execution's lock to expire
    assert code == 1, err
    assert len(slack.parents()) == 1 and len(slack.calls_to("chat.postMessage")) == 1
    assert slack.calls_to("conversations.history")  # it looked the post up and found it
    [parent] = slack.parents()
    assert parent.edits  # the second execution edited the parent the killed one had posted
