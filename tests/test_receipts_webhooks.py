"""Delivery receipts at the inbound URL, through the real app on loopback with a real SQLite file.

Telnyx, Bandwidth and Sinch post delivery events to the inbound URL too (carriers.md
§5.1, §6.1, §7.4), Bandwidth even in one batch with customers' messages. A webhook is
answered 4xx only when nothing of it was recorded: a carrier that is refused retries
(Bandwidth for 24 hours) or gives up, and either way it must not be told "bad request"
for a message we already took and answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.clock import VirtualClock
from tests.conftest import AppFactory
from tests.fake_apis import FakeCarrierApis
from tests.test_carriers_e2e import Bandwidth, Desk, Driver, Sinch, Telnyx, Twilio


@pytest.fixture
def open_desk(make_client: AppFactory, aiohttp_server: Any, clock: VirtualClock, db_path: Path) -> Any:
    async def start(driver: Driver) -> Desk:
        apis = FakeCarrierApis()
        server = await aiohttp_server(apis.app())
        carrier = driver.carrier(str(server.make_url("/")).rstrip("/"))
        client = await make_client(carriers={carrier.name: carrier}, outbox_worker=False, send_rates={"*": 100.0})
        return Desk(driver, client, apis, clock, db_path)

    return start


async def test_bandwidth_batch_with_a_malformed_receipt_is_refused_before_its_message_is_handled(
    open_desk: Any,
) -> None:
    driver = Bandwidth()
    desk: Desk = await open_desk(driver)
    broken = {"type": "message-delivered", "to": "+15550006001", "message": {"id": 42}}  # id should be a string
    batch = [*driver.inbound(driver.message_id(1), "1"), broken]
    answer = await desk.deliver(batch)
    assert answer.status == 400, answer.body
    assert "[1].message" in answer.body
    # Refused whole: nothing of the batch is recorded, so the 400 tells the truth.
    assert (desk.count("inbound"), desk.count("outbound")) == (0, 0)
    # Bandwidth's retry, once its event is well formed, is then handled once.
    answer = await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert answer.status == driver.ack
    assert (desk.count("inbound"), desk.count("outbound")) == (1, 1)



async def test_twilio_rest_inbound_message_is_not_read_as_a_status_callback(open_desk: Any) -> None:
    """Twilio reports only to the StatusCallback URL (§1.5): its inbound URL carries no receipts."""
    driver = Twilio(sync=False)
    desk: Desk = await open_desk(driver)
    payload = driver.inbound(driver.message_id(1), "1")
    del payload["SmsStatus"], payload["SmsSid"]  # an inbound form without a status word
    answer = await desk.deliver(payload)
    assert answer.status == 200, answer.body
    assert (desk.count("inbound"), desk.count("outbound")) == (1, 1)
    # The status URL still refuses a callback without a status.
    answer = await desk.deliver({"MessageSid": driver.message_id(2), "To": "+15550006001"}, driver.status_path)
    assert answer.status == 400


async def test_twilio_status_word_and_error_code_are_capped_as_other_carriers_cap_them(open_desk: Any) -> None:
    """Twilio's words are short (§1.5: "undelivered" is the longest); the other adapters keep 32 and 16."""
    driver = Twilio(sync=False)
    desk: Desk = await open_desk(driver)
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    ((provider_id,),) = desk.rows("SELECT provider_id FROM outbound WHERE status = 'sent'")
    odd = driver.receipt(provider_id, delivered=False) | {"MessageStatus": "x" * 60_000, "ErrorCode": "3" * 900}
    assert (await desk.deliver(odd, driver.status_path)).status == driver.ack
    ((status, error),) = desk.rows("SELECT delivery_status, delivery_error FROM outbound")
    assert (status, error) == ("x" * 32, "3" * 16)


def _failed_with_code(driver: Driver, provider_id: str, code: str) -> Any:
    """A failure receipt whose error code is ``code``, in each JSON carrier's own shape."""
    receipt = driver.receipt(provider_id, delivered=True)
    if isinstance(driver, Telnyx):
        receipt["data"]["payload"]["to"][0]["status"] = "delivery_failed"
        receipt["data"]["payload"]["errors"] = [{"code": code, "title": "Failed"}]
        receipt["data"]["payload"]["to"][0]["phone_number"] = "+1" * 10_000
    elif isinstance(driver, Bandwidth):
        receipt[0].update(type="message-failed", errorCode=code, to="+1" * 10_000)
    else:
        receipt.update(status="Failed", code=code)
    return receipt


@pytest.mark.parametrize("driver", [Telnyx(), Bandwidth(), Sinch()], ids=lambda d: d.id)
async def test_json_carriers_keep_error_codes_and_numbers_short(open_desk: Any, driver: Driver) -> None:
    """As Plivo and the Vonage SMS API keep a code to 16 characters: a receipt's fields are stored."""
    desk: Desk = await open_desk(driver)
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.outbox.run_once()
    ((provider_id,),) = desk.rows("SELECT provider_id FROM outbound WHERE status = 'sent'")
    answer = await desk.deliver(_failed_with_code(driver, provider_id, "4" * 20_000), driver.status_path)
    assert answer.status == driver.ack, answer.body
    ((status, error),) = desk.rows("SELECT delivery_status, delivery_error FROM outbound")
    assert status in ("failed", "undelivered") and error == "4" * 16
