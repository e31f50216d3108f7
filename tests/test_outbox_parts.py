"""One reply that the carrier sends as several messages: every part's receipt counts.

The Vonage SMS API answers a long text with one ``message-id`` per SMS part and then sends
one delivery receipt per part (carriers.md §3.3). The reply's status is then the one a
Twilio user reads for a long message: ``delivered`` once every part is, ``failed`` (or
``undelivered``) as soon as any part is, else the least advanced part's.

Through the real app and outbox against a real HTTP server on loopback, and on the store
itself where a test needs an order of events the app cannot script; a real SQLite file and
a virtual clock throughout.
"""

from __future__ import annotations

import json
from typing import Any

import bot.outbox
from bot.carriers.vonage_sms import VonageSmsCarrier
from bot.store import SQLiteStore, Store
from bot.types import Reply
from tests.conftest import db_rows
from tests.test_carriers_e2e import Desk, Plivo, VonageSms
from tests.test_receipts_send_answers import ScriptedApi, open_desk  # noqa: F401 (a fixture)
from tests.test_store_sqlite import T0, inbound, key_for, session_for

PARTS = ("0A00000000000011", "0A00000000000012", "0A00000000000013")


def answer(*ids: str, statuses: tuple[str, ...] = ()) -> bytes:
    """The SMS API's answer to a send that it split into ``len(ids)`` SMS parts."""
    codes = statuses or ("0",) * len(ids)
    messages = [{"to": "15550006001", "message-id": i, "status": code, "remaining-balance": "3.14",
                 "message-price": "0.0333", "network": "310260", "client-ref": "textdesk-1"}
                for i, code in zip(ids, codes, strict=True)]  # fmt: skip
    return json.dumps({"message-count": str(len(ids)), "messages": messages}).encode()


def receipt(driver: VonageSms, message_id: str, status: str, err: str = "0") -> dict[str, str]:
    return {**driver.receipt(message_id, delivered=False), "status": status, "err-code": err}


async def sent_desk(open_desk: Any, ids: tuple[str, ...]) -> tuple[Desk, VonageSms]:  # noqa: F811
    driver = VonageSms()
    api = ScriptedApi([(200, {}, answer(*ids))])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    assert desk.rows("SELECT status, provider_id FROM outbound") == [("sent", ids[0])]
    return desk, driver


def test_the_send_answer_names_every_part() -> None:
    carrier = VonageSmsCarrier("s", "md5hash", "k", "s")
    result = carrier.parse_send_response(200, answer(*PARTS))
    assert result.ok and result.provider_id == PARTS[0] and result.part_ids == PARTS


async def test_delivered_only_when_every_part_is(open_desk: Any) -> None:  # noqa: F811
    desk, driver = await sent_desk(open_desk, PARTS)
    status = driver.status_path
    assert (await desk.deliver(receipt(driver, PARTS[0], "delivered"), status)).status == 204
    assert (await desk.deliver(receipt(driver, PARTS[2], "delivered"), status)).status == 204
    assert desk.rows("SELECT delivery_status FROM outbound") == [("",)]  # part 2 not yet heard of
    assert (await desk.deliver(receipt(driver, PARTS[1], "accepted"), status)).status == 204
    assert desk.rows("SELECT delivery_status FROM outbound") == [("sent",)]  # the least advanced part
    await desk.deliver(receipt(driver, PARTS[1], "delivered"), status)
    assert desk.rows("SELECT delivery_status, delivery_error FROM outbound") == [("delivered", "")]
    assert desk.count("early_receipts") == 0  # every part's receipt found its message


async def test_one_failed_part_fails_the_reply_whatever_comes_after(open_desk: Any) -> None:  # noqa: F811
    desk, driver = await sent_desk(open_desk, PARTS)
    status = driver.status_path
    await desk.deliver(receipt(driver, PARTS[0], "delivered"), status)
    await desk.deliver(receipt(driver, PARTS[1], "failed", err="6"), status)
    assert desk.rows("SELECT delivery_status, delivery_error FROM outbound") == [("failed", "6")]
    await desk.deliver(receipt(driver, PARTS[2], "delivered"), status)
    await desk.deliver(receipt(driver, PARTS[1], "delivered"), status)  # a part never goes back
    assert desk.rows("SELECT delivery_status, delivery_error FROM outbound") == [("failed", "6")]
    assert desk.count("early_receipts") == 0


async def test_a_receipt_to_the_inbound_url_counts_too(open_desk: Any) -> None:  # noqa: F811
    desk, driver = await sent_desk(open_desk, PARTS[:2])
    for part in PARTS[:2]:
        assert (await desk.deliver(receipt(driver, part, "delivered"))).status == 204
    assert desk.rows("SELECT delivery_status FROM outbound") == [("delivered",)]


async def test_a_one_part_send_is_unchanged(open_desk: Any) -> None:  # noqa: F811
    desk, driver = await sent_desk(open_desk, PARTS[:1])
    await desk.deliver(receipt(driver, PARTS[0], "delivered"), driver.status_path)
    assert desk.rows("SELECT delivery_status FROM outbound") == [("delivered",)]



async def queued(store: SQLiteStore) -> int:
    key = key_for("+15556001234", channel="vonage-sms")
    message = inbound("in-1", key)
    await store.load_turn(message)
    await store.commit_turn(message, session_for(key, "menu"), (Reply("hi"),), "", T0, queue=True)
    (item,) = await store.due_outbox(T0)
    return item.id


