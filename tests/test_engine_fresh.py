"""New, idle and lost conversations: which restart wins when several apply."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.test_engine import Chat, tiny

FLOW = (
    "settings:\n  lost_state: help_desk\n  lost_notice: Things moved around!\n  idle_timeout: 30m\n"
    "  welcome_back: Welcome back!\n"
    "start: a\nstates:\n  a: {say: Start, final: true}\n  help_desk: {say: 'How can we help?', final: true}\n"
)


def test_an_idle_conversation_in_a_removed_state_starts_over_as_idle(tmp_path: Path) -> None:
    chat = Chat(tiny(FLOW, tmp_path))
    chat.say("x")
    assert chat.session is not None
    chat.session = replace(chat.session, state="gone")
    chat.now += 3 * 24 * 3600
    # Days later the customer is not mid-way through the removed step: the
    # conversation would have started over anyway, so no "moved around" notice.
    assert chat.say("hmm") == "Welcome back!\n\nStart"
    assert chat.last.decision.fresh == "expired"
    assert chat.session.state == "a"


def test_a_recent_conversation_in_a_removed_state_is_lost(tmp_path: Path) -> None:
    chat = Chat(tiny(FLOW, tmp_path))
    chat.say("x")
    assert chat.session is not None
    chat.session = replace(chat.session, state="gone")
    assert chat.say("hmm") == "Things moved around!\n\nHow can we help?"
    assert chat.last.decision.fresh == "lost"
