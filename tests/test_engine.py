"""The pure engine, conversations driven in memory (no server, no database)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow, load_flow_text
from bot.types import ConversationKey, Session
from tests.conftest import FLOWS

KEY = ConversationKey("test", "+15550002000", "+15555550100")


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


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


def tiny(yaml_text: str, tmp_path: Path) -> FlowEngine:
    return FlowEngine(load_flow_text(yaml_text, "tiny.yaml", str(tmp_path)))


def test_new_conversation_greets_with_start_state(retail: FlowEngine) -> None:
    chat = Chat(retail)
    assert chat.say("hello").startswith("Hi from Acme Outfitters!")
    assert chat.last.decision.kind == "start"
    assert chat.session is not None and chat.session.state == "menu"


def test_keywords_ignore_case_punctuation_and_repeated_letters(retail: FlowEngine) -> None:
    for text in ("MENU", "menu!!", "Menuuu", " menu. "):
        chat = Chat(retail)
        chat.say("3")
        assert chat.say(text).startswith("Hi from Acme Outfitters!"), text
        assert chat.last.decision.kind == "keyword"


def test_menu_number_wins_before_faq(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("hi")
    chat.say("2")
    assert chat.last.decision.kind == "choice"
    assert chat.session is not None and chat.session.state == "returns"


def test_fuzzy_option_text(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("hi")
    chat.say("prodct demo pls")
    assert chat.last.decision.kind == "option"
    assert chat.session is not None and chat.session.state == "demo"


def test_pattern_captures_variable_and_template_fills_it(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    reply = chat.say("order # ac 765432 pls")
    assert "Order AC-765432" in reply
    assert chat.session is not None and chat.session.variables == {"order_number": "765432"}


def test_otherwise_stays_in_state(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    chat.say("dunno")
    assert chat.last.decision.kind == "otherwise"
    assert chat.session is not None and chat.session.state == "order_ask"


def test_faq_answer_does_not_move_the_conversation(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    reply = chat.say("do you do gift wrapping?")
    assert chat.last.decision.kind == "faq"
    assert chat.last.decision.faq_id == "gift-wrapping"
    assert chat.last.decision.score is not None and chat.last.decision.score >= 80
    assert "wrap" in reply.lower()
    assert chat.session is not None and chat.session.state == "order_ask"


def test_fallback_outside_choices(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("1")  # hours: a final state without otherwise
    reply = chat.say("i like turtles")
    assert chat.last.decision.kind == "fallback"
    assert reply == retail.flow.settings.fallback


def test_did_you_mean_pick_by_number_and_by_text(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("1")
    question = chat.say("shipping")
    assert chat.last.decision.kind == "ambiguous"
    pending = chat.session.pending if chat.session else ()
    assert len(pending) == 2
    first = retail.flow.faq(pending[0])
    second = retail.flow.faq(pending[1])
    assert first is not None and second is not None
    assert f"1) {first.question}" in question
    assert chat.say("1") == first.answer
    assert chat.session is not None and chat.session.pending == ()
    chat.say("shipping")
    assert chat.say(second.question.upper()) == second.answer
    assert chat.last.decision.kind == "picked"


def test_did_you_mean_ignored_when_customer_moves_on(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("1")
    chat.say("shipping")
    chat.say("MENU")
    assert chat.last.decision.kind == "keyword"
    assert chat.session is not None and chat.session.pending == ()
    assert chat.say("1").startswith("Our stores are open")  # "1" is the menu again, not the old offer


def test_idle_expiry_restarts_with_welcome_back(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    chat.now += retail.flow.settings.idle_timeout + 1
    reply = chat.say("hey")
    assert reply.startswith("Welcome back to Acme Outfitters!\n\nHi from Acme Outfitters!")
    assert chat.last.decision.fresh == "expired"
    assert chat.session is not None and chat.session.state == "menu" and chat.session.variables == {}


def test_saved_state_missing_from_edited_flow_is_handled(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    assert chat.session is not None
    chat.session = replace(chat.session, state="removed_state")
    reply = chat.say("hi")
    assert chat.last.decision.fresh == "lost"
    assert reply.startswith("We've updated our menu since your last message.\n\nHi from Acme Outfitters!")
    assert chat.session.state == "menu"


def test_lost_conversations_go_to_the_state_the_flow_declares(tmp_path: Path) -> None:
    engine = tiny(
        "settings:\n  lost_state: help_desk\n  lost_notice: Things moved around!\n"
        "start: a\nstates:\n  a: {say: Start, final: true}\n  help_desk: {say: 'How can we help?', final: true}\n",
        tmp_path,
    )
    chat = Chat(engine)
    chat.say("x")
    assert chat.session is not None
    chat.session = replace(chat.session, state="gone")
    assert chat.say("hmm") == "Things moved around!\n\nHow can we help?"
    assert chat.session.state == "help_desk"


def test_media_reply(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("4")
    chat.say("2")
    assert chat.last.replies[0].media == ("summit-pack.png",)


def test_route_without_go_says_and_stays_without_repeating(tmp_path: Path) -> None:
    engine = tiny(
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: Question?\n"
        "    choices:\n"
        "      - keywords: [why]\n"
        "        say: Because.\n"
        "      - keywords: [again]\n"
        "        go: a\n",
        tmp_path,
    )
    chat = Chat(engine)
    assert chat.say("x") == "Question?"
    assert chat.say("why") == "Because."
    assert chat.say("again") == "Question?"


def test_shared_machine_holds_no_conversations(retail: FlowEngine) -> None:
    chat = Chat(retail)
    for text in ("hi", "3", "AC-123456", "MENU", "shipping", "1"):
        chat.say(text)
    assert retail.machine.models == []


def test_keywords_stay_text_not_yaml_booleans(tmp_path: Path) -> None:
    engine = tiny(
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: Pick\n"
        "    choices:\n"
        "      - keywords: [true, on]\n"
        "        go: b\n"
        "      - keywords: [no, off]\n"
        "        go: c\n"
        "  b: {say: B, final: true}\n"
        "  c: {say: C, final: true}\n",
        tmp_path,
    )
    for text, expected in (("no", "C"), ("OFF", "C"), ("On", "B"), ("TRUE", "B")):
        chat = Chat(engine)
        chat.say("hi")
        assert chat.say(text) == expected


def test_decisions_are_deterministic(retail: FlowEngine) -> None:
    texts = ["hi", "wat r ur hrs", "shipping", "2", "do u price match", "sizes?", "3", "AC-000111"]
    runs = []
    for _ in range(3):
        chat = Chat(retail)
        runs.append([(chat.say(t), chat.last.decision) for t in texts])
    assert runs[0] == runs[1] == runs[2]


def test_a_lone_letter_picks_no_option(tmp_path: Path) -> None:
    # token_set_ratio scores "x" 100 against "plan x basic": one character is no answer.
    engine = tiny(
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: Which plan?\n"
        "    choices:\n"
        "      - option: Plan X basic\n"
        "        say: Basic it is.\n"
        "    otherwise:\n"
        "      say: Say the plan's name.\n",
        tmp_path,
    )
    chat = Chat(engine)
    chat.say("hi")
    assert chat.say("x") == "Say the plan's name."
    assert chat.say("basic") == "Basic it is."
    assert chat.last.decision.kind == "option"


def test_an_unmatched_optional_group_clears_its_variable(tmp_path: Path) -> None:
    engine = tiny(
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: Order number?\n"
        "    choices:\n"
        "      - pattern: '(?P<order>\\d{3})(?: for (?P<name>[a-z]+))?'\n"
        "        say: 'Order {order} for [{name}].'\n",
        tmp_path,
    )
    chat = Chat(engine)
    chat.say("hi")
    assert chat.say("123 for bob") == "Order 123 for [bob]."
    assert chat.say("456") == "Order 456 for []."
    assert chat.session is not None and chat.session.variables == {"order": "456", "name": ""}


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("order ٤٥٦", "456"),  # Arabic-Indic digits
        ("order ４５６", "456"),  # full-width, as CJK keyboards type them
        ("ＯＲＤＥＲ 456", "456"),
        ("order 4\u200d56", "456"),  # an invisible joiner inside the number
        ("order 456", "456"),
    ],
)
def test_patterns_read_any_scripts_digits_as_ascii(text: str, order: str, tmp_path: Path) -> None:
    engine = tiny(
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: Order number?\n"
        "    choices:\n"
        "      - pattern: '(?i)order (?P<order>[0-9]{3})'\n"
        "        say: 'Looking up {order}.'\n",
        tmp_path,
    )
    chat = Chat(engine)
    chat.say("hi")
    assert chat.say(text) == f"Looking up {order}."
