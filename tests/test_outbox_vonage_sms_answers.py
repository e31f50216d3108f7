"""The Vonage SMS API's per-part statuses inside a 200 answer, through the real app and outbox.

The SMS API answers a send with HTTP 200 and one entry per SMS part, each with a
``status`` (developer.vonage.com/api-errors/sms and the troubleshooting guide):
``0`` accepted; ``1`` throttled, ``5`` internal error and ``10`` too many binds say
"back off and retry"; the others refuse the request (``2``/``3`` bad parameters,
``7`` number barred, ``29`` a trial account's non-whitelisted destination, ...).

A send the API accepts only in part is never sent again: the accepted parts are on
their way to the phone and cannot be recalled, and the API cannot send the missing
part alone, so a resend would text the customer the accepted parts twice. The row is
given up (``failed``, "partly sent"), and the accepted parts are recorded so that
their delivery receipts find their message.

A real HTTP server on loopback answers what each test scripts; a real SQLite file; a
virtual clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.carriers.vonage_sms import VonageSmsCarrier
from tests.test_carriers_e2e import CUSTOMER, Desk, VonageSms
from tests.test_outbox_parts import answer, receipt
from tests.test_receipts_send_answers import ScriptedApi, open_desk  # noqa: F401 (a fixture)

PARTS = ("0A00000000000021", "0A00000000000022", "0A00000000000023")


async def desk_answering(open_desk: Any, *answers: bytes) -> tuple[Desk, ScriptedApi]:  # noqa: F811
    api = ScriptedApi([(200, {}, body) for body in answers])
    desk: Desk = await open_desk(VonageSms(), api.app())
    await desk.deliver(desk.driver.inbound(desk.driver.message_id(1), "1"))
    return desk, api


@pytest.mark.parametrize("code", ["1", "5", "10"])
async def test_a_refusal_that_says_try_later_is_retried_then_sent_once(open_desk: Any, code: str) -> None:  # noqa: F811
    desk, api = await desk_answering(open_desk, answer(PARTS[0], statuses=(code,)), answer(PARTS[0]))
    assert await desk.outbox.run_once() == 1
    assert desk.rows("SELECT status, attempts FROM outbound") == [("queued", 1)]
    desk.clock.advance(10)
    assert await desk.outbox.run_once() == 1
    assert desk.rows("SELECT status, provider_id FROM outbound") == [("sent", PARTS[0])]
    assert api.sends == 2


async def test_several_parts_each_saying_try_later_are_retried(open_desk: Any) -> None:  # noqa: F811
    desk, api = await desk_answering(open_desk, answer(*PARTS, statuses=("1", "5", "5")), answer(*PARTS))
    await desk.outbox.run_once()
    desk.clock.advance(10)
    await desk.outbox.run_once()
    assert desk.rows("SELECT status, provider_id FROM outbound") == [("sent", PARTS[0])]
    assert api.sends == 2


@pytest.mark.parametrize("code", ["2", "3", "4", "6", "7", "9", "15", "29"])
async def test_a_refusal_is_given_up_at_once(open_desk: Any, code: str) -> None:  # noqa: F811
    desk, api = await desk_answering(open_desk, answer(PARTS[0], statuses=(code,)))
    await desk.outbox.run_once()
    desk.clock.advance(600)
    await desk.outbox.run_once()
    ((status, error),) = desk.rows("SELECT status, last_error FROM outbound")
    assert status == "failed" and error.startswith(f"status {code}")
    assert api.sends == 1


@pytest.mark.parametrize("code", ["7", "29"])
async def test_a_barred_or_unlisted_number_is_no_opt_out(open_desk: Any, code: str) -> None:  # noqa: F811
    """"Number barred" and a trial account's "non-whitelisted destination" are not the customer's STOP.

    The consent ledger records what the customer asked for (Twilio 21610 says the recipient
    texted STOP); these say the carrier will not deliver, so the reply fails and no opt-out
    is written in the customer's name.
    """
    carrier = VonageSmsCarrier("s", "md5hash", "k", "s")
    assert not carrier.parse_send_response(200, answer(PARTS[0], statuses=(code,))).opted_out
    desk, _ = await desk_answering(open_desk, answer(PARTS[0], statuses=(code,)))
    await desk.outbox.run_once()
    assert desk.rows("SELECT status FROM outbound") == [("failed",)]
    assert desk.rows("SELECT count(*) FROM consent_events WHERE customer = ?", CUSTOMER) == [(0,)]


@pytest.mark.parametrize("last", ["1", "5", "3"])
async def test_a_partly_accepted_send_is_never_repeated_and_its_parts_receipts_count(
    open_desk: Any,  # noqa: F811
    last: str,
) -> None:
    desk, api = await desk_answering(open_desk, answer(*PARTS, statuses=("0", "0", last)))
    await desk.outbox.run_once()
    desk.clock.advance(600)
    assert await desk.outbox.run_once() == 0
    assert api.sends == 1  # the accepted parts are on their way: a resend would repeat them
    ((status, error),) = desk.rows("SELECT status, last_error FROM outbound")
    assert status == "failed" and error.startswith("partly sent (2 of 3 parts)"), error
    assert desk.rows("SELECT provider_id FROM outbound_parts ORDER BY part") == [(PARTS[0],), (PARTS[1],)]
    driver = desk.driver
    assert isinstance(driver, VonageSms)
    for part in PARTS[:2]:
        assert (await desk.deliver(receipt(driver, part, "delivered"), driver.status_path)).status == 204
    assert desk.count("early_receipts") == 0  # each receipt found its message
    assert desk.rows("SELECT delivery_status FROM outbound_parts ORDER BY part") == [("delivered",), ("delivered",)]
    assert desk.rows("SELECT status FROM outbound") == [("failed",)]  # the reply still went out incomplete
