"""One-time codes that prove a customer holds a phone number.

Choices, and why:
- Codes are ``secrets``-random digits (``length`` 4-10, default 6) that
  expire (``expires_in`` 60-3600 s, default 10 minutes).
- Only a salted scrypt hash is stored: a copy of the database does not hand
  out live codes, and scrypt makes trying all 10^6 codes offline slow. Hashing
  runs in a thread so it never stalls the event loop.
- Checks compare the hashes with ``hmac.compare_digest`` (constant time).
- Each code allows ``max_attempts`` checks (5); then it is dead and a new one
  must be requested. Requesting a new code cancels the open one.
- Per number: at most ``per_number`` codes per hour and one per ``cooldown``
  seconds, counted in the database, so a client cannot flood a customer with
  texts nor multiply its guesses. Per client address: ``per_ip`` code requests
  and ``checks_per_ip`` checks per hour, in memory.
- The text names the flow's brand and is pure GSM-7 (one cheap segment, and
  no carrier mangles it): characters of a brand outside GSM-7 are replaced by
  look-alikes or dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field

from bot.api.ratelimit import WindowLimit
from bot.sms import SMART_ENCODING_MAP, is_gsm7

__all__ = ["Verifier", "code_message", "gsm7_brand", "hash_code"]

HOUR = 3600.0


def hash_code(code: str, salt: bytes) -> bytes:
    # n=2**14, r=8: ~16 MiB and tens of milliseconds per hash.
    return hashlib.scrypt(code.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def gsm7_brand(brand: str) -> str:
    """The brand in GSM-7: look-alikes replaced (“ -> "), accents stripped where needed, the rest dropped."""
    out = []
    for char in brand:
        if not is_gsm7(char):
            char = SMART_ENCODING_MAP.get(char, char)
        if not is_gsm7(char):
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if is_gsm7(c))
        out.append(char)
    return " ".join("".join(out).split())


def code_message(brand: str, code: str, expires_in: float) -> str:
    minutes = max(1, round(expires_in / 60))
    name = gsm7_brand(brand)
    prefix = f"{name}: " if name else ""
    return f"{prefix}your verification code is {code}. It expires in {minutes} min. Do not share it with anyone."


@dataclass
class Verifier:
    max_attempts: int = 5
    per_number: int = 5  # codes per number per hour
    cooldown: float = 30.0  # seconds between two codes to one number
    per_ip: WindowLimit = field(default_factory=lambda: WindowLimit(20, HOUR))
    checks_per_ip: WindowLimit = field(default_factory=lambda: WindowLimit(60, HOUR))

    @staticmethod
    def new_code(length: int) -> str:
        return f"{secrets.randbelow(10**length):0{length}d}"

    @staticmethod
    async def digest(code: str, salt: bytes) -> bytes:
        return await asyncio.to_thread(hash_code, code, salt)

    @staticmethod
    async def matches(code: str, salt: bytes, stored: bytes) -> bool:
        return hmac.compare_digest(await asyncio.to_thread(hash_code, code, salt), stored)
