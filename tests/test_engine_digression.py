"""A menu option named in words mid-step leaves the step, as it would at the menu.

Found texting the example flow: after "3" (the order number's question),
"product demo" and "tlak to a person" got "An order number is AC followed by
6 digits" again and again; only MENU let the customer out. A person would
just switch. Menu numbers are not read so mid-step: a step may ask for a
number of its own. Each test drives the real engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow, load_flow_text
from tests.conftest import FLOWS
from tests.test_engine import Chat


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


@pytest.mark.parametrize(
    ("text", "state"),
    [("product demo", "demo"), ("prodcut demo", "demo"), ("tlak to a person", "agent"),
     ("Talk to a person pls", "agent"), ("store hours", "hours")],
)
def test_a_menu_option_in_words_leaves_the_order_step(retail: FlowEngine, text: str, state: str) -> None:
    chat = Chat(retail)
    chat.say("3")
    assert chat.session is not None and chat.session.state == "order_ask"
    chat.say(text)
    assert chat.session is not None and chat.session.state == state, (text, chat.last.decision.explain())
    assert chat.last.decision.state_from == "order_ask"


def test_a_menu_number_mid_step_is_still_the_steps(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    assert chat.say("2").startswith("An order number is AC")
    assert chat.session is not None and chat.session.state == "order_ask"
    assert chat.say("AC-123456").startswith("Thanks! Order AC-123456")  # the step goes on as before


def test_the_steps_own_routes_come_first(tmp_path: Path) -> None:
    engine = FlowEngine(load_flow_text(
        "start: menu\n"
        "states:\n"
        "  menu:\n"
        "    say: Reply 1 for a size or 2 for hours\n"
        "    choices:\n"
        "      - keywords: ['1']\n"
        "        option: pick a size\n"
        "        go: size\n"
        "      - keywords: ['2', 'HOURS']\n"
        "        go: hours\n"
        "  size:\n"
        "    say: Which size? Reply 1 small, 2 large\n"
        "    choices:\n"
        "      - keywords: ['1', 'small']\n"
        "        go: done\n"
        "      - keywords: ['2', 'large', 'hours']\n"
        "        go: done\n"
        "    otherwise:\n"
        "      say: Reply 1 or 2.\n"
        "  hours: {say: Open 9-5., final: true}\n"
        "  done: {say: Noted., final: true}\n",
        "size.yaml",
        str(tmp_path),
    ))
    chat = Chat(engine)
    chat.say("1")
    assert chat.say("hours") == "Noted."  # the step's own keyword, not the menu's
    chat.session = None
    chat.say("1")
    assert chat.say("2") == "Noted."  # the step's number
    chat.session = None
    chat.say("1")
    assert chat.say("3") == "Reply 1 or 2."  # no menu number mid-step
    assert chat.say("HOURS!") == "Noted."
