"""Opt-out compliance end to end: STOP, START, HELP through the real webhook and store."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import SQLiteStore
from tests.conftest import AppFactory, Phone, db_rows, new_sid

HELP = "Acme Outfitters support: reply AGENT for a person"
OPTED_OUT = "Acme Outfitters: You are unsubscribed and will receive no more messages from this number."


async def history(db_path: Path, phone: Phone) -> list[tuple[str, str]]:
    store = SQLiteStore(db_path)
    await store.open()
    try:
        events = await store.consent_history(phone.number, phone.business)
    finally:
        await store.close()
    return [(e.event, e.text) for e in events]


@pytest.mark.parametrize(
    "text", ["STOP", "stop", "Stop!", " stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "revoke",
             "optout", "OPT OUT", "opt-out", "please stop texting me", "stop. thank you", "unsubscribe me",
             # in disguise: spelled out, digits for letters, run together, said over and over
             "S-T-O-P please", "ST0P", "$TOP", "unsubscr1be", "STOPSTOP", "stop stop stop who is this"]
)
async def test_opt_out_words_and_revocations(make_client: AppFactory, db_path: Path, text: str) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003001")
    sent = await phone.text(text)
    assert sent.body.startswith(OPTED_OUT)
    assert "Reply START to resubscribe" in sent.body
    assert await history(db_path, phone) == [("opt_out", text)]


@pytest.mark.parametrize(
    "text", ["where is the bus stop", "does the sale end today", "can I cancel my order", "stop by the store?",
             "Can I s.t.o.p my order?", "don't st0p texting me", "where is my order AC123456 from the 3rd"]
)
async def test_other_meanings_reach_the_flow(make_client: AppFactory, db_path: Path, text: str) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003002")
    sent = await phone.text(text)
    assert OPTED_OUT not in sent.body
    assert await history(db_path, phone) == []


async def test_nothing_is_sent_after_stop_by_any_path(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003003")
    before_sid = new_sid()
    first = await phone.text("3", sid=before_sid)
    assert "order number" in first.body
    stop = await phone.text("STOP")
    assert len(stop.messages) == 1
    # A second STOP: recorded, not answered (only one confirmation).
    assert (await phone.text("stop")).messages == []
    # Flow texts, FAQs, menu numbers, keywords: all silent.
    for text in ("hi", "MENU", "1", "do you ship to canada", "AGENT"):
        assert (await phone.text(text)).messages == [], text
    # A carrier retry of a message answered before the opt-out: silent too.
    assert (await phone.text("3", sid=before_sid)).messages == []
    # Retry of the STOP itself returns its own confirmation (the first was not received).
    assert await history(db_path, phone) == [("opt_out", "STOP"), ("opt_out", "stop")]
    assert db_rows(db_path, "SELECT count(*) FROM outbound WHERE customer = ?", phone.number) == [(2,)]


async def test_help_is_answered_even_when_opted_out(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003004")
    assert (await phone.text("HELP")).body.startswith(HELP)
    await phone.text("STOP")
    help_reply = await phone.text("info")
    assert help_reply.body.startswith(HELP)
    assert "Reply STOP to opt out" in help_reply.body and "Msg&data rates may apply" in help_reply.body


async def test_start_opts_back_in_and_restarts_cleanly(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003005")
    await phone.text("3")
    await phone.text("STOP")
    back = await phone.text("START")
    assert back.body.startswith("Acme Outfitters: You are subscribed again.")
    assert db_rows(db_path, "SELECT count(*) FROM conversations WHERE customer = ?", phone.number) == [(0,)]
    greeting = await phone.text("hello")
    assert greeting.body.startswith("Hi from Acme Outfitters!")
    await phone.text("unsubscribe")
    assert (await phone.text("hello")).messages == []
    assert [event for event, _ in await history(db_path, phone)] == ["opt_out", "opt_in", "opt_out"]


async def test_consent_is_per_business_number(make_client: AppFactory) -> None:
    client = await make_client()
    await Phone(client, "+15550003006").text("STOP")
    other = Phone(client, "+15550003006", business="+15555550199")
    assert (await other.text("hi")).body.startswith("Hi from Acme Outfitters!")


async def test_carrier_advanced_opt_out_is_recorded_without_second_reply(
    make_client: AppFactory, db_path: Path
) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003007")
    params = phone.params("STOP")
    params["OptOutType"] = "STOP"
    sent = await phone.post(params)
    assert sent.status == 200 and sent.messages == []
    assert [e for e, _ in await history(db_path, phone)] == ["opt_out"]
    assert (await phone.text("hi")).messages == []
    params = phone.params("START")
    params["OptOutType"] = "START"
    assert (await phone.post(params)).messages == []
    assert (await phone.text("hi")).body.startswith("Hi from Acme Outfitters!")


async def test_ledger_records_time_and_source(make_client: AppFactory, db_path: Path) -> None:
    client = await make_client()
    phone = Phone(client, "+15550003008")
    await phone.text("please stop texting me")
    rows = db_rows(db_path, "SELECT event, source, body, channel, at FROM consent_events")
    assert len(rows) == 1
    event, source, body, channel, at = rows[0]
    assert (event, body, channel) == ("opt_out", "please stop texting me", "twilio")
    assert source.startswith("keyword: revocation pattern")
    assert at > 0