async def test_part_receipts_that_beat_the_send_are_kept_for_it(store: SQLiteStore) -> None:
    item_id = await queued(store)
    # Parts 2 and 3 reported before the outbox wrote the ids down (the carrier answered slowly).
    assert await store.record_receipt("vonage-sms", PARTS[1], "delivered", "", T0 + 1) is None
    assert await store.record_receipt("vonage-sms", PARTS[2], "delivered", "", T0 + 1) is None
    await store.mark_parts_sent(item_id, 0, PARTS, T0 + 2, done=True)
    assert db_rows(store.path, "SELECT status, provider_id, delivery_status FROM outbound") == [
        ("sent", PARTS[0], "")
    ]
    assert db_rows(store.path, "SELECT count(*) FROM early_receipts") == [(0,)]
    outcome = await store.record_receipt("vonage-sms", PARTS[0], "delivered", "", T0 + 3)
    assert outcome is not None and outcome.status == "delivered" and outcome.updated
    assert outcome.customer == "+15556001234"
    assert db_rows(store.path, "SELECT delivery_status FROM outbound") == [("delivered",)]


async def test_parts_of_another_channel_are_not_matched(store: SQLiteStore) -> None:
    item_id = await queued(store)
    await store.mark_parts_sent(item_id, 0, PARTS, T0 + 2, done=True)
    assert await store.record_receipt("telnyx", PARTS[1], "failed", "", T0 + 3) is None
    assert db_rows(store.path, "SELECT delivery_status FROM outbound") == [("",)]


async def test_a_chunk_accepted_without_an_id_still_counts_as_sent(store: SQLiteStore) -> None:
    # A 2xx without a readable id is accepted (resending would text the customer twice):
    # the next request of the reply must start after it all the same.
    item_id = await queued(store)
    assert await store.chunks_sent(item_id) == 0
    await store.mark_parts_sent(item_id, 0, ("",), T0 + 1, done=False)
    assert await store.chunks_sent(item_id) == 1
    await store.mark_parts_sent(item_id, 1, ("uuid-2",), T0 + 2, done=True)
    assert db_rows(store.path, "SELECT status, provider_id FROM outbound") == [("sent", "")]
    assert await store.record_receipt("vonage-sms", "", "delivered", "", T0 + 3) is None


def test_every_store_records_parts() -> None:
    """Recording parts is part of the storage interface, not a feature the outbox probes for.

    A store that only might record them (a ``PartsStore`` protocol checked with
    isinstance) would send long replies whole and lose parts' receipts without a word;
    as abstract methods of ``Store`` a backend without them cannot even be built.
    """
    assert {"chunks_sent", "mark_parts_sent"} <= Store.__abstractmethods__
    assert not hasattr(bot.outbox, "PartsStore")


async def test_parts_a_failed_send_got_accepted_are_kept_with_the_failure(store: SQLiteStore) -> None:
    # One call, one transaction: a crash can leave the row queued with nothing recorded
    # (sent again whole) or failed with its parts, never queued with parts that a retry
    # of a one-request send would not see.
    item_id = await queued(store)
    assert await store.record_receipt("vonage-sms", PARTS[1], "delivered", "", T0 + 1) is None  # beat the answer
    await store.mark_parts_sent(item_id, 0, PARTS[:2], T0 + 2, done=True, error="partly sent (2 of 3 parts)")
    assert db_rows(store.path, "SELECT status, last_error, provider_id, delivery_status FROM outbound") == [
        ("failed", "partly sent (2 of 3 parts)", PARTS[0], "")
    ]
    assert await store.due_outbox(T0 + 10_000) == []
    assert db_rows(store.path, "SELECT delivery_status FROM outbound_parts ORDER BY part") == [("",), ("delivered",)]
    assert db_rows(store.path, "SELECT count(*) FROM early_receipts") == [(0,)]
    outcome = await store.record_receipt("vonage-sms", PARTS[0], "delivered", "", T0 + 3)
    assert outcome is not None and outcome.customer == "+15556001234" and not outcome.updated


async def test_plivo_reports_a_long_message_once_under_its_own_uuid(open_desk: Any) -> None:  # noqa: F811
    """Plivo is not the Vonage SMS API: one ``MessageUUID`` per message, whatever its parts.

    Plivo's status callback names the parts only as a count (``Units``); its
    ``ParentMessageUUID`` and ``PartInfo`` are "reserved for future use", the former
    "same as the MessageUUID" (plivo.com/docs/messaging/api/message/message-status-callbacks,
    carriers.md §4.5). So a reply Plivo splits into three SMS has one id, one receipt
    per status, and no parts: the first ``delivered`` is the reply's.
    """
    driver = Plivo(sync=False)
    uuid = "db3ce55a-7f1d-11e1-8ea7-000000000031"
    api = ScriptedApi([(202, {}, json.dumps({"message": "message(s) queued", "message_uuid": [uuid],
                                             "api_id": "db342550-7f1d-11e1-8ea7-1231380bc196"}).encode())])  # fmt: skip
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    long = {"Units": "3", "ParentMessageUUID": uuid, "PartInfo": "", "TotalRate": "0.0050", "TotalAmount": "0.0150"}
    answer = await desk.deliver(driver.receipt(uuid, delivered=True) | long, driver.status_path)
    assert answer.status == driver.ack
    assert desk.rows("SELECT status, provider_id, delivery_status FROM outbound") == [("sent", uuid, "delivered")]
    assert desk.count("outbound_parts") == 0 and desk.count("early_receipts") == 0
