"""The carrier seam: every carrier adapter implements ``Carrier``.

An adapter is mostly pure: it turns a captured HTTP request (``WebhookRequest``)
into carrier-neutral events, checks its authenticity, renders a synchronous
reply (TwiML, Plivo XML) or an acknowledgement, and builds the REST request
that sends a message. Carrier field names never leave the adapter. The only
I/O is ``send``, which posts the request built by ``outbound_request`` over
an ``aiohttp.ClientSession`` owned by the caller (the outbox worker).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlsplit

from bot.types import InboundMessage, Reply

__all__ = [
    "Carrier",
    "DeliveryReceipt",
    "FormError",
    "HttpRequest",
    "JsonBodyError",
    "Pairs",
    "SendResult",
    "WebhookError",
    "WebhookReply",
    "WebhookRequest",
    "decode_form",
    "parse_form_text",
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


# -- application/x-www-form-urlencoded, for the form carriers (Twilio, Plivo, Vonage SMS) ------------

Pairs = tuple[tuple[str, str], ...]


class FormError(ValueError):
    """A body or query that is not a form: ``str()`` is what ``parse_qsl`` (or the decode) says.

    ``undecodable_at`` is the offset of the first byte that is not UTF-8 when
    the raw body itself is not UTF-8 (some carriers name that case apart), else None.
    """

    def __init__(self, reason: str, undecodable_at: int | None = None) -> None:
        super().__init__(reason)
        self.undecodable_at = undecodable_at


def parse_form_text(text: str, max_fields: int) -> Pairs:
    """The ordered ``(name, value)`` pairs of a form, repeated names kept.

    Exactly ``parse_qsl(text, keep_blank_values=True, max_num_fields=max_fields,
    errors="strict")`` (a property test holds them equal), but unquoting only the
    names and values that contain ``%``: a webhook form has a dozen fields,
    mostly plain. ``max_fields`` bounds the work a request can make us do.
    """
    if not text:
        return ()
    if text.count("&") >= max_fields:
        raise FormError("Max number of fields exceeded")
    pairs: list[tuple[str, str]] = []
    try:
        # "+" is a space in names and values alike, and turning it into one
        # makes no "&", "=" or "%": one replace for the whole text does it.
        for item in text.replace("+", " ").split("&"):
            if not item:
                continue
            name, _, value = item.partition("=")  # no "=": a blank value, as keep_blank_values gives
            if "%" in name:
                name = unquote(name, errors="strict")
            if "%" in value:
                value = unquote(value, errors="strict")
            pairs.append((name, value))
    except UnicodeDecodeError as exc:  # a %-escape that is not UTF-8
        raise FormError(str(exc)) from exc
    return tuple(pairs)


def decode_form(raw: bytes, max_fields: int) -> Pairs:
    """``parse_form_text`` of a raw body, which must be UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError(str(exc), exc.start) from exc
    return parse_form_text(text, max_fields)


# -- application/json, for the JSON carriers (Telnyx, Bandwidth, Sinch, Vonage) ------------------------


