"""The carrier seam: every carrier adapter implements ``Carrier``.

An adapter is mostly pure: it turns a captured HTTP request (``WebhookRequest``)
into carrier-neutral events, checks its authenticity, renders a synchronous
reply (TwiML, Plivo XML) or an acknowledgement, and builds the REST request
that sends a message. Carrier field names never leave the adapter. The only
I/O is ``send``, which posts the request built by ``outbound_request`` over
an ``aiohttp.ClientSession`` owned by the caller (the outbox worker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.types import InboundMessage, Reply

__all__ = [
    "Carrier",
    "DeliveryReceipt",
    "HttpRequest",
    "SendResult",
    "WebhookError",
    "WebhookReply",
    "WebhookRequest",
]


class WebhookError(Exception):
    """A webhook request we refuse, with the HTTP status and a clear reason.

    ``code`` is machine-readable (``missing_field``, ``bad_signature``, ...);
    ``message`` says what was wrong and what was expected.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What arrived over HTTP, captured before any parsing.

    ``url`` is the public URL the carrier called (rebuilt from the configured
    public base, so signatures over the URL verify behind proxies); ``body`` is
    the raw bytes, which several signature schemes hash.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str
    now: float  # the server's clock, for timestamp windows (Telnyx, Sinch)


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """A carrier's report on one outbound message."""

    channel: str
    provider_id: str  # the carrier's id of the outbound message
    status: str  # queued | sent | delivered | undelivered | failed | read | ...
    error_code: str = ""
    opted_out: bool = False  # the carrier says the recipient has opted out (e.g. Twilio 21610)
    customer: str = ""
    business: str = ""


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """The HTTP answer to a webhook: status, content type and body."""

    status: int = 200
    content_type: str = "application/json"
    body: str = ""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A REST call to a carrier, built purely so tests can inspect it."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the carrier answered to a send: accepted with an id, or an error.

    ``retry`` is True for answers worth retrying (429, 5xx, timeouts).
    """

    ok: bool
    provider_id: str = ""
    status: int = 0
    error: str = ""
    retry: bool = False
    opted_out: bool = False  # the carrier refused because the recipient opted out


class Carrier(Protocol):
    """One carrier's wire format. See bot/carriers/<name>.py."""

    name: str  # the URL segment and channel name: /webhooks/<name>
    sync_replies: bool  # True: replies go in the webhook response (TwiML, Plivo XML)

    def verify(self, request: WebhookRequest) -> None:
        """Raise ``WebhookError(403, ...)`` unless the request is authentic."""

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        """The inbound messages in a webhook (Bandwidth batches several)."""

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        """Delivery receipts in a status webhook."""

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        """The webhook's HTTP answer: the replies for sync carriers, else an acknowledgement.

        ``customer`` and ``business`` are the numbers of the message answered, for
        reply formats that must name them (Plivo XML's ``src``/``dst``).
        """

    def outbound_request(
        self, to: str, sender: str, reply: Reply, media_base: str, idempotency_key: str
    ) -> HttpRequest:
        """The REST request that sends ``reply`` (for async carriers and the outbox)."""

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        """Interpret the carrier's answer to ``outbound_request``."""
