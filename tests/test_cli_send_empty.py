"""``send`` (and the sender settings ``broadcast`` and ``subscribers`` share) with empty values.

An empty value (``--state "$STATE"`` of an unset variable) was dropped as if
it had not been given: ``send --state ''`` texted the flow's start state to a
real customer, ``--from ''`` sent from whichever number. Each is now refused
before any request, with exit code 2. Port 9 on loopback: nothing answers, so
a case that got as far as a request would fail differently (exit 1).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def cli(*argv: str) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TEXTDESK_")}
    environ.update({"PYTHONPATH": str(ROOT), "TEXTDESK_API_URL": "http://127.0.0.1:9",
                    "TEXTDESK_API_TOKEN": "t" * 32})
    done = subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=ROOT, env=environ,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["send", ""], "textdesk send: error: NUMBER should be the customer's phone number, like +15555550123, "
                       "got ''"),
        (["send", "+15550001111", "--state", " "], "textdesk send: error: --state should be a state of the flow, "
                                                   "got ' '; leave it out for the flow's start"),
        (["send", "+15550001111", "--flow", ""], "textdesk send: error: --flow should be a flow's name, got ''; "
                                                 "leave it out for the flow answering --from"),
        (["send", "+15550001111", "--from", ""], "textdesk send: error: --from should be a business number, "
                                                 "got ''; leave it out for the flow's own"),
        (["send", "+15550001111", "--channel", ""], "textdesk send: error: --channel should be a carrier's name, "
                                                    "got ''; leave it out for the only one"),
        (["send", "+15550001111", "--region", ""], "textdesk send: error: --region should be a country code like "
                                                   "US, got ''; leave it out when numbers start with +"),
        (["broadcast", "--audience", "deals", "--text", "hi", "--from", ""],
         "textdesk broadcast: error: --from should be a business number, got ''; leave it out for the flow's own"),
        (["subscribers", "list", "deals", "--flow", ""],
         "textdesk subscribers: error: --flow should be a flow's name, got ''; leave it out for the flow "
         "answering --from"),
        # An empty AUDIENCE or NUMBER reached the server as '/api/audiences//subscribers'.
        (["subscribers", "list", ""], "textdesk subscribers: error: AUDIENCE should be an audience's name, like "
                                      "deals, got ''"),
        (["subscribers", "add", " ", "+15550001111", "--source", "x"],
         "textdesk subscribers: error: AUDIENCE should be an audience's name, like deals, got ' '"),
        (["subscribers", "remove", "deals", "+15550001111", ""],
         "textdesk subscribers: error: NUMBER should be a phone number, like +15555550123, got ''"),
        (["subscribers", "add", "deals", "", "--source", "x"],
         "textdesk subscribers: error: NUMBER should be a phone number, like +15555550123, got ''"),
    ],
)  # fmt: skip
def test_an_empty_value_is_refused_before_any_request(argv: list[str], message: str) -> None:
    assert cli(*argv) == (2, message + "\n")


def test_the_same_command_without_the_empty_value_gets_as_far_as_the_server() -> None:
    # Proof that the refusals above are about the values: this one tries port 9.
    code, err = cli("send", "+15550001111", "--state", "menu")
    assert code == 1 and "cannot reach the textdesk server at http://127.0.0.1:9" in err
