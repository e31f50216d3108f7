"""Graceful shutdown: SIGTERM stops accepting, finishes what is in flight, closes cleanly.

The real server runs as a subprocess (``python run.py``) on loopback with a real
SQLite file; requests are fired concurrently and SIGTERM arrives while they are
in flight. Every request answered 200 must be in the database with its reply,
the process must exit 0, and a restart must carry on from where it stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "shutdown-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(port: int, db: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    # Logs go to a file: a pipe nobody reads fills up and blocks the server.
    with (db.parent / "server.log").open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "run.py", "--port", str(port), "--db", str(db),
             "--public-url", f"http://127.0.0.1:{port}", "--reload-interval", "0"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )


async def wait_ready(port: int, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < end:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("server did not become ready")


async def send(http: aiohttp.ClientSession, port: int, n: int, text: str) -> tuple[str, int]:
    url = f"http://127.0.0.1:{port}/webhooks/twilio"
    sid = f"SM{n:032x}"
    params = {"MessageSid": sid, "From": f"+1555200{n % 50:04d}", "To": "+15555550100", "Body": text,
              "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    try:
        async with http.post(url, data=params, headers={"X-Twilio-Signature": signature}) as response:
            await response.read()
            return sid, response.status
    except aiohttp.ClientError:
        return sid, 0  # not accepted: the carrier would retry it


async def test_sigterm_finishes_in_flight_and_restart_continues(tmp_path: Path) -> None:
    db = tmp_path / "textdesk.db"
    port = free_port()
    server = start(port, db)
    try:
        await wait_ready(port)
        async with aiohttp.ClientSession() as http:
            tasks = [asyncio.create_task(send(http, port, n, "wat r ur hrs")) for n in range(200)]
            # Wait until the server is busy with them: the first answers are in.
            while not any(t.done() for t in tasks):
                await asyncio.sleep(0.005)
            server.send_signal(signal.SIGTERM)
            results = await asyncio.gather(*tasks)
        code = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    assert code == 0, (tmp_path / "server.log").read_text()[-3000:]
    acknowledged = {sid for sid, status in results if status == 200}
    assert acknowledged, "some requests should have been answered before the shutdown"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        recorded = {sid for (sid,) in conn.execute("SELECT provider_id FROM inbound")}
        replied = {sid for (sid,) in conn.execute("SELECT in_reply_to FROM outbound")}
    assert acknowledged <= recorded  # every 200 was committed first
    assert acknowledged <= replied
    # A restart serves again, and a carrier retry of an acknowledged message is not handled twice.
    server = start(port, db)
    try:
        await wait_ready(port)
        async with aiohttp.ClientSession() as http:
            n = int(sorted(acknowledged)[0][2:], 16)
            _, status = await send(http, port, n, "wat r ur hrs")
            assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT count(*) FROM inbound WHERE provider_id = ?", (sorted(acknowledged)[0],))
        assert count.fetchone() == (1,)
