"""START/UNSTOP/YES is a consent event only when it lifts an opt-out.

carriers.md §11.1-11.2: the opt-in keywords (Twilio: START, YES, UNSTOP)
"remove the block" an opt-out put in place; toll-free carriers answer "you
will begin receiving messages again". From a number that never opted out
there is nothing to lift: START and UNSTOP are still confirmed, as carriers
confirm theirs, but nothing is recorded, and YES goes to the flow ("Reply YES
to confirm"). The ledger's opt-in only lifts the block; it is no consent to
broadcasts, which need an audience subscription newer than the last STOP.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.compliance import ComplianceKeywords, Intent
from bot.compliance.policy import ComplianceTexts, decide
from bot.types import Reply
from tests.conftest import AppFactory, Phone, db_rows

KW = ComplianceKeywords()
TEXTS = ComplianceTexts(help="help text", opt_out_reply="opted out", opt_in_reply="opted in")


@pytest.mark.parametrize("text", ["START", "Unstop!"])
def test_an_opt_in_word_from_a_number_never_opted_out_records_nothing(text: str) -> None:
    decision = decide(KW, TEXTS, text, "", opted_out=False)
    assert (decision.intent, decision.handled, decision.replies) == (Intent.OPT_IN, True, (Reply("opted in"),))
    assert (decision.ledger, decision.restart, decision.opted_out_after) == ("", False, False)


@pytest.mark.parametrize("text", ["yes", "YES!", "Yes."])
def test_yes_from_a_number_not_opted_out_goes_to_the_flow(text: str) -> None:
    # "Reply YES to confirm": no block to lift, so the flow answers it.
    decision = decide(KW, TEXTS, text, "", opted_out=False)
    assert (decision.intent, decision.handled, decision.replies, decision.ledger) == (None, False, (), "")


@pytest.mark.parametrize("text", ["START", "yes", "Unstop!"])
def test_an_opt_in_word_after_an_opt_out_is_recorded(text: str) -> None:
    decision = decide(KW, TEXTS, text, "", opted_out=True)
    assert (decision.intent, decision.replies) == (Intent.OPT_IN, (Reply("opted in"),))
    assert (decision.ledger, decision.source, decision.restart, decision.opted_out_after) == (
        "opt_in", "keyword", True, False,
    )


def test_a_carrier_opt_in_is_recorded_only_after_an_opt_out() -> None:
    fresh = decide(KW, TEXTS, "START", "START", opted_out=False)
    assert (fresh.intent, fresh.handled, fresh.replies, fresh.ledger) == (Intent.OPT_IN, True, (), "")
    back = decide(KW, TEXTS, "START", "START", opted_out=True)
    assert (back.ledger, back.source, back.replies, back.restart) == ("opt_in", "carrier", (), True)


async def test_start_without_an_opt_out_is_answered_but_not_recorded(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550006001")
    assert (await phone.text("3")).body  # in the middle of the order question
    assert "subscribed" not in (await phone.text("YES")).body  # the flow's: nothing to lift
    assert "subscribed" in (await phone.text("START")).body
    assert db_rows(db_path, "SELECT count(*) FROM consent_events") == [(0,)]
    assert db_rows(db_path, "SELECT count(*) FROM consent") == [(0,)]
    await phone.text("STOP")
    assert "subscribed" in (await phone.text("START")).body
    assert db_rows(db_path, "SELECT event FROM consent_events ORDER BY id") == [("opt_out",), ("opt_in",)]
    await phone.text("STOP")
    assert "subscribed" in (await phone.text("yes")).body  # after a STOP, YES resubscribes
    assert db_rows(db_path, "SELECT event FROM consent_events ORDER BY id") == [
        ("opt_out",), ("opt_in",), ("opt_out",), ("opt_in",)]


async def test_a_flow_may_ask_reply_yes_to_confirm(make_client: AppFactory, tmp_path: Path, db_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "book.yaml").write_text(
        "flow: book\ndefault: true\nnumbers: ['+15555550100']\nstart: ask\n"
        "states:\n"
        "  ask:\n"
        "    say: Book Tuesday 3pm? Reply YES to confirm.\n"
        "    choices:\n"
        "      - keywords: [yes, y]\n"
        "        go: booked\n"
        "  booked:\n"
        "    say: Booked for Tuesday 3pm.\n"
    )
    client = await make_client(flows_dir=flows)
    phone = Phone(client, "+15550006002")
    assert "Reply YES" in (await phone.text("hi")).body
    assert (await phone.text("Yes!")).body == "Booked for Tuesday 3pm."
    assert db_rows(db_path, "SELECT count(*) FROM consent_events") == [(0,)]
