"""A text that opens a step and already holds that step's answer is answered by the step.

Found texting the example flow: "order status AC-123456" picked the menu's
"Order status" and was asked "What's your order number?", the number it had
just given. Rasa's forms fill a slot from the message that starts them; a
person would look the order up. Each test drives the real engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow, load_flow_text
from bot.types import ConversationKey, Session
from tests.conftest import FLOWS

KEY = ConversationKey("test", "+15550003100", "+15555550100")


class Chat:
    def __init__(self, engine: FlowEngine) -> None:
        self.engine = engine
        self.session: Session | None = None
        self.now = 1000.0

    def say(self, text: str) -> str:
        outcome = self.engine.handle(KEY, self.session, text, self.now)
        self.session = outcome.session
        self.last = outcome
        self.now += 5
        return "\n\n".join(r.text for r in outcome.replies)

    @property
    def state(self) -> str:
        assert self.session is not None
        return self.session.state


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


@pytest.mark.parametrize("text", ["order status AC-123456", "ORDER STATUS ac 123456", "Order status: #123456"])
def test_the_order_number_in_the_text_that_opens_the_order_step_is_looked_up(retail: FlowEngine, text: str) -> None:
    chat = Chat(retail)
    chat.say("hi")
    reply = chat.say(text)
    assert chat.state == "order_found", chat.last.decision.explain()
    assert reply.startswith("Thanks! Order AC-123456 shipped"), reply
    assert "What's your order number" not in reply  # the step's question is not asked too
    assert chat.last.decision.kind == "pattern" and chat.last.decision.route_id == "order_ask/choice 1"
    assert chat.last.entered == ("order_ask", "order_found")
    assert chat.session is not None and chat.session.variables == {"order_number": "123456"}


def test_a_text_without_the_answer_is_still_asked(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("hi")
    assert chat.say("order status").startswith("Sure! What's your order number?")
    assert chat.state == "order_ask"
    assert chat.say("3").startswith("An order number is AC")  # "3" in the step is no order number


CARRY = (
    "start: menu\n"
    "states:\n"
    "  menu:\n"
    "    say: Reply 1 for a repair\n"
    "    choices:\n"
    "      - keywords: ['1']\n"
    "        option: repair status\n"
    "        go: ask\n"
    "      - pattern: '^R-(?P<ticket>\\d{4})$'\n"
    "        go: ask\n"
    "  ask:\n"
    "    say: Your ticket number?\n"
    "    choices:\n"
    "      - pattern: 'R-(?P<ticket>\\d{4})'\n"
    "        go: found\n"
    "  found:\n"
    "    say: Ticket {ticket} is ready.\n"
    "    choices:\n"
    "      - pattern: 'R-(?P<ticket>\\d{4})'\n"
    "        go: found\n"
    "    final: true\n"
)


def test_a_step_reads_the_text_that_opened_it_once_and_only_onward(tmp_path: Path) -> None:
    engine = FlowEngine(load_flow_text(CARRY, "carry.yaml", str(tmp_path)))
    chat = Chat(engine)
    chat.say("hello")
    # A fuzzy option carries the text into the step it opens.
    assert chat.say("repair status R-1234") == "Ticket 1234 is ready."
    assert chat.last.entered == ("ask", "found")
    chat.session = None
    chat.say("hello")
    assert chat.say("1") == "Your ticket number?"  # nothing to carry
    assert chat.say("R-2345") == "Ticket 2345 is ready."
    assert chat.last.entered == ("found",)  # "found" takes a number too, but stays: read once
    # So does a pattern that opened the step.
    chat.session = None
    chat.say("hello")
    assert chat.say("R-1111") == "Ticket 1111 is ready."
    assert chat.last.entered == ("ask", "found")
    assert chat.say("R-3456") == "Ticket 3456 is ready."
    assert chat.last.entered == ("found",)
