"""Every carrier bounds an inbound message the same way: 10,000 characters, 10 attachments.

A longer text (or more attachments) is no SMS or MMS any carrier delivers (carriers.md §2.5,
§4.1, §5.5, §6.5, §7.1), only work for the matcher and rows for the database: it gets a
clear 400 ``too_long`` from every carrier alike, signed and through the real app.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.carriers.fields import MAX_INBOUND_MEDIA, MAX_INBOUND_TEXT
from tests.test_carriers_e2e import (  # noqa: F401 (apis_url, open_desk: fixtures)
    Bandwidth,
    Desk,
    Driver,
    Plivo,
    Sinch,
    Telnyx,
    Vonage,
    apis_url,
    open_desk,
)

LONG_TEXT = [Vonage(), Plivo(sync=False), Telnyx(), Bandwidth(), Sinch()]


def test_the_bounds() -> None:
    assert (MAX_INBOUND_TEXT, MAX_INBOUND_MEDIA) == (10_000, 10)


@pytest.mark.parametrize("driver", LONG_TEXT, ids=lambda d: d.id)
async def test_a_text_over_the_bound_is_refused_and_one_at_it_is_taken(open_desk: Any, driver: Driver) -> None:  # noqa: F811
    desk: Desk = await open_desk(driver)
    refused = await desk.deliver(driver.inbound(driver.message_id(1), "a" * (MAX_INBOUND_TEXT + 1)))
    assert refused.status == 400 and '"too_long"' in refused.body
    assert desk.count("inbound") == 0
    taken = await desk.deliver(driver.inbound(driver.message_id(2), "a" * MAX_INBOUND_TEXT))
    assert taken.status == driver.ack
    assert desk.count("inbound") == 1


def with_media(driver: Driver, count: int) -> Any:
    payload = driver.inbound(driver.message_id(count), "look", photo=True)
    urls = [f"https://media.example.com/{n}/photo.jpg" for n in range(count)]
    if isinstance(driver, Telnyx):
        payload["data"]["payload"]["media"] = [{"url": u, "content_type": "image/jpeg"} for u in urls]
    elif isinstance(driver, Bandwidth):
        payload[0]["message"]["media"] = urls
    else:
        payload["body"]["media"] = [{"url": u, "content_type": "image/jpeg", "status": "Uploaded"} for u in urls]
    return payload


@pytest.mark.parametrize("driver", [Telnyx(), Bandwidth(), Sinch()], ids=lambda d: d.id)
async def test_more_attachments_than_an_mms_holds_are_refused(open_desk: Any, driver: Driver) -> None:  # noqa: F811
    desk: Desk = await open_desk(driver)
    refused = await desk.deliver(with_media(driver, MAX_INBOUND_MEDIA + 1))
    assert refused.status == 400 and '"too_long"' in refused.body
    assert (await desk.deliver(with_media(driver, MAX_INBOUND_MEDIA))).status == driver.ack
    assert desk.count("inbound") == 1
