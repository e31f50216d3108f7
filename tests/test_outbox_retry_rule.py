"""One retry rule for every carrier's REST answer: 408, 429, 5xx and no status at all are retried.

Through the real app and outbox, against a real HTTP server on loopback that answers what a
test scripts; the database is a real SQLite file, time a virtual clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.carriers.sending import retryable_status
from tests.test_carriers_e2e import ASYNC, Desk, Driver
from tests.test_receipts_send_answers import ScriptedApi, open_desk  # noqa: F401 (a fixture)

_ACCEPTED = {  # a success answer each carrier's parse_send_response reads an id from
    "twilio": (201, b'{"sid": "SM' + b"0" * 31 + b'9"}'),
    "vonage": (202, b'{"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-000000000009"}'),
    "vonage-sms": (200, b'{"message-count": "1", "messages": [{"status": "0", "message-id": "0A9"}]}'),
    "plivo": (202, b'{"message_uuid": ["db3ce55a-7f1d-11e1-8ea7-000000000009"]}'),
    "telnyx": (200, b'{"data": {"id": "40385f64-5717-4562-b3fc-000000000009"}}'),
    "bandwidth": (202, b'{"id": "1589228074636lm4k2je7j7jklbn2"}'),
    "sinch": (201, b'{"id": "01FC66621XXXXX119Z8PMV1QPQ"}'),
}


@pytest.mark.parametrize("status", [408, 429, 500, 503])
@pytest.mark.parametrize("driver", ASYNC, ids=lambda d: d.id)
async def test_a_status_that_says_try_again_is_retried_then_sent_once(
    open_desk: Any,  # noqa: F811
    driver: Driver,
    status: int,
) -> None:
    ok_status, ok_body = _ACCEPTED[driver.channel]
    api = ScriptedApi([(status, {}, b""), (ok_status, {}, ok_body)])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    assert desk.rows("SELECT status, attempts FROM outbound") == [("queued", 1)]
    desk.clock.advance(10)
    assert await desk.outbox.run_once() == 1
    assert desk.rows("SELECT status FROM outbound") == [("sent",)]
    assert api.sends == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
@pytest.mark.parametrize("driver", ASYNC, ids=lambda d: d.id)
async def test_a_refusal_is_not_retried(open_desk: Any, driver: Driver, status: int) -> None:  # noqa: F811
    api = ScriptedApi([(status, {}, b"{}")])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    assert desk.rows("SELECT status FROM outbound") == [("failed",)]
    assert api.sends == 1


@pytest.mark.parametrize(
    ("status", "retry"),
    [(0, True), (99, True), (200, False), (302, False), (400, False), (404, False), (408, True), (409, False),
     (429, True), (499, False), (500, True), (501, True), (599, True)],
)  # fmt: skip
def test_retryable_status(status: int, retry: bool) -> None:
    assert retryable_status(status) is retry


@pytest.mark.parametrize("status", [0, 99, 400, 404, 408, 409, 429, 500, 502, 599])
@pytest.mark.parametrize("driver", ASYNC, ids=lambda d: d.id)
def test_every_adapter_classifies_an_answer_by_the_one_rule(driver: Driver, status: int) -> None:
    """Each adapter's own verdict follows ``retryable_status``, not only the outbox's override of it.

    The outbox widens an adapter's verdict, but an adapter with a rule of its own (Twilio
    retried only 429 and 5xx) disagrees with the others wherever its verdict is read alone.
    """
    carrier = driver.carrier("http://127.0.0.1:9")
    for body in (b"", b"{}", b"<html><body>Bad Gateway</body></html>"):
        result = carrier.parse_send_response(status, body)
        assert not result.ok
        assert result.retry is retryable_status(status), (status, body)
