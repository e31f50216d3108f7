"""The default compliance texts offer only what the flow has."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.compliance.texts import texts_for
from bot.flows import load_flow, load_flow_text
from tests.conftest import FLOWS

BASE = "flow: shop\nsettings:\n  brand: Zoe's\nstart: a\nstates:\n  a:\n    say: Hi\n"


@pytest.mark.parametrize(
    ("globals_", "expected"),
    [
        ("", "Zoe's: Reply STOP to opt out. Msg&data rates may apply."),
        ("global:\n  - keywords: [MENU]\n    go: a\n",
         "Zoe's: reply MENU for options. Reply STOP to opt out. Msg&data rates may apply."),
        ("global:\n  - keywords: [MENU]\n    go: a\n  - keywords: [Agent, human]\n    go: a\n",
         "Zoe's: for help reply AGENT. Reply STOP to opt out. Msg&data rates may apply."),
    ],
)
def test_default_help_names_only_keywords_the_flow_has(globals_: str, expected: str, tmp_path: Path) -> None:
    flow = load_flow_text(BASE + globals_, "shop.yaml", str(tmp_path))
    assert texts_for(flow).help == expected


def test_a_flows_own_help_text_is_kept() -> None:
    flow = load_flow(FLOWS / "retail.yaml")
    assert texts_for(flow).help == flow.settings.help
