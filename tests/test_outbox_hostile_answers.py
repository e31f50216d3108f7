"""The outbox against carrier answers and histories that break naive senders.

Through the real app and outbox; the carrier's API is a real HTTP server on loopback
answering what each test scripts; the database a real SQLite file; time a virtual clock.
"""

from __future__ import annotations

from typing import Any

from tests.test_carriers_e2e import CUSTOMER, Desk, Twilio
from tests.test_receipts_send_answers import ScriptedApi, open_desk  # noqa: F401 (a fixture)

OTHER = "+15550006002"
ACCEPTED = (201, {}, b'{"sid": "SM' + b"0" * 31 + b'7", "status": "queued"}')


async def test_a_row_retried_a_thousand_times_backs_off_and_the_pass_goes_on(open_desk: Any) -> None:  # noqa: F811
    """The backoff ``base * 2**attempts`` once overflowed a float at attempt 1,024.

    TEXTDESK_OUTBOX_MAX_AGE goes up to 7 days; at the 300 s cap a carrier that keeps
    answering 5xx for one number reaches 1,024 attempts in about 2.5 days. From then on
    every pass raised at that row (OverflowError), so no row after it was ever sent.
    The row's history is written into the database file, as that many passes would leave it.
    """
    driver = Twilio(sync=False)
    api = ScriptedApi([(503, {}, b""), ACCEPTED])
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    await desk.deliver(driver.inbound(driver.message_id(2), "1") | {"From": OTHER})
    desk.rows("UPDATE outbound SET attempts = 1100 WHERE customer = ?", CUSTOMER)
    start = desk.clock.now()
    assert await desk.outbox.run_once() == 1  # one business number: its next row waits for the next pass
    desk.clock.advance(1)
    assert await desk.outbox.run_once() == 1
    rows = desk.rows("SELECT customer, status, attempts, next_attempt_at FROM outbound ORDER BY id")
    (customer, status, attempts, next_at), (other, other_status, _, _) = rows
    assert (customer, status, attempts) == (CUSTOMER, "queued", 1101)
    assert start < next_at <= start + 300  # max_delay, the cap on every backoff
    assert (other, other_status) == (OTHER, "sent")
