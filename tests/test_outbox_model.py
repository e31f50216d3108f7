"""Random conversations whose replies go through a carrier's REST API, checked against the promises.

Customers text (menu numbers, questions, STOP/START/HELP) while the outbox
works pass by pass under a virtual clock and the carrier's API (a real server
on loopback) now and then answers 429, 500, 503, or refuses a recipient who
opted out at the carrier (Twilio 21610). Then the API recovers and the queue
drains. Checked:

- nothing but what is owed (the STOP confirmation, HELP) reaches the
  API for a customer while they are opted out, by keyword or by the carrier;
- every reply the API accepted is one ``sent`` row, accepted once, and each
  customer's accepted replies arrive in the order they were queued;
- once the API recovers, nothing stays queued: every row is sent, suppressed
  (opted out before it went) or failed (the carrier refused the recipient).
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.carriers.twilio import TwilioCarrier
from bot.clock import VirtualClock
from bot.compliance.texts import texts_for
from bot.flows import load_flows
from bot.outbox import Outbox
from bot.web.keys import OUTBOX
from tests.conftest import FLOWS, TOKEN, AppFactory, Phone, db_rows
from tests.fake_carrier import FakeTwilioApi

STOPS = ("STOP", "stop", "unsubscribe", "please stop texting me")
STARTS = ("START", "unstop")
HELPS = ("HELP", "info")
OTHERS = ("1", "2", "3", "MENU", "hi", "what are ur hours", "do u ship to canada", "AC-123456", "🙂", "x" * 700)
FAILURES = (429, 500, 503, 429, 503, 400)  # 400: Twilio 21610, the recipient opted out at the carrier


class RecordingApi(FakeTwilioApi):
    """The fake Twilio API, also noting what it answered each request."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: list[int] = []

    async def messages(self, request: web.Request) -> web.Response:
        response = await super().messages(request)
        self.answered.append(response.status)
        return response


@pytest.mark.parametrize("seed", range(8))
async def test_outbox_keeps_every_promise_under_random_failures(
    make_client: AppFactory, aiohttp_server: Any, db_path: Path, clock: VirtualClock, seed: int
) -> None:
    rng = random.Random(seed)
    texts = texts_for(next(iter(load_flows(FLOWS))))
    owed_when_opted_out = {texts.opt_out_reply, texts.help}  # not a START's confirmation queued before the STOP
    api = RecordingApi()
    server = await aiohttp_server(api.app())
    carrier = TwilioCarrier(TOKEN, "AC" + "1" * 32, str(server.make_url("")), sync_replies=False)
    client: TestClient[Any, Any] = await make_client(
        carriers={"twilio": carrier}, outbox_worker=False, send_rates={"*": 1000.0}
    )
    outbox: Outbox = client.server.app[OUTBOX]
    phones = [Phone(client, f"+1555001{seed:02d}{i:02d}") for i in range(3)]
    opted_out = {phone.number: False for phone in phones}
    seen = 0

    async def one_pass() -> None:
        nonlocal seen
        await outbox.run_once()
        for request, status in zip(api.received[seen:], api.answered[seen:], strict=True):
            to, body = request.form["To"][0], request.form["Body"][0]
            assert not opted_out[to] or body in owed_when_opted_out, (seed, to, body[:60])
            if status == 400:
                opted_out[to] = True  # the carrier's word: recorded, honoured from now on
        seen = len(api.received)

    for _ in range(60):
        roll = rng.random()
        phone = rng.choice(phones)
        if roll < 0.45:
            for _ in range(rng.randint(1, 3)):  # customers double-text
                kind = rng.choices(("stop", "start", "help", "other"), (2, 1, 1, 8))[0]
                text = rng.choice({"stop": STOPS, "start": STARTS, "help": HELPS, "other": OTHERS}[kind])
                sent = await phone.text(text)
                assert sent.messages == []  # replies go through the API, never in the webhook's answer
                if kind in ("stop", "start"):
                    opted_out[phone.number] = kind == "stop"
        elif roll < 0.55:
            api.script.extend(rng.choice(FAILURES) for _ in range(rng.randint(1, 3)))
        else:
            await one_pass()
            clock.advance(rng.uniform(0.1, 20.0))
    api.script.clear()
    for _ in range(40):  # the API has recovered: everything due goes, backoffs (<= 300 s) run out
        await one_pass()
        clock.advance(30.0)

    rows = db_rows(db_path, "SELECT customer, body, status, provider_id FROM outbound ORDER BY id")
    assert {status for _, _, status, _ in rows} <= {"sent", "suppressed", "failed"}
    accepted: dict[str, list[str]] = defaultdict(list)
    for request, status in zip(api.received, api.answered, strict=True):
        if status == 201:
            accepted[request.form["To"][0]].append(request.form["Body"][0])
    sent_rows: dict[str, list[str]] = defaultdict(list)
    for customer, body, status, _ in rows:
        if status == "sent":
            sent_rows[customer].append(body)
    assert accepted == sent_rows  # each accepted once, in the order queued
    assert len({provider_id for *_, status, provider_id in rows if status == "sent"}) == sum(
        len(bodies) for bodies in sent_rows.values()
    )
