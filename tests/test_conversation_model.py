"""Random conversations through the real webhook, checked against a model of what customers are owed.

Each seed plays a few customers texting the example flow in a random order:
menu numbers, keywords, typo'd questions, emoji, blank and long texts, photos,
STOP/START/HELP in their usual spellings, carrier retries of earlier messages,
and pauses past the idle timeout. The model knows only the promises, not the
flow's wording:

- every answer is 200 TwiML, each message within the flow's segment budget
  and the carrier's media limit;
- opted out (a STOP word), a customer gets nothing but the HELP text, until
  a START word; the first STOP gets exactly one confirmation, a repeated one none;
  every START is confirmed, and recorded only when it ends an opt-out; YES
  is a START after a STOP and otherwise the flow's to answer;
- a customer who is not opted out always gets an answer;
- a carrier retry gets exactly the first answer again (nothing, if the customer
  opted out since and the message was not itself a compliance message);
- the database holds each message once and every consent change in the ledger.

Scripted tests pin particular sequences; this finds the ones nobody scripted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from bot.compliance.texts import texts_for
from bot.flows import load_flows
from bot.sms import analyze
from tests.conftest import FLOWS, AppFactory, Phone, db_rows, new_sid

STOPS = ("STOP", "stop", "Stop!", "unsubscribe", "please stop texting me", "ＳＴＯＰ", "cancel")
STARTS = ("START", "start", "Unstop")
YESES = ("YES", "yes", "Yes!")  # an opt-in only after a STOP; otherwise the flow's
HELPS = ("HELP", "help", "INFO")
OTHERS = (
    "1", "2", " 3 ", "4.", "5", "7", "9", "MENU", "menu", "AGENT", "hi", "hello there",
    "what are ur hours", "do u ship to canada??", "return policy", "wheres my order", "AC-123456",
    "ac 654321", "asdfgh", "🙂", "👍👍", "", "   ", "¿Dónde está mi pedido?", "WHAT SIZES DO JACKETS COME IN",
    "can I cancel my order", "where is the bus stop", "x" * 1600, "lorem ipsum " * 60,
)
TWILIO_MEDIA_LIMIT = 10


@dataclass
class Customer:
    phone: Phone
    opted_out: bool = False
    # sid -> (first answer, was a compliance message)
    answered: dict[str, tuple[list[tuple[str, list[str]]], bool]] = field(default_factory=dict)


def check_budget(messages: list[tuple[str, list[str]]], max_segments: int) -> None:
    for body, media in messages:
        assert analyze(body).segments <= max_segments, body
        assert len(media) <= TWILIO_MEDIA_LIMIT


@pytest.mark.parametrize("seed", range(12))
async def test_random_conversations_keep_every_promise(
    make_client: AppFactory, db_path: Path, clock: VirtualClock, seed: int
) -> None:
    rng = random.Random(seed)
    flow = next(iter(load_flows(FLOWS)))
    texts = texts_for(flow)
    client = await make_client()
    customers = [Customer(Phone(client, f"+1555000{seed:02d}{i:02d}")) for i in range(3)]
    sent_sids: set[str] = set()
    ledger_changes = 0
    for step in range(45):
        customer = rng.choice(customers)
        roll = rng.random()
        if roll < 0.08:
            clock.advance(flow.settings.idle_timeout + 1)
            continue
        if roll < 0.2 and customer.answered:
            sid = rng.choice(sorted(customer.answered))
            first, was_compliance = customer.answered[sid]
            again = await customer.phone.text("(retry: the body is the carrier's copy)", sid=sid)
            expected = [] if customer.opted_out and not was_compliance else first
            assert again.messages == expected, (seed, step, sid)
            continue
        kind = rng.choices(("stop", "start", "yes", "help", "other", "photo"), (2, 1, 1, 1, 12, 1))[0]
        pool = {"stop": STOPS, "start": STARTS, "yes": YESES, "help": HELPS, "other": OTHERS,
                "photo": ("", "here")}[kind]
        text = rng.choice(pool)
        media = ["https://api.twilio.com/media/ME1"] if kind == "photo" else None
        sid = new_sid()
        sent = await customer.phone.text(text, sid=sid, media=media)
        sent_sids.add(sid)
        check_budget(sent.messages, flow.settings.max_segments)
        bodies = [body for body, _ in sent.messages]
        where = (seed, step, text[:40], customer.opted_out)
        if kind == "stop":
            assert bodies == ([] if customer.opted_out else [texts.opt_out_reply]), where
            customer.opted_out = True
            ledger_changes += 1
        elif kind == "start":
            assert bodies == [texts.opt_in_reply], where
            # Recorded only when it lifts an opt-out (tests/test_compliance_opt_in.py).
            ledger_changes += customer.opted_out
            customer.opted_out = False
        elif kind == "yes" and customer.opted_out:
            assert bodies == [texts.opt_in_reply], where
            ledger_changes += 1
            customer.opted_out = False
            kind = "start"  # answered by compliance, as a START is
        elif kind == "yes":
            assert bodies and texts.opt_in_reply not in bodies, where
        elif kind == "help":
            assert bodies == [texts.help], where
        elif customer.opted_out:
            assert bodies == [], where
        else:
            assert bodies and all(body or media for body, media in sent.messages), where
        customer.answered[sid] = (sent.messages, kind in ("stop", "start", "help"))
    assert db_rows(db_path, "SELECT count(*) FROM inbound") == [(len(sent_sids),)]
    assert db_rows(db_path, "SELECT count(*) FROM consent_events") == [(ledger_changes,)]
    for customer in customers:
        stored = db_rows(
            db_path, "SELECT opted_out FROM consent WHERE customer = ? AND business = ?",
            customer.phone.number, customer.phone.business,
        )
        # No row at all: never changed consent, so not opted out.
        assert [bool(row[0]) for row in stored] == ([customer.opted_out] if stored else [])
        assert stored or not customer.opted_out
