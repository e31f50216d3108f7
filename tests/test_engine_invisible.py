"""Invisible characters inside a customer's words do not break keyword matching."""

from __future__ import annotations

import pytest

from bot.engine import FlowEngine
from bot.flows import load_flow
from bot.matching.normalize import normalize
from tests.conftest import FLOWS
from tests.test_engine import Chat


@pytest.fixture(scope="module")
def retail() -> FlowEngine:
    return FlowEngine(load_flow(FLOWS / "retail.yaml"))


@pytest.mark.parametrize("text", ["ME\u00adNU", "me\u200dnu", "\u200fMENU", "MEN\u2060U", "m\ufeffenu"])
def test_global_keyword_with_an_invisible_character(retail: FlowEngine, text: str) -> None:
    chat = Chat(retail)
    chat.say("3")
    chat.say(text)
    assert chat.last.decision.kind == "keyword", chat.last.decision.explain()


def test_a_zero_width_space_separates_words() -> None:
    assert normalize("store\u200bhours") == "store hours"
    assert normalize("sto\u00adre hours") == "store hours"
