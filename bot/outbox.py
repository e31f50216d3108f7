"""The outbox worker: sends queued replies through carriers' REST APIs.

Why it is built this way:
- Rows are written by the turn that produced them (same transaction), so a
  crash can lose no reply; the worker only ever reads the table.
- Each pass sends due rows in id order. A sender (business number) whose rate
  budget is spent, or whose message must be retried, is skipped for the rest
  of the pass, so the parts of one reply never overtake each other.
- The consent ledger is checked right before every send: a message queued
  before the customer texted STOP is dropped (``suppressed``), never sent.
- Retries (408, 429, 5xx, timeouts: one rule for every carrier) back off exponentially with jitter, or wait
  as long as the carrier's ``Retry-After`` asks if that is longer, and stop
  after ``max_age`` seconds, when the row is marked ``failed`` with the error.
- Each send carries an idempotency key (``textdesk-<row id>``) where the
  carrier supports one, so a send repeated after a crash between the carrier's
  answer and our write is recognised by the carrier.
- ``run_once`` is what tests call with a virtual clock; ``run`` loops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import logging
import random
import re
from collections.abc import Mapping, Sequence

import aiohttp

from bot.carriers.base import Carrier, SendResult
from bot.carriers.sending import ChunkedSends, retryable_status
from bot.clock import Clock
from bot.logmask import mask
from bot.metrics import Metrics
from bot.sms import analyze
from bot.store import ConsentChange, OutboxItem, Store
from bot.types import Reply

__all__ = ["Outbox", "RateLimiter", "retry_after"]

log = logging.getLogger("textdesk.outbox")

_SECONDS = re.compile(r"[0-9]{1,10}")


def retry_after(value: str, now: float) -> float:
    """The seconds a ``Retry-After`` header asks for: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).

    0 when the header is absent, in the past or not one of the two forms:
    the backoff alone then decides.
    """
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - now) if when.tzinfo is not None else 0.0


# The most of a send's answer that is read. Real answers are a few hundred bytes
# (ten Vonage SMS parts: about 2 KB); past this it is no answer of the carrier's,
# and the adapter gets what was read (a truncated body reads as unreadable).
MAX_ANSWER = 65_536


async def _read_answer(response: aiohttp.ClientResponse) -> bytes:
    """At most ``MAX_ANSWER`` bytes of the body; leaving the rest unread closes the connection."""
    body = bytearray()
    while len(body) < MAX_ANSWER:
        chunk = await response.content.read(MAX_ANSWER - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


class RateLimiter:
    """Paces each sender to ``rate`` segments per second (carriers meter segments).

    A message of ``n`` segments may go when the sender's next free time has
    come; it then pushes that time ``n / rate`` seconds on. Deterministic under
    a virtual clock.
    """

    def __init__(self, rates: Mapping[str, float]) -> None:
        self.rates = dict(rates)
        self._next_free: dict[tuple[str, str], float] = {}

    def rate_for(self, channel: str) -> float:
        return self.rates.get(channel, self.rates.get("*", 1.0))

    def try_acquire(self, channel: str, sender: str, segments: int, now: float) -> bool:
        key = (channel, sender)
        free_at = self._next_free.get(key, now)
        if free_at > now:
            return False
        self._next_free[key] = max(free_at, now) + segments / self.rate_for(channel)
        return True


class Outbox:
    def __init__(
        self,
        store: Store,
        carriers: Mapping[str, Carrier],
        clock: Clock,
        http: aiohttp.ClientSession,
        limiter: RateLimiter,
        *,
        max_age: float = 3600.0,
        base_delay: float = 2.0,
        max_delay: float = 300.0,
        timeout: float = 10.0,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.carriers = carriers
        self.clock = clock
        self.http = http
        self.limiter = limiter
        self.max_age = max_age
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.rng = rng or random.Random()
        self.metrics = metrics or Metrics()
        self.running = False
        self.sent = 0
        self.retries = 0
        self.failures = 0

    async def run_once(self, limit: int = 200) -> int:
        """Send what is due now; return how many rows were attempted."""
        now = self.clock.now()
        held: set[tuple[str, str]] = set()
        attempted = 0
        for item in await self.store.due_outbox(now, limit):
            sender = (item.channel, item.business)
            if sender in held:
                continue
            # An opted-out number gets only what is owed to it: the confirmation of
            # that opt-out and HELP answers (the store decides, bot.store.sqlite).
            if await self.store.owed_while_opted_out(item.id) is False:
                await self.store.mark_failed(item.id, "recipient opted out before sending", "suppressed")
                self.metrics.messages_out.labels(item.channel, "suppressed").inc()
                continue
            if now - item.created_at > self.max_age:
                await self._give_up(item, f"gave up after {self.max_age:.0f}s without a successful send")
                continue
            carrier = self.carriers.get(item.channel)
            if carrier is None:
                await self._give_up(item, f"carrier '{item.channel}' is not configured")
                continue
            sent_any, hold = await self._deliver(carrier, item, now)
            attempted += sent_any
            if hold:
                held.add(sender)  # later messages from this number must not overtake this one
        return attempted

    def _chunks(self, carrier: Carrier, item: OutboxItem) -> tuple[Reply, ...]:
        reply = Reply(item.text, item.media)
        if isinstance(carrier, ChunkedSends):
            return carrier.chunks(reply) or (reply,)
        return (reply,)

    async def _deliver(self, carrier: Carrier, item: OutboxItem, now: float) -> tuple[bool, bool]:
        """Send the row's messages not yet accepted, in order; ``(sent any, hold the sender)``.

        Nearly every row is one message. A reply over the carrier's text limit
        is several (``ChunkedSends``): each accepted one is recorded at once, so
        a retry, a pause for the pace or a restart goes on after it, never
        sending a message twice or out of order.
        """
        chunks = self._chunks(carrier, item)
        first = await self.store.chunks_sent(item.id) if len(chunks) > 1 else 0
        sent_any = False
        for index in range(first, len(chunks)):
            chunk = chunks[index]
            if not self.limiter.try_acquire(item.channel, item.business, analyze(chunk.text).segments, now):
                return sent_any, True
            sent_any = True
            key = f"textdesk-{item.id}" + (f".{index}" if index else "")  # a chunk is its own send
            result = await self._send(carrier, item, chunk, key)
            if not result.ok:
                await self._failed(item, result, now, index)
                return True, result.retry and not result.part_ids
            last = index == len(chunks) - 1
            if last:
                self.sent += 1
                self.metrics.messages_out.labels(item.channel, "sent").inc()
            ids = result.part_ids or (result.provider_id,)
            if len(chunks) > 1 or len(ids) > 1:
                await self.store.mark_parts_sent(item.id, index, ids, self.clock.now(), done=last)
            else:
                await self.store.mark_sent(item.id, result.provider_id, self.clock.now())
        return sent_any, False

    async def _failed(self, item: OutboxItem, result: SendResult, now: float, chunk: int = 0) -> None:
        if result.part_ids:
            # Accepted in part (a Vonage SMS answer refusing some parts): the accepted
            # parts are on their way, so the row is never sent again (a resend would
            # repeat them); their ids are kept with it, so that their receipts find it.
            await self._give_up(item, result.error, (chunk, result.part_ids))
            return
        if result.retry:
            self.retries += 1
            self.metrics.outbox_retries.labels(item.channel).inc()
            # The exponent is capped: 2**1024 overflows a float, and a row may be
            # retried that often (TEXTDESK_OUTBOX_MAX_AGE allows a week at max_delay).
            delay = min(self.max_delay, self.base_delay * 2.0 ** min(item.attempts, 64)) * (0.5 + self.rng.random() / 2)
            # A carrier that says how long to wait (429/503 Retry-After) is
            # believed, up to max_age: a row never due could never be given up.
            delay = max(delay, min(result.retry_after, self.max_age))
            await self.store.mark_retry(item.id, result.error, now + delay)
            return
        await self._give_up(item, result.error)
        if result.opted_out:
            change = ConsentChange("opt_out", f"carrier refused a send: {result.error}")
            await self.store.record_consent(item.customer, item.business, change, now)

    async def _give_up(self, item: OutboxItem, error: str, accepted: tuple[int, Sequence[str]] | None = None) -> None:
        """Mark the row failed; ``accepted``: ``(chunk, ids)`` of parts the carrier took all the same."""
        self.failures += 1
        self.metrics.messages_out.labels(item.channel, "failed").inc()
        log.warning("outbox %s to %s failed: %s", item.id, mask(item.customer), error)
        if accepted is None:
            await self.store.mark_failed(item.id, error)
        else:  # the parts and the failure in one transaction: a crash between them would resend
            chunk, ids = accepted
            await self.store.mark_parts_sent(item.id, chunk, ids, self.clock.now(), done=True, error=error)

    async def _send(self, carrier: Carrier, item: OutboxItem, reply: Reply, key: str) -> SendResult:
        try:
            request = carrier.outbound_request(item.customer, item.business, reply, "", key)
        except ValueError as exc:
            # A number the carrier's API cannot address (Plivo takes "1555-0100" as
            # a sender but cannot send to it): no retry can help, and raising
            # would stop every pass at this row, holding up the whole queue.
            return SendResult(False, error=f"cannot send: {exc}")
        try:
            # Redirects are not followed: aiohttp turns a POST redirected by 301/302/303
            # into a GET without the message, whose 2xx would read as accepted; a 307/308
            # would take the message and the credentials to wherever it points. Every
            # carrier answers a send itself, so a 3xx is a wrong API base URL: refused.
            async with self.http.request(
                request.method, request.url, headers=dict(request.headers), data=request.body, timeout=self.timeout,
                allow_redirects=False,
            ) as response:
                body = await _read_answer(response)
                result = carrier.parse_send_response(response.status, body)
                if not result.ok and not result.retry and retryable_status(response.status):
                    # One rule for every carrier (bot.carriers.sending.retryable_status): an
                    # adapter may retry more answers, never fewer, so no carrier gives up
                    # on a 408 or a 5xx that another carrier's adapter would retry.
                    result = dataclasses.replace(result, retry=True)
                if result.retry and "Retry-After" in response.headers:
                    wait = retry_after(response.headers["Retry-After"], self.clock.now())
                    result = dataclasses.replace(result, retry_after=wait)
                return result
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult(False, error=f"{type(exc).__name__}: {exc}", retry=True)

    async def run(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Send due messages until ``stop`` is set; errors are logged, never fatal."""
        self.running = True
        try:
            await self._loop(stop, interval)
        finally:
            self.running = False

    async def _loop(self, stop: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
