"""Greetings and emoji-only texts mid-conversation (bot.matching.smalltalk), on the example flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow, load_flow_text
from bot.matching.normalize import normalize, squeeze
from bot.matching.smalltalk import emoji_reading, is_greeting
from tests.conftest import FLOWS
from tests.test_engine import Chat

MENU = "Hi from Acme Outfitters! Reply with a number:"


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


@pytest.mark.parametrize("text", ["hi", "Hello!", "hey there", "Heyyy", "good morning", "👋"])
def test_a_greeting_at_the_menu_greets_back_with_the_menu(retail: FlowEngine, text: str) -> None:
    chat = Chat(retail)
    chat.say("hello")  # a new conversation: the menu
    # It answered "Please reply with a number from 1 to 5, or text us your question."
    assert chat.say(text).startswith(MENU), text
    assert chat.last.decision.kind == "greeting"
    assert chat.session is not None and chat.session.state == "menu"
    assert chat.say("2").startswith("Returns are free")  # the menu works on


def test_a_greeting_after_an_answer_shows_the_menu(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("1")  # store hours: a finished conversation
    assert chat.say("hi").startswith(MENU)
    assert chat.session is not None and chat.session.state == "menu"


def test_a_greeting_mid_step_asks_the_step_again(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("3")
    # It answered "An order number is AC followed by 6 digits..." as to a wrong number.
    assert chat.say("hello").startswith("Sure! What's your order number?")
    assert chat.session is not None and chat.session.state == "order_ask"
    assert chat.say("AC-123456").startswith("Thanks! Order AC-123456")


def test_a_question_with_a_greeting_is_still_a_question(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("menu")
    assert chat.say("hi, do you ship to canada?").startswith("We ship to Canada")
    assert chat.last.decision.kind == "faq"


def test_thumbs_up_confirms_a_yes_question_and_is_an_ok_elsewhere(tmp_path: Path) -> None:
    engine = FlowEngine(load_flow_text(
        """
flow: tiny
start: ask
states:
  ask:
    say: "Reply YES to confirm your appointment."
    choices:
      - keywords: ["yes"]
        go: done
      - keywords: ["no"]
        go: cancelled
  done:
    say: "Confirmed."
    final: true
  cancelled:
    say: "Cancelled."
    final: true
""",
        "tiny.yaml",
        str(tmp_path),
    ))
    for text, answer in (("👍", "Confirmed."), ("👍🏽", "Confirmed."), ("✅", "Confirmed."), ("👎", "Cancelled.")):
        chat = Chat(engine)
        chat.say("hi")
        assert chat.say(text) == answer, text
        assert chat.last.decision.kind == "choice" and chat.last.decision.phrasing in ("yes", "no")


def test_emoji_alone_read_as_the_flows_small_talk(retail: FlowEngine) -> None:
    chat = Chat(retail)
    chat.say("1")
    # Both reached the fallback ("Sorry, I didn't get that").
    assert chat.say("👍") == "Great! Reply MENU if there's anything else we can help with."
    assert chat.say("🙏🙏") == "No problem! Text us anytime, or reply MENU for options."
    # An emoji that says nothing clear still gets the fallback.
    assert chat.say("😂").startswith("Sorry, I didn't get that.")


@pytest.mark.parametrize("text", ["❤️", "❤", "😍", "😊😊", "🥰", "🙂", "💙", "🙌🏽"])
def test_a_heart_or_a_smile_after_an_answer_is_a_thank_you(retail: FlowEngine, text: str) -> None:
    # They reached the fallback ("Sorry, I didn't get that"): a customer who
    # sends a heart after an answer is pleased, and a person answers "no problem".
    chat = Chat(retail)
    chat.say("1")
    assert chat.say(text) == "No problem! Text us anytime, or reply MENU for options.", text
    assert chat.last.decision.kind == "keyword" and chat.last.decision.phrasing == "thanks"
    assert chat.session is not None and chat.session.state == "hours"


def test_what_counts_as_small_talk() -> None:
    def greeting(text: str) -> bool:
        return is_greeting(squeeze(normalize(text)))

    assert all(greeting(t) for t in ("hi", "HELLOOO", "hey there!", "Good evening", "hi all"))
    assert not any(greeting(t) for t in ("", "good", "there", "hi where is my order", "hi agent"))
    # "Is anyone there?" with a greeting is a greeting: the customer checks we
    # are there (it got "Please reply with a number"); without one it is not.
    assert all(greeting(t) for t in ("hello, is anyone there", "hi?? anybody there", "hey are you there",
                                     "Buenos dias", "buenas tardes"))
    assert not any(greeting(t) for t in ("is anyone there", "hi are you open", "hello is the store open"))
    assert emoji_reading("👍") == ("yes", "ok") == emoji_reading(" 👍🏻👍 ")
    assert emoji_reading("👍👎") == ()  # no answer when they disagree
    assert emoji_reading("👍 thanks") == () and emoji_reading("") == ()
    assert emoji_reading("❤️😊") == ("thanks",) and emoji_reading("❤️👍") == ()
    assert emoji_reading("😂") == emoji_reading("😡") == ()  # laughing at, or angry with, us: no reading


def test_a_greeting_never_sends_a_steps_media_again(tmp_path: Path) -> None:
    engine = FlowEngine(load_flow_text(
        """
flow: tiny
start: menu
states:
  menu:
    say: "Hi! Reply 1 for the photo quiz, 2 for the picture."
    choices:
      - keywords: ["1"]
        go: quiz
      - keywords: ["2"]
        go: picture
  quiz:
    say: "Which colour is this jacket? Reply red or blue."
    media: [https://example.com/jacket.png]
    choices:
      - keywords: ["red", "blue"]
        go: menu
  picture:
    media: [https://example.com/jacket.png]
    choices:
      - keywords: ["back"]
        go: menu
""",
        "tiny.yaml",
        str(tmp_path),
    ))
    chat = Chat(engine)
    chat.say("hi")
    chat.say("1")
    assert chat.last.replies[0].media
    # The question again, as text: a second MMS for a "hi" would cost the customer.
    assert chat.say("hello") == "Which colour is this jacket? Reply red or blue."
    assert chat.last.replies[0].media == ()
    assert chat.session is not None and chat.session.state == "quiz"
    # A step that asks nothing in words: the menu instead of its picture again.
    chat.say("red")
    chat.say("2")
    assert chat.say("hey") == "Hi! Reply 1 for the photo quiz, 2 for the picture."
    assert chat.last.replies[0].media == ()
    assert chat.session is not None and chat.session.state == "menu"
