"""Answers to a pending "Did you mean: 1) ... 2) ..." question, in the pure engine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow
from tests.conftest import FLOWS
from tests.test_engine import Chat


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


def test_a_number_names_the_offer_the_customer_saw_even_if_an_faq_was_removed(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("1")
    chat.say("shipping")
    assert chat.session is not None and len(chat.session.pending) == 2
    second = retail.flow.faq(chat.session.pending[1])
    assert second is not None
    # A hot reload removed the first FAQ offered: "1" still means the first
    # line the customer was shown, which no longer exists, never the second.
    chat.session = replace(chat.session, pending=("removed-faq", second.faq_id))
    assert chat.say("1") != second.answer
    assert chat.last.decision.kind != "picked"
    chat.session = replace(chat.session, pending=("removed-faq", second.faq_id))
    assert chat.say("2") == second.answer
    assert chat.last.decision.kind == "picked"
