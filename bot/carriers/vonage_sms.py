"""Vonage SMS API (legacy): signed GET/form/JSON webhooks in, ``POST /sms/json`` out.

Wire format and signing: shared/reference/carriers.md §3. Vonage field names
(``msisdn``, ``messageId``, ``concat-ref``, ``err-code``, ...) stop here.

The ``sig`` parameter (§3.2), over every other parameter:
1. sort by name; 2. in each *value* replace ``&`` and ``=`` with ``_``;
3. join as ``&k1=v1&k2=v2...`` (leading ``&``); 4. ``md5hash``: MD5 hex of that
string followed by the secret; ``md5``/``sha1``/``sha256``/``sha512``: HMAC hex
keyed by the secret; 5. compare case-insensitively (the spec's example is upper
case, the Python SDK's lower case).

The SDKs disagree about empty values (Java drops them before signing, Python and
Node keep them) and Vonage does not say what its servers do, so a request with
an empty parameter is accepted if either form matches. That widens nothing an
attacker could use: the two forms differ only by parameters that carry no value.
Signing is switched on by Vonage support; without it there is no ``sig`` and the
request is refused, so this adapter is mounted only with a signature secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bot.carriers.base import (
    DeliveryReceipt,
    HttpRequest,
    SendResult,
    WebhookError,
    WebhookReply,
    WebhookRequest,
)
from bot.carriers.fields import e164, env_url, form_fields, required
from bot.carriers.sending import retryable_status
from bot.replies import media_url
from bot.sms import analyze
from bot.types import InboundMessage, Reply

if TYPE_CHECKING:
    from bot.carriers.base import Carrier

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "METHODS", "TIMESTAMP_WINDOW", "VonageSmsCarrier", "compute_signature"]

CHANNEL = "vonage-sms"
DEFAULT_API_BASE_URL = "https://rest.nexmo.com"
# The values of VONAGE_SMS_SIGNATURE_METHOD, as the dashboard names them: md5hash is the
# documented default (MD5 of string + secret); the others are HMACs keyed by the secret.
METHODS: Mapping[str, Any] = {"md5hash": None, "md5": hashlib.md5, "sha1": hashlib.sha1,
                              "sha256": hashlib.sha256, "sha512": hashlib.sha512}  # fmt: skip
TIMESTAMP_WINDOW = 300.0  # the Java SDK's MAX_ALLOWABLE_TIME_DELTA (§3.2 point 6), either side of now
MAX_TEXT = 1600  # each part of a long SMS arrives on its own (§3.1), so this is generous
CLIENT_REF_MAX = 40  # §3.3
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 100  # bounds the work a request can make us do

_HEX = re.compile(r"[0-9a-fA-F]{32,128}")
_SECONDS = re.compile(r"[0-9]{1,12}")
_ADDRESS = re.compile(r"\+?[A-Za-z0-9._-]{1,32}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# DLR status (sms.yml DeliveryReceipt) → textdesk's receipt vocabulary.
_STATUSES = {"delivered": "delivered", "accepted": "sent", "buffered": "sent", "expired": "undelivered",
             "failed": "failed", "rejected": "failed", "unknown": "unknown"}  # fmt: skip
# A send answer's per-part ``status`` that says "back off and try again" (developer.vonage.com
# api-errors/sms): 1 throttled, 5 internal error, 10 too many binds. Every other non-zero
# status refuses the request: bad parameters or credentials, no credit, an invalid sender,
# 7 "number barred" (the destination is blacklisted) and 29 "non-whitelisted destination"
# (a trial account's pre-approved list). Neither 7 nor 29 is the customer's STOP, so
# neither is recorded as an opt-out: the consent ledger holds only what customers asked.
_RETRY_CODES = frozenset({"1", "5", "10"})


def compute_signature(params: Mapping[str, str], secret: str, method: str, skip_blank: bool = False) -> str:
    """The lower-case hex ``sig`` of ``params`` (``sig`` itself is left out); see the module doc.

    ``skip_blank`` drops empty values first, as the Java SDK does.
    """
    items = sorted((k, v) for k, v in params.items() if k != "sig" and (v or not skip_blank))
    message = "".join(f"&{name}={value.replace('&', '_').replace('=', '_')}" for name, value in items)
    digest = METHODS[method]
    if digest is None:
        return hashlib.md5((message + secret).encode("utf-8")).hexdigest()
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), digest).hexdigest()


def _scalar(name: str, value: object) -> str:
    """A JSON webhook value as the string the form and GET variants would carry."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return json.dumps(value)  # true/false and numbers as they were written
    raise WebhookError(400, "invalid_field", f"parameter {name[:40]!r} should be a string, not a JSON object or list")


