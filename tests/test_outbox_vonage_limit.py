"""The Vonage Messages API takes at most 1,000 characters of SMS text (carriers.md §2.4).

textdesk prepares SMS replies of up to ``max_segments`` segments, 1,530 characters at 10, so
a longer reply goes to Vonage as several messages: cut where bot.sms cuts (paragraph,
sentence, word, never inside a grapheme), sent in order, each exactly once even when a
later one has to be retried. The real store (SQLite file), the real outbox and adapter, and
the fake Vonage API on a real loopback server (tests/fake_apis.py); a virtual clock.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.carriers.vonage import MAX_SMS_TEXT, VonageCarrier
from bot.clock import VirtualClock
from bot.outbox import Outbox, RateLimiter
from bot.sms import analyze, grapheme_clusters, split_reply
from bot.store import SQLiteStore
from bot.types import Reply
from tests.conftest import db_rows
from tests.fake_apis import FakeCarrierApis
from tests.test_store_sqlite import T0, inbound, key_for, session_for

CUSTOMER = "+15550007001"
# Ten GSM-7 segments of prose: what a flow with max_segments: 10 may send as one reply.
SENTENCE = "Our returns desk takes back anything unworn within thirty days of purchase. "
LONG = (SENTENCE * 25)[: 153 * 10].rsplit(" ", 1)[0] + "."


@dataclass
class Rig:
    store: SQLiteStore
    outbox: Outbox
    api: FakeCarrierApis
    clock: VirtualClock

    async def queue(self, *texts: str, provider: str = "in-1") -> None:
        key = key_for(CUSTOMER, channel="vonage")
        message = inbound(provider, key)
        await self.store.load_turn(message)
        await self.store.commit_turn(message, session_for(key), tuple(Reply(t) for t in texts), "", T0, queue=True)

    def texts(self) -> list[str]:
        return [str(r.json["text"]) for r in self.api.of("vonage")]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return db_rows(self.store.path, sql)


@pytest.fixture
async def rig(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Rig]:
    api = FakeCarrierApis()
    server = await aiohttp_server(api.app())
    carrier = VonageCarrier("s" * 32, "key", "secret", str(server.make_url("")).rstrip("/"))
    store = SQLiteStore(tmp_path / "vonage.db")
    await store.open()
    clock = VirtualClock(T0)
    try:
        async with aiohttp.ClientSession() as http:
            outbox = Outbox(store, {"vonage": carrier}, clock, http, RateLimiter({"*": 100.0}), rng=random.Random(7))
            yield Rig(store, outbox, api, clock)
    finally:
        await store.close()


def test_the_long_reply_is_what_a_ten_segment_flow_sends() -> None:
    assert len(LONG) > MAX_SMS_TEXT == 1000
    assert analyze(LONG).segments == 10 and split_reply(LONG, 10) == [LONG]


async def test_a_reply_over_the_limit_goes_as_several_messages_in_order(rig: Rig) -> None:
    await rig.queue(LONG)
    assert await rig.outbox.run_once() == 1
    assert len(rig.texts()) == 1  # the second message waits for the number's pace
    assert rig.rows("SELECT status, attempts FROM outbound") == [("queued", 0)]
    rig.clock.advance(1)
    assert await rig.outbox.run_once() == 1
    texts = rig.texts()
    assert len(texts) == 2 and all(len(t) <= MAX_SMS_TEXT for t in texts)
    assert " ".join(texts) == LONG  # every word once, in order; the cut is at a sentence end
    assert texts[0].endswith(".")
    first, second = rig.api.issued["vonage"]
    assert rig.rows("SELECT status, provider_id FROM outbound") == [("sent", first)]
    keys = [r.json["client_ref"] for r in rig.api.of("vonage")]
    assert len(set(keys)) == 2  # each message its own reference
    # Each message has its own receipts; the reply is delivered when both are.
    await rig.store.record_receipt("vonage", second, "delivered", "", T0 + 5)
    assert rig.rows("SELECT delivery_status FROM outbound") == [("",)]
    await rig.store.record_receipt("vonage", first, "delivered", "", T0 + 6)
    assert rig.rows("SELECT delivery_status FROM outbound") == [("delivered",)]


async def test_a_retry_resends_only_what_was_not_accepted_and_holds_the_next_reply(rig: Rig) -> None:
    await rig.queue(LONG, "And one more thing.")
    rig.api.script["vonage"] = [202, 429]  # the first message accepted, the second throttled
    await rig.outbox.run_once()
    rig.clock.advance(1)
    await rig.outbox.run_once()
    assert len(rig.texts()) == 2
    assert rig.rows("SELECT status, attempts FROM outbound ORDER BY id") == [("queued", 1), ("queued", 0)]
    rig.clock.advance(600)
    await rig.outbox.run_once()
    rig.clock.advance(1)
    await rig.outbox.run_once()
    texts = rig.texts()
    # Sent: part 1, part 2 (throttled), part 2 again, then the next reply; part 1 exactly once.
    assert len(texts) == 4
    assert texts[1] == texts[2] and " ".join([texts[0], texts[2]]) == LONG
    assert texts[3] == "And one more thing."
    assert rig.rows("SELECT status FROM outbound ORDER BY id") == [("sent",), ("sent",)]


async def test_a_refused_second_message_fails_the_reply_without_resending_the_first(rig: Rig) -> None:
    await rig.queue(LONG)
    rig.api.script["vonage"] = [202, 422]
    for _ in range(3):
        await rig.outbox.run_once()
        rig.clock.advance(600)
    assert len(rig.texts()) == 2
    assert rig.rows("SELECT status FROM outbound") == [("failed",)]


async def test_a_reply_within_the_limit_is_one_message(rig: Rig) -> None:
    text = LONG[:MAX_SMS_TEXT]
    await rig.queue(text)
    await rig.outbox.run_once()
    assert rig.texts() == [text]
    assert rig.rows("SELECT count(*) FROM outbound_parts") == [(0,)]


def test_the_adapter_never_builds_a_request_over_the_limit() -> None:
    carrier = VonageCarrier("s" * 32, "key", "secret")
    with pytest.raises(ValueError, match="1000"):
        carrier.outbound_request(CUSTOMER, "+15555550100", Reply("x" * 1001), "", "textdesk-1")


def test_chunks_cut_between_graphemes_when_there_is_no_space() -> None:
    # 1,500 code points of flags (two regional indicators each) and no whitespace at all.
    text = "🇫🇷🇩🇪" * 375
    chunks = VonageCarrier("s" * 32, "key", "secret").chunks(Reply(text))
    assert "".join(c.text for c in chunks) == text
    assert all(len(c.text) <= MAX_SMS_TEXT for c in chunks)
    for chunk in chunks:  # each one a whole number of flags
        assert all(len(cluster) == 2 for cluster in grapheme_clusters(chunk.text))


def test_media_and_short_texts_are_one_chunk() -> None:
    carrier = VonageCarrier("s" * 32, "key", "secret")
    mms = Reply(LONG, ("https://example.com/a.jpg",))  # a caption may be 2,000 characters (§2.5)
    assert carrier.chunks(mms) == (mms,)
    assert carrier.chunks(Reply("hi")) == (Reply("hi"),)
