"""Every carrier adapter under ``bot/carriers``, built with test credentials, and a valid
example webhook for each, so one fuzzing harness can reach all of them.

Adapters are *discovered* (every class in ``bot/carriers/*.py`` with ``parse``,
``parse_receipts``, ``verify`` and ``from_env``), not listed: a carrier added later is
fuzzed as soon as ``ENV`` configures it, and ``test_hostile_input`` fails until it does.
The example webhooks seed the mutation fuzz; ``sign`` signs a request the way each carrier
does (from its published scheme, not with the adapter's code) for tests that must get
past ``verify`` in the running app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from multidict import MultiDict
from twilio.request_validator import RequestValidator

import bot.carriers
from bot.carriers.base import Carrier

__all__ = [
    "ENV", "FORM", "JSON", "KNOWN", "NOW", "Adapter", "adapter_classes", "adapters", "inbound", "receipt", "sign",
]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
NOW = 1_800_000_000.0

_TELNYX_PRIVATE = Ed25519PrivateKey.generate()
_TELNYX_KEY = _TELNYX_PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

# Enough configuration for every adapter's ``from_env`` to mount it.
ENV: dict[str, str] = {
    "TWILIO_AUTH_TOKEN": "fuzz-twilio-token",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "VONAGE_SIGNATURE_SECRET": "fuzz-vonage-signature-secret-0123456789",
    "VONAGE_SMS_SIGNATURE_SECRET": "fuzz-vonage-sms-secret",
    "VONAGE_API_KEY": "key",
    "VONAGE_API_SECRET": "secret",
    "PLIVO_AUTH_TOKEN": "fuzz-plivo-token",
    "PLIVO_AUTH_ID": "MA0000000000000000",
    "TELNYX_PUBLIC_KEY": base64.b64encode(_TELNYX_KEY).decode("ascii"),
    "TELNYX_API_KEY": "KEY0",
    "BANDWIDTH_WEBHOOK_USERNAME": "fuzz",
    "BANDWIDTH_WEBHOOK_PASSWORD": "fuzz-password",
    "BANDWIDTH_ACCOUNT_ID": "9900000",
    "BANDWIDTH_APPLICATION_ID": "93de2206-9669-4e07-948d-329f4b722ee2",
    "BANDWIDTH_API_USERNAME": "api-user",
    "BANDWIDTH_API_PASSWORD": "api-pass",
    "SINCH_WEBHOOK_SECRET": "fuzz-sinch-secret",
    "SINCH_SERVICE_PLAN_ID": "plan",
    "SINCH_API_TOKEN": "token",
}


def _form(**fields: str) -> tuple[str, bytes]:
    return FORM, urlencode(fields).encode("utf-8")


def _json(value: object) -> tuple[str, bytes]:
    # ensure_ascii: a lone surrogate in ``text`` travels as a "\udXXX" escape, as a hostile sender's would.
    return JSON, json.dumps(value, ensure_ascii=True).encode("ascii")


def inbound(name: str, text: str = "hi there", message_id: str = "1") -> tuple[str, bytes]:
    """(content type, body) of a well-formed inbound message in carrier ``name``'s wire format
    (shapes from shared/reference/carriers.md and the adapters' own tests); ``message_id``
    (letters and digits) makes the carrier's message id unique."""
    if name == "twilio":
        return _form(MessageSid="SM" + message_id.rjust(32, "a"), AccountSid="AC" + "0" * 32, From="+15550001234",
                     To="+15555550100", Body=text, NumMedia="1", MediaUrl0="https://api.twilio.com/m/ME1",
                     MediaContentType0="image/jpeg", NumSegments="1", SmsStatus="received")
    if name == "vonage":
        return _json({"message_uuid": f"aaaaaaaa-bbbb-cccc-dddd-{message_id}", "to": "15555550100",
                      "from": "15555550123", "channel": "mms", "message_type": "image", "text": text,
                      "image": {"url": "https://api-us.nexmo.com/v3/media/0a1b.jpg", "caption": "router"},
                      "content": [{"type": "video", "url": "https://x.example/v.mp4"}]})
    if name == "vonage-sms":
        return _form(msisdn="15555550123", to="15555550100", messageId=f"0A00{message_id}", text=text, type="text",
                     keyword="HELLO", **{"message-timestamp": "2027-01-15 08:00:00"})
    if name == "plivo":
        return _form(From="15555550123", To="15555550100", Type="mms", Body=text, MessageUUID=f"3a2b-{message_id}",
                     Media0="https://media.plivo.com/x.jpg", MediaCount="1")
    if name == "telnyx":
        return _json({"data": {"event_type": "message.received", "id": f"b301ed3f-{message_id}", "payload": {
            "from": {"phone_number": "+18665550001"}, "to": [{"phone_number": "+18445550001"}], "text": text,
            "media": [{"url": "https://media.telnyx.com/1/photo.jpg", "content_type": "image/jpeg"}]}}})
    if name == "bandwidth":
        return _json([{"type": "message-received", "to": "+12345678902", "message": {
            "id": f"1476207046829{message_id}", "to": ["+12345678902"], "from": "+12345678901", "text": text,
            "media": ["https://messaging.bandwidth.com/api/v2/users/1/media/bw.png"], "owner": "+12345678902",
            "direction": "in"}}])
    if name == "sinch":
        return _json({"type": "mo_media", "id": f"01FC66621V{message_id}", "from": "12345678901", "to": "12345",
                      "body": {"message": text, "media": [{"url": "https://sinch.example/a.jpg",
                                                           "content_type": "image/jpeg", "status": "Uploaded"}]}})
    raise KeyError(name)


def receipt(name: str) -> tuple[str, bytes]:
    """(content type, body) of a delivery receipt in carrier ``name``'s wire format."""
    receipts = {
        "twilio": _form(MessageSid="SM" + "b" * 32, MessageStatus="undelivered", ErrorCode="21610",
                        To="+15550001234", From="+15555550100"),
        "vonage": _json({"message_uuid": "cccccccc-bbbb-cccc-dddd-0123456789ab", "to": "15555550123",
                         "from": "15555550100", "status": "rejected",
                         "error": {"type": "https://developer.vonage.com/#1320", "title": 1320}}),
        "vonage-sms": _form(msisdn="15555550123", to="15555550100", messageId="0A0000000123ABCD2", status="failed",
                            **{"err-code": "6", "client-ref": "k1"}),
        "plivo": _form(MessageUUID="3a2b-44c2", Status="delivered", ErrorCode="000", To="15555550123",
                       From="15555550100"),
        "telnyx": _json({"data": {"event_type": "message.finalized", "id": "4ee8c3a6", "payload": {
            "id": "40385f64-5717", "from": {"phone_number": "+18445550001"}, "errors": [{"code": "40300"}],
            "to": [{"phone_number": "+18665550001", "status": "delivery_failed"}]}}}),
        "bandwidth": _json([{"type": "message-failed", "to": "+12345678901", "errorCode": 4432, "message": {
            "id": "1589228074636lm4k2je7j7jklbn2", "to": ["+12345678901"], "from": "+12345678902"}}]),
        "sinch": _json({"type": "delivery_report_sms", "batch_id": "01FC66621XXXXX119Z8PMV1QPQ",
                        "statuses": [{"code": 401, "status": "Dispatched", "count": 1,
                                      "recipients": ["12345678901"]}]}),
    }
    return receipts[name]


KNOWN = ("twilio", "vonage", "vonage-sms", "plivo", "telnyx", "bandwidth", "sinch")


# -- signing, independently of the adapters' own code ----------------------------------------------


def sign(name: str, url: str, content_type: str, body: bytes, now: float) -> tuple[dict[str, str], bytes]:
    """(headers, body) that carrier ``name`` would send, signed with ``ENV``'s secrets.

    Written from the carriers' published schemes (carriers.md), never by calling the
    adapter's verifier, so a request reaches the parser the way a genuine one does.
    """
    headers = {"Content-Type": content_type}
    if name == "twilio":
        params = MultiDict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        headers["X-Twilio-Signature"] = RequestValidator(ENV["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    elif name == "vonage":
        claims = {"iat": int(now), "jti": "fuzz", "payload_hash": hashlib.sha256(body).hexdigest()}
        headers["Authorization"] = "Bearer " + jwt.encode(claims, ENV["VONAGE_SIGNATURE_SECRET"], algorithm="HS256")
    elif name == "vonage-sms":
        # md5hash: MD5 of "&k=v" for every sorted parameter ('&' and '=' in values as '_'), then the secret.
        pairs = [*parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True), ("timestamp", str(int(now)))]
        signed = "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in sorted(pairs))
        digest = hashlib.md5((signed + ENV["VONAGE_SMS_SIGNATURE_SECRET"]).encode()).hexdigest()
        body = urlencode([*pairs, ("sig", digest)]).encode()
    elif name == "plivo":
        # V2: Base64(HMAC-SHA256(token, URL without query + nonce)).
        mac = hmac.new(ENV["PLIVO_AUTH_TOKEN"].encode(), (url.split("?")[0] + "12345").encode(), hashlib.sha256)
        headers["X-Plivo-Signature-V2"] = base64.b64encode(mac.digest()).decode()
        headers["X-Plivo-Signature-V2-Nonce"] = "12345"
    elif name == "telnyx":
        signature = _TELNYX_PRIVATE.sign(str(int(now)).encode() + b"|" + body)
        headers |= {"telnyx-signature-ed25519": base64.b64encode(signature).decode(), "telnyx-timestamp": str(int(now))}
    elif name == "bandwidth":
        user, password = ENV["BANDWIDTH_WEBHOOK_USERNAME"], ENV["BANDWIDTH_WEBHOOK_PASSWORD"]
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    elif name == "sinch":
        nonce, stamp = "01HZX5T6K9Q2R8", str(int(now))
        mac = hmac.new(ENV["SINCH_WEBHOOK_SECRET"].encode(), body + f".{nonce}.{stamp}".encode(), hashlib.sha256)
        headers |= {"x-sinch-webhook-signature": base64.b64encode(mac.digest()).decode(),
                    "x-sinch-webhook-signature-nonce": nonce, "x-sinch-webhook-signature-timestamp": stamp}
    else:
        raise KeyError(name)
    return headers, body


@dataclass(frozen=True)
class Adapter:
    """One mounted adapter and how to fuzz it."""

    name: str
    carrier: Carrier
    seeds: list[tuple[str, bytes]]  # (content type, body): valid examples to mutate
    header_names: tuple[str, ...]  # the headers its verify reads, so fuzzed headers hit them


# Headers each scheme reads; a fuzzed request sets some of them to garbage.
_HEADERS: dict[str, tuple[str, ...]] = {
    "twilio": ("X-Twilio-Signature",),
    "vonage": ("Authorization",),
    "vonage-sms": (),
    "plivo": ("X-Plivo-Signature-V3", "X-Plivo-Signature-V3-Nonce", "X-Plivo-Signature-V2",
              "X-Plivo-Signature-V2-Nonce", "X-Plivo-Signature", "X-Plivo-Signature-Ma-V3"),
    "telnyx": ("telnyx-signature-ed25519", "telnyx-timestamp"),
    "bandwidth": ("Authorization",),
    "sinch": ("x-sinch-webhook-signature", "x-sinch-webhook-signature-nonce", "x-sinch-webhook-signature-timestamp",
              "x-sinch-webhook-signature-algorithm"),
}


def adapter_classes() -> list[type[Any]]:
    """Every adapter class defined in a module of ``bot.carriers``."""
    found: list[type[Any]] = []
    for info in sorted(pkgutil.iter_modules(bot.carriers.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.carriers.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            if all(callable(getattr(cls, attr, None)) for attr in ("parse", "parse_receipts", "verify", "from_env")):
                found.append(cls)
    return found


def _build(cls: type[Any]) -> Carrier | None:
    make: Callable[..., Carrier | None] = cls.from_env
    carrier: Carrier | None = make(ENV)
    return carrier


def adapters() -> list[Adapter]:
    """Every discovered adapter that ``ENV`` configures, with its seeds."""
    out = []
    for cls in adapter_classes():
        carrier = _build(cls)
        if carrier is not None:
            seeds = [inbound(carrier.name), receipt(carrier.name)] if carrier.name in KNOWN else []
            out.append(Adapter(carrier.name, carrier, seeds, _HEADERS.get(carrier.name, ())))
    return out
