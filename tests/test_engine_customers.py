"""How the engine reads what real customers text around a menu number or a keyword.

Customers rarely text a bare "2": they write "2 please", "option 3", "#2",
"menu pls", "agent please", "the first one". Each test here was a wrong reply
found by texting the example flow as a customer would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow_text
from bot.matching.normalize import keyword_core, normalize, squeeze
from bot.types import ConversationKey, Session

KEY = ConversationKey("test", "+15550003000", "+15555550100")

MENU = (
    "start: menu\n"
    "global:\n"
    "  - keywords: [MENU]\n"
    "    go: menu\n"
    "  - keywords: [AGENT]\n"
    "    go: agent\n"
    "states:\n"
    "  menu:\n"
    "    say: Reply 1 Hours, 2 Returns, 3 Order\n"
    "    choices:\n"
    "      - keywords: ['1']\n"
    "        go: hours\n"
    "      - keywords: ['2']\n"
    "        go: returns\n"
    "      - keywords: ['3', 'OK']\n"
    "        go: order\n"
    "    otherwise:\n"
    "      say: Please reply 1, 2 or 3.\n"
    "  hours: {say: Open 9-5., final: true}\n"
    "  returns: {say: 60 days., final: true}\n"
    "  order: {say: Your order number please, final: true}\n"
    "  agent: {say: A person will text you., final: true}\n"
)


class Chat:
    def __init__(self, engine: FlowEngine, now: float = 1000.0) -> None:
        self.engine = engine
        self.session: Session | None = None
        self.now = now

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


@pytest.fixture
def menu(tmp_path: Path) -> FlowEngine:
    return FlowEngine(load_flow_text(MENU, "tiny.yaml", str(tmp_path)))


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("2 please", "returns"),
        ("2 pls", "returns"),
        ("2 thanks", "returns"),
        ("ok 2", "returns"),
        ("option 3", "order"),
        ("Option #3", "order"),
        ("number 1", "hours"),
        ("no. 1", "hours"),
        ("two", "returns"),
        ("Three!", "order"),
        ("hi, 1 please", "hours"),
        ("2 thank you", "returns"),
    ],
)
def test_a_menu_number_with_courtesy_words_picks_that_choice(menu: FlowEngine, text: str, state: str) -> None:
    chat = Chat(menu)
    chat.say("hi")
    chat.say(text)
    assert chat.state == state, text
    assert chat.last.decision.kind == "choice"


@pytest.mark.parametrize(("text", "state"), [("menu pls", "menu"), ("agent please", "agent"), ("AGENT PLZ!!", "agent")])
def test_a_global_keyword_with_courtesy_words_works_everywhere(menu: FlowEngine, text: str, state: str) -> None:
    chat = Chat(menu)
    chat.say("hi")
    chat.say("1")
    chat.say(text)
    assert chat.state == state, text
    assert chat.last.decision.kind == "keyword"


@pytest.mark.parametrize("text", ["please", "thanks", "ok thanks", "option", "2 or 3", "12", "2 4", "not 2"])
def test_courtesy_words_alone_or_several_numbers_pick_nothing(menu: FlowEngine, text: str) -> None:
    chat = Chat(menu)
    chat.say("hi")
    assert chat.say(text) == "Please reply 1, 2 or 3.", text
    assert chat.state == "menu"


def test_a_keyword_written_with_a_courtesy_word_is_still_exact(menu: FlowEngine) -> None:
    # "OK" is a keyword here: the whole text is tried as written first.
    chat = Chat(menu)
    chat.say("hi")
    chat.say("ok")
    assert chat.state == "order"


@pytest.mark.parametrize(
    ("text", "core"),
    [
        ("2 please", "2"),
        ("option three", "3"),
        ("the second one", "2"),
        ("1st", "1"),
        ("menu pls", "menu"),
        ("thank you", ""),
        ("i like turtles", "i like turtles"),
        ("start over", "start over"),
    ],
)
def test_keyword_core(text: str, core: str) -> None:
    assert keyword_core(squeeze(normalize(text))) == core


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    from bot.flows import load_flow
    from tests.conftest import FLOWS

    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


@pytest.mark.parametrize(("text", "line"), [("the first one", 0), ("2nd", 1), ("second one pls", 1), ("#1 please", 0)])
def test_did_you_mean_picked_in_words(retail: FlowEngine, text: str, line: int) -> None:
    chat = Chat(retail)
    chat.say("hi")
    chat.say("shipping")
    assert chat.last.decision.kind == "ambiguous"
    assert chat.session is not None
    pending = chat.session.pending
    chat.say(text)
    assert chat.last.decision.kind == "picked", text
    assert chat.last.decision.faq_id == pending[line]


def test_a_finished_conversation_reads_the_start_menu(menu: FlowEngine) -> None:
    # At a final state the conversation is over; the customer still has the
    # menu on screen, and "2" means its second line, not "Sorry, I didn't get that".
    chat = Chat(menu)
    chat.say("hi")
    assert chat.say("1") == "Open 9-5."
    assert chat.say("2") == "60 days."
    assert chat.state == "returns"
    assert chat.last.decision.kind == "choice" and chat.last.decision.route_id == "menu/choice 2"
    assert chat.say("three please") == "Your order number please"
    assert chat.last.decision.state_from == "returns"


def test_a_final_state_s_own_choices_come_first(tmp_path: Path) -> None:
    engine = FlowEngine(load_flow_text(
        "start: menu\n"
        "states:\n"
        "  menu:\n"
        "    say: Reply 1 Products\n"
        "    choices:\n"
        "      - keywords: ['1']\n"
        "        go: products\n"
        "      - keywords: ['2']\n"
        "        go: other\n"
        "  products:\n"
        "    say: Reply 1 Jacket, 2 Pack\n"
        "    choices:\n"
        "      - keywords: ['1']\n"
        "        go: jacket\n"
        "      - keywords: ['2']\n"
        "        go: pack\n"
        "  jacket:\n"
        "    say: The jacket.\n"
        "    final: true\n"
        "    choices:\n"
        "      - keywords: ['2']\n"
        "        go: pack\n"
        "  pack: {say: The pack., final: true}\n"
        "  other: {say: Other., final: true}\n",
        "tiny.yaml", str(tmp_path)))
    chat = Chat(engine)
    chat.say("1")
    chat.say("1")
    assert chat.say("2") == "The pack."  # the jacket's own "2", not the menu's
    assert chat.say("2") == "Other."  # the pack has none: the menu's


def test_a_state_that_is_not_final_does_not_read_the_start_menu(menu: FlowEngine, tmp_path: Path) -> None:
    engine = FlowEngine(load_flow_text(MENU.replace("  order: {say: Your order number please, final: true}\n", (
        "  order:\n"
        "    say: Your order number please\n"
        "    choices:\n"
        "      - pattern: '[0-9]{6}'\n"
        "        go: hours\n"
        "    otherwise:\n"
        "      say: Six digits please.\n")), "tiny.yaml", str(tmp_path)))
    chat = Chat(engine)
    chat.say("3")
    assert chat.say("2") == "Six digits please."
    assert chat.state == "order"


def test_nothing_matched_in_a_finished_conversation_is_still_the_fallback(menu: FlowEngine) -> None:
    chat = Chat(menu)
    chat.say("1")
    assert chat.say("i like turtles") == menu.flow.settings.fallback
    assert chat.state == "hours"


@pytest.mark.parametrize("text", ["no agent", "no menu", "no 2 or 3"])
def test_no_before_a_keyword_is_not_courtesy(menu: FlowEngine, text: str) -> None:
    chat = Chat(menu)
    chat.say("hi")
    chat.say(text)
    assert chat.last.decision.kind not in ("keyword", "choice"), text
