"""Issue #7: under concurrency, each customer's messages are handled exactly once and in order.

Many customers text at once, each message fired concurrently with every other (random
interleaving, over the real app on loopback with a real SQLite file and a virtual
clock that jumps between requests), with carrier retries of the same MessageSid mixed
in and more retries after everything settles. Then, from the database file and the
HTTP answers:

- every message was processed once: inbound rows = distinct MessageSids sent;
- each number's messages are in the log in the order they reached the server (an
  observing middleware stamps each request as the handler receives it; from there to
  the conversation's FIFO lock nothing can overtake it, see ``_stamp_arrivals``);
- every message has exactly one reply, stored once in ``outbound``, and every answer for
  its MessageSid, retries included, carries exactly that reply;
- replaying each number's logged messages through a fresh ``FlowEngine`` on the same
  flow, at the logged virtual times, gives the same replies turn by turn and the same
  final conversation state.

Default size: 200 numbers x 10 messages. Full size (1,000 x 10):

    TEXTDESK_FULL=1 python3 -m pytest tests/test_concurrency.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.clock import VirtualClock
from bot.config import Config
from bot.engine import FlowEngine
from bot.flows import load_flows
from bot.replies import prepare
from bot.store import SQLiteStore
from bot.types import ConversationKey, Session
from bot.web.app import create_app
from tests.conftest import BUSINESS, FLOWS, PUBLIC, TOKEN, Phone, Sent, db_rows, new_sid

FULL = os.environ.get("TEXTDESK_FULL") == "1"
NUMBERS = 1000 if FULL else 200
MESSAGES = 10
RETRY_SHARE = 0.1  # of messages also sent again, concurrently, as a carrier retry
SEED = int(os.environ.get("TEXTDESK_SEED", "7"))

# What customers text: menu choices, order numbers, FAQs with typos, a question that
# asks "Did you mean 1) or 2)" (so the pending state is exercised), keywords, noise.
# No compliance words: those turns never reach the engine, and the replay runs only the engine.
TEXTS = ["hi", "MENU", "1", "2", "3", "4", "5", "AC-{n:06d}", "my order is ac {n:06d} thx", "wat r ur hrs?",
         "do u ship to canadaaa", "shipping?", "AGENT", "returns", "zzz qqq", "🙂", "menu pls", "order status"]
# Virtual seconds the clock jumps as a request arrives; 31 minutes passes the flow's idle timeout.
JUMPS = [0] * 20 + [1, 5, 60, 600] + [31 * 60]


def _stamp_arrivals(arrivals: list[tuple[str, str]], tick: Callable[[], None], contended: set[str]) -> Any:
    """A middleware that records (From, MessageSid) as each request reaches the webhook handler,
    and lets virtual time pass (``tick``) between arrivals, interleaved with the turns.

    It reads the body first; aiohttp keeps it, so the handler's own read returns at once.
    From here to the conversation lock the handler never waits (verify and parse are
    synchronous, and ``asyncio.Lock.acquire`` either takes a free lock or queues FIFO
    without yielding first), so this order is the order of the lock's queue.
    """

    in_flight: dict[str, int] = defaultdict(int)

    @web.middleware
    async def stamp(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/webhooks/twilio":
            fields = dict(parse_qsl((await request.read()).decode()))
            number = fields["From"]
            arrivals.append((number, fields["MessageSid"]))
            tick()
            in_flight[number] += 1
            if in_flight[number] > 1:
                contended.add(number)  # this turn will wait for the conversation's lock
            try:
                return await handler(request)
            finally:
                in_flight[number] -= 1
        return await handler(request)

    return stamp


def _plan(rng: random.Random) -> list[tuple[int, dict[str, str]]]:
    """Every send, shuffled: (number index, signed form params); retries repeat params."""
    sends = []
    for n in range(NUMBERS):
        for _ in range(MESSAGES):
            text = rng.choice(TEXTS).format(n=rng.randrange(10**6))
            sends.append((n, {"MessageSid": new_sid(), "Body": text}))
    retries = rng.sample(sends, int(len(sends) * RETRY_SHARE))
    sends += [(n, dict(fields)) for n, fields in retries]
    rng.shuffle(sends)
    return sends


def _number(n: int) -> str:
    return f"+1555{n:07d}"


async def test_concurrent_customers_exactly_once_in_order_and_replayable(
    aiohttp_client: Any, db_path: Path, clock: VirtualClock
) -> None:
    rng = random.Random(SEED)
    config = Config(flows_dir=FLOWS, db_path=db_path, public_url=PUBLIC, twilio_auth_token=TOKEN)
    app = create_app(config, load_flows(FLOWS), SQLiteStore(db_path), clock)
    arrivals: list[tuple[str, str]] = []
    contended: set[str] = set()  # numbers with two requests in the server at once
    app.middlewares.append(_stamp_arrivals(arrivals, lambda: clock.advance(rng.choice(JUMPS)), contended))
    client = await aiohttp_client(app)
    phones = [Phone(client, _number(n)) for n in range(NUMBERS)]
    answers: dict[str, list[Sent]] = defaultdict(list)

    async def send(n: int, fields: dict[str, str]) -> None:
        params = phones[n].params(fields["Body"], sid=fields["MessageSid"])
        sent = await phones[n].post(params)
        assert sent.status == 200, sent.text
        answers[fields["MessageSid"]].append(sent)

    plan = _plan(rng)
    await asyncio.gather(*(send(n, fields) for n, fields in plan))
    # Late retries, after the conversations have moved on: still the stored reply.
    late = rng.sample(plan, 50)
    await asyncio.gather(*(send(n, fields) for n, fields in late))

    # Processed once: one inbound row per distinct MessageSid, none for the retries.
    sids = {fields["MessageSid"] for _, fields in plan}
    assert len(sids) == NUMBERS * MESSAGES
    inbound = db_rows(db_path, "SELECT provider_id, customer, body, replies, received_at, kind FROM inbound "
                               "ORDER BY rowid")
    assert len(inbound) == len(sids)
    assert {row[0] for row in inbound} == sids
    assert {row[5] for row in inbound} == {"flow"}

    # In arrival order: per number, the log's order is the order requests reached the lock.
    first_arrivals: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for number, sid in arrivals:
        if sid not in seen:
            seen.add(sid)
            first_arrivals[number].append(sid)
    logged: dict[str, list[tuple[str, str, str, float]]] = defaultdict(list)
    for sid, number, body, replies, at, _ in inbound:
        logged[number].append((sid, body, replies, at))
    for number, turns in logged.items():
        assert [sid for sid, *_ in turns] == first_arrivals[number], number
        times = [at for *_, at in turns]
        assert times == sorted(times), number

    # Exactly one reply per message, stored once, and every answer (retries too) is that reply.
    outbound = db_rows(db_path, "SELECT in_reply_to, body, media FROM outbound ORDER BY id")
    by_sid: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for sid, body, media in outbound:
        by_sid[sid].append((body, json.loads(media)))
    stored = {sid: json.loads(replies) for sid, _, _, replies, _, _ in inbound}
    for sid in sids:
        assert len(by_sid[sid]) == 1, sid
        [(body, media)] = by_sid[sid]
        assert [{"text": body, "media": media}] == stored[sid]
        first, *again = answers[sid]
        assert len(first.messages) == 1 and first.messages[0][0] == body
        assert all(retry.text == first.text for retry in again), sid
    # The run exercised what it claims to: idle restarts, "Did you mean", and customers whose
    # texts queued on their conversation's lock.
    replies_text = [r["text"] for rs in stored.values() for r in rs]
    assert any(text.startswith("Welcome back") for text in replies_text)
    assert any(text.startswith("Did you mean") for text in replies_text)
    assert len(contended) >= NUMBERS // 4, "too few customers had two texts in flight at once"
    retried = sum(len(a) - 1 for a in answers.values())
    assert retried == len(plan) - len(sids) + len(late)

    # A sequential replay through a fresh engine reproduces every reply and the final state.
    flows = load_flows(FLOWS)
    flow = flows.for_number(BUSINESS)
    engine = FlowEngine(flow)
    final = {row[0]: row[1:] for row in db_rows(
        db_path, "SELECT customer, flow, flow_version, state, variables, pending, created_at, updated_at "
                 "FROM conversations")}
    assert len(final) == NUMBERS
    for number, turns in logged.items():
        key = ConversationKey("twilio", number, BUSINESS)
        session: Session | None = None
        for sid, body, replies, at in turns:
            outcome = engine.handle(key, session, body, at)
            expected = prepare(outcome.replies, flow.settings, True, f"{PUBLIC}/media")
            assert [r.to_json() for r in expected] == json.loads(replies), (number, sid, body)
            session = outcome.session
        assert session is not None
        assert final[number] == (
            session.flow, session.flow_version, session.state, json.dumps(session.variables, sort_keys=True),
            json.dumps(list(session.pending)), session.created_at, session.updated_at,
        ), number
