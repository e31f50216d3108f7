"""HTTP at the byte level, for requests no well-behaved client would send.

aiohttp's client always adds a Content-Type, re-encodes bodies and sends a whole body
before reading the answer; hostile-input tests need a request exactly as written
(no Content-Type, invalid UTF-8, a body larger than what is sent so far). Each call
opens one connection with ``Connection: close`` and reads one response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawResponse", "raw_request"]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(
    port: int,
    method: str,
    target: bytes | str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_length: int | None = None,
    timeout: float = 5.0,
) -> RawResponse:
    """Send one request verbatim and read the response.

    ``content_length`` may announce more than ``body`` holds: the rest is never sent,
    so a server that answers proves it did not wait to read everything.
    """
    target_bytes = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method.encode("ascii") + b" " + target_bytes + b" HTTP/1.1", b"Connection: close"]
    given = {"Host": "127.0.0.1", **(headers or {})}
    for name, value in given.items():
        lines.append(f"{name}: {value}".encode("latin-1"))
    lines.append(f"Content-Length: {len(body) if content_length is None else content_length}".encode("ascii"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {}
        for line in header_lines:
            if ":" in line:
                name, _, value = line.partition(":")
                parsed[name.strip().lower()] = value.strip()
        length = int(parsed.get("content-length", "0"))
        payload = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
        return RawResponse(int(status_line.split()[1]), parsed, payload)
    finally:
        writer.close()
        # The server may already have closed (e.g. after a 413): a reset here is expected.
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