def _pairs(request: WebhookRequest) -> Sequence[tuple[str, str]]:
    """The webhook's parameters: the query of a GET, else the form or JSON body of a POST."""
    method = request.method.upper()
    content_type = request.content_type.split(";")[0].strip().lower()
    try:
        if method == "GET":
            return request.query_form(MAX_FIELDS)
        if method == "POST" and content_type == "application/json":
            # Decoded once for verify(), parse() and parse_receipts(); the bytes go
            # to json.loads as they always have here (see WebhookRequest.json_body).
            data = request.json_body(detect_encoding=True)
            if not isinstance(data, dict):
                raise WebhookError(400, "invalid_json", "the JSON body should be an object")
            return [(str(k), _scalar(str(k), v)) for k, v in data.items()]
        if method == "POST" and content_type == FORM:
            return request.form(MAX_FIELDS)  # parsed once for verify() and parse() both
        if method != "POST":
            raise WebhookError(405, "method_not_allowed", f"expected GET or POST, got {method[:10]}")
        got = content_type[:60]
        raise WebhookError(415, "unsupported_media_type", f"expected {FORM} or application/json, got '{got}'")
    except ValueError as exc:  # FormError, JsonBodyError (too deep included), or a URL urlsplit refuses
        raise WebhookError(400, "invalid_body", f"the parameters could not be read: {exc}"[:200]) from exc


def _concat(fields: Mapping[str, str]) -> tuple[str, int, int] | None:
    """``(concat-ref, concat-total, concat-part)`` of one part of a long SMS (§3.1, §10.4)."""
    names = ("concat-ref", "concat-total", "concat-part")
    if fields.get("concat", "").lower() != "true" and not any(name in fields for name in names):
        return None
    ref, total, part = (fields.get(name, "") for name in names)
    if not (0 < len(ref) <= 32 and _SECONDS.fullmatch(total) and _SECONDS.fullmatch(part)):
        raise WebhookError(400, "invalid_field", "a concatenated part needs concat-ref, concat-total and concat-part")
    if not 1 <= int(part) <= int(total) <= 255:  # the UDH counts parts in one octet
        raise WebhookError(400, "invalid_field", f"concat-part {part} of concat-total {total} is out of range")
    return ref, int(total), int(part)


def _part_status(part: Mapping[str, object]) -> str:
    """A send answer part's ``status`` as a string, "" when it has none we can read."""
    code = part.get("status")
    return str(code) if isinstance(code, str | int) and not isinstance(code, bool) else ""


