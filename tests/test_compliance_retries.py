"""Carrier retries of compliance messages, through the real webhook and store.

A retry returns what the original message was answered with, but never sends
anything to a number that has opted out since, except HELP and the opt-out
confirmation itself (README, "Compliance first").
"""

from __future__ import annotations

from tests.conftest import AppFactory, Phone, new_sid

OPTED_IN = "Acme Outfitters: You are subscribed again."
OPTED_OUT = "Acme Outfitters: You are unsubscribed"
HELP = "Acme Outfitters support: reply AGENT for a person"


async def test_a_start_retried_after_a_later_stop_sends_nothing(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550004001")
    await phone.text("STOP")
    start_sid = new_sid()
    assert (await phone.text("START", sid=start_sid)).body.startswith(OPTED_IN)
    assert (await phone.text("STOP")).body.startswith(OPTED_OUT)
    # The carrier retries the START: the customer is opted out now, so the
    # old "subscribed again" must not go out (nor opt them back in).
    assert (await phone.text("START", sid=start_sid)).messages == []
    assert (await phone.text("hi")).messages == []


async def test_help_and_stop_retries_still_answer_when_opted_out(make_client: AppFactory) -> None:
    client = await make_client()
    phone = Phone(client, "+15550004002")
    help_sid, stop_sid = new_sid(), new_sid()
    await phone.text("HELP", sid=help_sid)
    await phone.text("STOP", sid=stop_sid)
    assert (await phone.text("HELP", sid=help_sid)).body.startswith(HELP)
    assert (await phone.text("STOP", sid=stop_sid)).body.startswith(OPTED_OUT)