class JsonBodyError(ValueError):
    """A body that is not JSON: ``str()`` is what the decode or ``json.loads`` said.

    ``undecodable_at`` is the offset of the first byte that could not be decoded
    (some carriers name that case apart), else None; ``too_deep`` is True when
    the nesting ran past the recursion limit (``str()`` is then RecursionError's).
    """

    def __init__(self, reason: str, undecodable_at: int | None = None, too_deep: bool = False) -> None:
        super().__init__(reason)
        self.undecodable_at = undecodable_at
        self.too_deep = too_deep


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
    # form()'s cache: (max_fields, pairs), None until form() is first called.
    # Not functools.cached_property: it needs an instance __dict__, which
    # slots=True removes (slots keep these per-request objects small and quick
    # to build), and it cannot take form()'s max_fields. So a private field,
    # written through object.__setattr__ (as dataclasses' own __init__ does for
    # a frozen class): the captured request stays immutable to its readers, the
    # cache lives exactly as long as the request, it is left out of __init__,
    # equality and repr, and dataclasses.replace() starts a copy without it.
    _form: tuple[int, Pairs] | None = field(default=None, init=False, repr=False, compare=False)
    # query_form()'s and json_body()'s caches, kept the same way and for the
    # same reasons, each keyed by its argument as form()'s is by max_fields.
    _query: tuple[int, Pairs] | None = field(default=None, init=False, repr=False, compare=False)
    _json: tuple[bool, object] | None = field(default=None, init=False, repr=False, compare=False)

    def form(self, max_fields: int) -> Pairs:
        """The body's form parameters as ordered ``(name, value)`` pairs, parsed on first use.

        ``verify`` and ``parse`` of a form carrier both read them, so the body is
        decoded once per request. ``max_fields`` is the carrier's bound on the
        work a request can ask for (one carrier reads a request, so one limit).
        Raises ``FormError``, which each carrier turns into its own 400; a
        failure is not kept, as the first one ends the request. The pairs are a
        tuple, so no caller can change what the next one reads.
        """
        cached = self._form
        if cached is not None and cached[0] == max_fields:
            return cached[1]
        pairs = decode_form(self.body, max_fields)
        object.__setattr__(self, "_form", (max_fields, pairs))
        return pairs

    def query_form(self, max_fields: int) -> Pairs:
        """The URL query's parameters, as ``form`` reads the body (a GET webhook's form).

        Parsed on first use and kept, as ``form`` is: a GET carrier's ``verify``,
        ``parse`` and ``parse_receipts`` may each read them. Raises ``FormError``,
        or ``ValueError`` for a URL ``urlsplit`` refuses; a failure is not kept.
        """
        cached = self._query
        if cached is not None and cached[0] == max_fields:
            return cached[1]
        pairs = parse_form_text(urlsplit(self.url).query, max_fields)
        object.__setattr__(self, "_query", (max_fields, pairs))
        return pairs

    def json_body(self, detect_encoding: bool = False) -> object:
        """The body's JSON value, parsed on first use and kept for the request.

        ``parse`` and ``parse_receipts`` of a JSON carrier both read it (the
        webhook handler calls both for carriers that post messages and receipts
        to one URL), so the body is decoded once. By default the body must be
        strict UTF-8, decoded before ``json.loads`` sees it (so a BOM or an
        encoded surrogate is refused); ``detect_encoding`` hands ``json.loads``
        the bytes, which it reads as UTF-8, -16 or -32 by detection, skipping a
        UTF-8 BOM and letting surrogates through (how the Vonage adapters have
        always read theirs). Raises ``JsonBodyError``, which each carrier turns
        into its own 400; a failure is not kept. The value is shared by every
        reader of this request and JSON's dicts and lists are mutable: read it,
        never change it.
        """
        cached = self._json
        if cached is not None and cached[0] == detect_encoding:
            return cached[1]
        try:  # json.loads called here, not in a helper: one frame less under its recursion limit
            value = json.loads(self.body if detect_encoding else self.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise JsonBodyError(str(exc), undecodable_at=exc.start) from exc
        except RecursionError as exc:
            raise JsonBodyError(str(exc), too_deep=True) from exc
        except ValueError as exc:  # json.JSONDecodeError, or an integer too long to convert
            raise JsonBodyError(str(exc)) from exc
        object.__setattr__(self, "_json", (detect_encoding, value))
        return value


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

    ``retry`` is True for answers worth retrying (bot.carriers.sending.retryable_status, timeouts);
    ``retry_after`` is how long the carrier asked us to wait first (its
    ``Retry-After`` header, read by the outbox), 0 when it did not say.
    """

    ok: bool
    provider_id: str = ""
    status: int = 0
    error: str = ""
    retry: bool = False
    opted_out: bool = False  # the carrier refused because the recipient opted out
    retry_after: float = 0.0
    # Every id when the carrier sent the reply as several messages, each with its
    # own receipts (the Vonage SMS API: one per SMS part); ``provider_id`` is the first.
    # On a send that failed, the parts the carrier accepted all the same (a Vonage SMS
    # answer refusing only some parts): they are recorded and never sent again.
    part_ids: tuple[str, ...] = ()


class Carrier(Protocol):
    """One carrier's wire format. See bot/carriers/<name>.py."""

    name: str  # the URL segment and channel name: /webhooks/<name>
    sync_replies: bool  # True: replies go in the webhook response (TwiML, Plivo XML)
    # True: delivery receipts may also come to the inbound URL (the handler then
    # asks ``parse_receipts`` there too, and ``parse`` skips them).
    receipts_at_inbound: bool

    @property
    def carries_media(self) -> bool:
        """False: this carrier's reply path cannot attach media, so it writes them as
        links into the text; replies are then prepared as for a phone without MMS,
        so those links are counted in the segment budget (bot.service.carried_media)."""

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