class VonageSmsCarrier:
    """The ``Carrier`` for the Vonage SMS API; SMS only, so media become links."""

    name = CHANNEL
    sync_replies = False
    receipts_at_inbound = True  # parse() and parse_receipts() each skip the other kind
    carries_media = False  # an SMS-only API: media go as links in the text

    def __init__(self, signature_secret: str, signature_method: str, api_key: str, api_secret: str,
                 api_base_url: str = DEFAULT_API_BASE_URL) -> None:  # fmt: skip
        if signature_method not in METHODS:
            raise ValueError(f"signature method should be one of {', '.join(METHODS)}")
        self.signature_secret = signature_secret
        self.signature_method = signature_method
        self.api_key = api_key
        self.api_secret = api_secret
        self.api_base_url = api_base_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VonageSmsCarrier | None:
        """None without ``VONAGE_SMS_SIGNATURE_SECRET``; ``ValueError`` when the rest is incomplete."""
        secret = env.get("VONAGE_SMS_SIGNATURE_SECRET", "").strip()
        if not secret:
            return None
        method = env.get("VONAGE_SMS_SIGNATURE_METHOD", "").strip().lower() or "md5hash"
        if method not in METHODS:
            raise ValueError(f"VONAGE_SMS_SIGNATURE_METHOD should be one of {', '.join(METHODS)}, got '{method}'")
        key, api_secret = env.get("VONAGE_API_KEY", "").strip(), env.get("VONAGE_API_SECRET", "").strip()
        if not key or not api_secret:
            raise ValueError("VONAGE_SMS_SIGNATURE_SECRET is set, so VONAGE_API_KEY and VONAGE_API_SECRET are needed")
        base = env_url(env, "VONAGE_SMS_API_BASE_URL", DEFAULT_API_BASE_URL)
        return cls(secret, method, key, api_secret, base)

    def verify(self, request: WebhookRequest) -> None:
        fields = form_fields(_pairs(request))
        presented = fields.get("sig", "")
        if not presented:
            raise WebhookError(403, "missing_signature", "no sig parameter; ask Vonage support to enable signing")
        if not _HEX.fullmatch(presented):
            raise WebhookError(403, "bad_signature", "the sig parameter is not a hex digest")
        matched = False
        variants = (False, True) if any(not v for v in fields.values()) else (False,)
        for skip_blank in variants:  # no early exit: timing does not depend on which form matched
            expected = compute_signature(fields, self.signature_secret, self.signature_method, skip_blank)
            matched |= hmac.compare_digest(expected.encode("ascii"), presented.lower().encode("ascii"))
        if not matched:
            raise WebhookError(403, "bad_signature", f"sig does not match ({self.signature_method} with the secret)")
        timestamp = fields.get("timestamp", "")
        if not _SECONDS.fullmatch(timestamp):
            raise WebhookError(403, "missing_timestamp", "a signed request needs a unix timestamp parameter")
        if abs(request.now - int(timestamp)) > TIMESTAMP_WINDOW:
            raise WebhookError(403, "stale_signature", f"timestamp is {request.now - int(timestamp):.0f} s from now")

    def parse(self, request: WebhookRequest) -> Sequence[InboundMessage]:
        fields = form_fields(_pairs(request))
        if fields.get("status"):
            return []  # a delivery receipt sent to the inbound URL: see parse_receipts
        message_id = required(fields, "messageId", _MESSAGE_ID)
        customer, business = required(fields, "msisdn", _ADDRESS), required(fields, "to", _ADDRESS)
        kind = fields.get("type", "text")
        if kind == "binary":
            return []  # a WAP push or SIM update, not something a customer typed (§3.1 data/udh)
        if kind not in ("text", "unicode"):
            raise WebhookError(400, "invalid_field", f"type should be text, unicode or binary, got {kind[:20]!r}")
        text = fields.get("text", "")
        if len(text) > MAX_TEXT:
            raise WebhookError(400, "too_long", f"text has {len(text)} characters; one SMS part has far fewer")
        concat = _concat(fields)
        return [InboundMessage(CHANNEL, message_id, e164(customer), e164(business), text, concat=concat)]

    def parse_receipts(self, request: WebhookRequest) -> Sequence[DeliveryReceipt]:
        fields = form_fields(_pairs(request))
        if not fields.get("status"):
            return []  # an inbound message sent to the receipt URL: see parse
        message_id = required(fields, "messageId", _MESSAGE_ID)
        status = fields["status"].strip().lower()
        error = fields.get("err-code", "").strip()
        customer, business = (e164(fields.get(n, "")[:32]) for n in ("msisdn", "to"))
        return [DeliveryReceipt(CHANNEL, message_id, _STATUSES.get(status, status[:32]),
                                "" if error in ("", "0") else error[:16], False, customer, business)]  # fmt: skip

    def render(
        self, replies: Sequence[Reply], media_base: str, *, customer: str = "", business: str = ""
    ) -> WebhookReply:
        """An empty 204, which Vonage takes as received (§3.1); replies go out via the outbox."""
        return WebhookReply(204, "text/plain", "")

    def outbound_request(self, to: str, sender: str, reply: Reply, media_base: str,
                         idempotency_key: str) -> HttpRequest:  # fmt: skip
        """A form POST; credentials travel in the body, so never log the body.

        ``type=unicode`` is set only when the text needs UCS-2, since it cuts a
        segment from 160 to 70 characters. ``client-ref`` carries the idempotency
        key into receipts (a key over 40 characters becomes its digest); Vonage
        does not deduplicate on it.
        """
        lines = [reply.text] if reply.text else []
        text = "\n".join(lines + [media_url(item, media_base) for item in reply.media])
        ref = idempotency_key
        if len(ref) > CLIENT_REF_MAX:
            ref = hashlib.sha256(ref.encode()).hexdigest()[:CLIENT_REF_MAX]
        fields = [("api_key", self.api_key), ("api_secret", self.api_secret), ("from", sender.removeprefix("+")),
                  ("to", to.removeprefix("+")), ("text", text)]  # fmt: skip
        if analyze(text).encoding == "UCS-2":
            fields.append(("type", "unicode"))
        fields.append(("client-ref", ref))
        headers = {"Content-Type": FORM, "Accept": "application/json"}
        return HttpRequest("POST", f"{self.api_base_url}/sms/json", headers, urlencode(fields).encode("ascii"))

    def parse_send_response(self, status: int, body: bytes) -> SendResult:
        """One entry per SMS part: all ``"0"`` is sent; retried when every part says try later (``_RETRY_CODES``).

        Receipts come per part (§3.3), so every part's id is given (``part_ids``);
        ``provider_id`` is the first part's. A 2xx without a readable parts list is
        accepted without an id, as every adapter takes such an answer.

        A message accepted only in part fails and is never retried (exactly once
        for what Vonage accepted): the accepted parts are on their way and cannot
        be recalled, the API cannot send the missing part alone, and a resend of
        the whole text would give the customer the accepted parts twice. Its
        ``part_ids`` are the accepted parts', so that their receipts still find
        the message (bot.outbox records them before giving the row up).
        """
        if retryable_status(status):
            return SendResult(ok=False, status=status, error=f"HTTP {status}", retry=True)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        messages = data.get("messages") if isinstance(data, dict) else None
        if not 200 <= status < 300:
            return SendResult(ok=False, status=status, error=f"HTTP {status}: refused")
        if not isinstance(messages, list):
            # A 2xx we cannot read (no JSON, no parts list): Vonage may have taken the
            # text, as every adapter assumes of such an answer. Marked failed it could be
            # resent by hand, retried it would reach the customer twice (exactly once).
            return SendResult(ok=True, status=status, error=f"HTTP {status} without a readable answer")
        if not messages:  # the API says it sent nothing ("message-count": "0")
            return SendResult(ok=False, status=status, error=f"HTTP {status}: no messages in the answer")
        parts = [m if isinstance(m, dict) else {} for m in messages]
        codes = [_part_status(part) for part in parts]
        ids = [str(part.get("message-id", "")) for part, code in zip(parts, codes, strict=True) if code == "0"]
        if all(code in ("0", "") for code in codes):
            # Every part accepted, or without a status we can read: those may be on
            # their way as well, so the text is never sent again (the 2xx rule above).
            unreadable = codes.count("")
            note = f"{unreadable} of {len(codes)} parts unreadable" if unreadable else ""
            return SendResult(ok=True, provider_id=ids[0] if ids else "", status=status, error=note,
                              part_ids=tuple(ids))  # fmt: skip
        failed = [(part, code) for part, code in zip(parts, codes, strict=True) if code != "0"]
        errors = "; ".join(f"status {code}: {part.get('error-text', '')}" for part, code in failed)
        error = (f"partly sent ({len(ids)} of {len(codes)} parts): " if ids else "") + errors
        retry = not ids and all(code in _RETRY_CODES for code in codes)
        return SendResult(ok=False, provider_id=ids[0] if ids else "", status=status, error=error[:500], retry=retry,
                          part_ids=tuple(ids))  # fmt: skip


if TYPE_CHECKING:

    def _satisfies_protocol(carrier: VonageSmsCarrier) -> Carrier:
        return carrier
