"""Vonage Messages API webhook authenticity: the signed JWT in ``Authorization`` (carriers.md §2.2).

Every webhook carries ``Authorization: Bearer <JWT>``, an HS256 token signed
with the account's signature secret whose ``payload_hash`` claim is the
SHA-256 hex of the raw body, so one check covers the whole request. The JWT is
verified here by hand (it is one HMAC) rather than with PyJWT: that keeps the
clock the request's ``now`` instead of the process clock, keeps every failure a
``WebhookError``, and lets the tests sign with PyJWT as an independent
implementation.

Time policy, since Vonage documents only ``iat``: a token may be issued up to
``LEEWAY`` seconds in our future (clock skew), ``exp``/``nbf`` are honoured when
present with the same leeway, and a token older than ``MAX_TOKEN_AGE`` is
refused. That age matches the 24 h idempotency window of §12, so a replayed
webhook is either deduplicated by ``message_uuid`` or refused, never handled twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from bot.carriers.base import WebhookError, WebhookRequest

__all__ = ["LEEWAY", "MAX_TOKEN_AGE", "decode_jwt", "verify_bearer"]

LEEWAY = 300.0  # seconds of clock skew tolerated on iat, exp and nbf
MAX_TOKEN_AGE = 24 * 3600.0  # the idempotency window (§12): older tokens are replays

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def _forbidden(code: str, message: str) -> WebhookError:
    return WebhookError(403, code, message)


def _segment(text: str, what: str) -> bytes:
    # fullmatch, not match: "$" would let a trailing newline through.
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise _forbidden("bad_token", f"the JWT {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _forbidden("bad_token", f"the JWT {what} is not base64url") from exc


def _json_object_of(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _forbidden("bad_token", f"the JWT {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise _forbidden("bad_token", f"the JWT {what} is not a JSON object")
    return value


def decode_jwt(token: str, secret: str) -> dict[str, Any]:
    """The claims of an HS256 JWT signed with ``secret``; raises 403 otherwise.

    Only the signature is checked here; claims (times, ``payload_hash``) are the
    caller's business. The algorithm is pinned to HS256 whatever the header says
    it may be, so ``alg: none`` or an RSA/HMAC confusion cannot get through.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise _forbidden("bad_token", "the bearer token is not a JWT (expected header.payload.signature)")
    header = _json_object_of(_segment(parts[0], "header"), "header")
    if header.get("alg") != "HS256":
        raise _forbidden("bad_token", f"the JWT must be signed with HS256, not {str(header.get('alg'))[:20]!r}")
    if "crit" in header:  # RFC 7515 §4.1.11: extensions we do not understand must be refused
        raise _forbidden("bad_token", "the JWT has critical header extensions this verifier does not support")
    payload, signature = _segment(parts[1], "payload"), _segment(parts[2], "signature")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")  # ASCII: both passed the base64url check
    expected = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise _forbidden("bad_signature", "the JWT signature does not match VONAGE_SIGNATURE_SECRET")
    return _json_object_of(payload, "payload")  # parsed only once authentic


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int subclass; NaN and infinities fail the range test, and the
    # range keeps a 400-digit integer from overflowing float arithmetic below.
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1e13 < value < 1e13:
        raise _forbidden("bad_token", f"the JWT {name} claim is not a time in seconds")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    iat, exp, nbf = (_timestamp(claims, name) for name in ("iat", "exp", "nbf"))
    if iat is None:
        raise _forbidden("bad_token", "the JWT has no iat (issued-at) claim")
    if iat > now + LEEWAY:
        raise _forbidden("bad_token", f"the JWT was issued {iat - now:.0f} s in the future; check the server clock")
    if now - iat > MAX_TOKEN_AGE:
        raise _forbidden("stale_token", f"the JWT was issued {now - iat:.0f} s ago (limit {MAX_TOKEN_AGE:.0f} s)")
    if exp is not None and now > exp + LEEWAY:
        raise _forbidden("stale_token", "the JWT has expired (exp)")
    if nbf is not None and now + LEEWAY < nbf:
        raise _forbidden("bad_token", "the JWT is not valid yet (nbf)")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive; HTTP header names are not
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    return value


def verify_bearer(request: WebhookRequest, secret: str) -> None:
    """Raise unless the request's bearer JWT is signed with ``secret``, current, and hashes its body.

    403 for a bad or stale token; 503 for an unsigned webhook, which Vonage retries signed.
    """
    authorization = _header(request.headers, "Authorization").strip()
    if not authorization:
        # §2.2: on an internal error Vonage may send a webhook unsigned, and
        # retries it (signed, this time) only when the answer is a 5xx.
        raise WebhookError(503, "unsigned_webhook", "no Authorization header; Vonage retries unsigned webhooks")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _forbidden("bad_authorization", "the Authorization header should be 'Bearer <JWT>'")
    claims = decode_jwt(token.strip(), secret)
    _check_times(claims, request.now)
    presented = claims.get("payload_hash")
    if not isinstance(presented, str) or not _HEX64.fullmatch(presented):
        raise _forbidden("bad_token", "the JWT has no payload_hash claim (SHA-256 hex of the body)")
    actual = hashlib.sha256(request.body).hexdigest().encode("ascii")
    if not hmac.compare_digest(actual, presented.lower().encode("ascii")):
        raise _forbidden("body_mismatch", "the body does not match the JWT payload_hash; it was altered")
