"""The outbox against carrier answers and histories that break naive senders.

Through the real app and outbox; the carrier's API is a real HTTP server on loopback
answering what each test scripts; the database a real SQLite file; time a virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

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


@dataclass
class MovedApi:
    """Answers every send with a redirect; what the redirect points at answers 200 to anything.

    An API base URL with ``http://`` (or an old host) gets exactly this from a real API's
    front end. Followed, a 301/302/303 turns the POST into a GET without the message,
    and the 200 of whatever answers that GET (Twilio: the list of messages) read as the
    send's answer marked a reply sent that no carrier ever received.
    """

    status: int
    posts: int = 0
    elsewhere: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/{path:.*}", self.send)
        app.router.add_route("*", "/moved/{path:.*}", self.moved)
        return app

    async def send(self, request: web.Request) -> web.Response:
        await request.read()
        self.posts += 1
        return web.Response(status=self.status, headers={"Location": "/moved" + request.path})

    async def moved(self, request: web.Request) -> web.Response:
        await request.read()
        self.elsewhere.append(request.method)
        return web.json_response({"messages": [], "page": 0, "sid": "SM" + "0" * 31 + "8"}, status=201)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_a_refusal_never_followed(open_desk: Any, status: int) -> None:  # noqa: F811
    driver = Twilio(sync=False)
    api = MovedApi(status)
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    ((state, error),) = desk.rows("SELECT status, last_error FROM outbound")
    assert state == "failed" and str(status) in error, error
    assert (api.posts, api.elsewhere) == (1, [])  # neither the message nor the credentials went elsewhere


@dataclass
class EndlessApi:
    """Accepts the send (201) and then sends a body far longer than any answer: 32 MiB
    written of the 1 GiB its Content-Length promises, then the connection drops."""

    posts: int = 0
    written: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.send)
        return app

    async def send(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.posts += 1
        response = web.StreamResponse(status=201, headers={"Content-Type": "application/json"})
        response.content_length = 1 << 30
        await response.prepare(request)
        chunk = b'{"sid": "SM' + b"0" * 31 + b'6", "padding": "' + b"x" * (65_536 - 48)
        try:
            while self.written < 32 << 20:
                await response.write(chunk)
                self.written += len(chunk)
                chunk = b"x" * 65_536
        except ConnectionError:
            pass  # the client hung up, as it should, long before the end
        return response


async def test_a_huge_answer_is_read_only_as_far_as_an_answer_goes(open_desk: Any) -> None:  # noqa: F811
    """A send's answer is read up to 64 KiB, never whole into memory.

    Read whole, an answer that never ends (a proxy's error page streaming, a wrong base URL
    pointing at a download) filled memory until the timeout, and a 2xx then counted as no
    answer at all: retried, so the customer got the text twice. A 2xx means accepted, so
    the reply is sent once, without an id, as with any 2xx whose body is unreadable.
    """
    driver = Twilio(sync=False)
    api = EndlessApi()
    desk: Desk = await open_desk(driver, api.app())
    await desk.deliver(driver.inbound(driver.message_id(1), "1"))
    assert await desk.outbox.run_once() == 1
    desk.clock.advance(600)
    await desk.outbox.run_once()
    assert desk.rows("SELECT status, provider_id FROM outbound") == [("sent", "")]
    assert api.posts == 1
    assert api.written < 32 << 20  # we stopped reading: it could not write it all
