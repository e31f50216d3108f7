"""The real server as a child process (``python run.py ...``), for tests that kill it.

Readiness is polled on ``/healthz`` with a deadline, never assumed after a fixed sleep;
``kill`` is SIGKILL (no cleanup handlers, no flush: what a crash or OOM kill does).
Each process writes its output to its own log file, shown when it fails to start.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

__all__ = ["ROOT", "ServerProcess", "free_port"]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """``run.py`` on loopback with a given database file, restartable on the same port."""

    def __init__(self, db: Path, token: str, logs: Path, port: int | None = None) -> None:
        self.db = db
        self.token = token
        self.logs = logs
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None, "already running"
        # Only what the server needs: no carrier secrets or TEXTDESK_* settings from the caller's shell.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "TWILIO_"))}
        env |= {"TWILIO_AUTH_TOKEN": self.token, "TEXTDESK_LOG_LEVEL": "WARNING"}
        self.starts += 1
        log = (self.logs / f"server-{self.starts}.log").open("wb")
        command = [sys.executable, "run.py", "--port", str(self.port), "--db", str(self.db), "--public-url", self.url]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()  # the child holds its own descriptor

    async def wait_ready(self, session: aiohttp.ClientSession, timeout: float = 20.0) -> float:
        """Poll /healthz until it answers 200; return the seconds it took."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                async with session.get(f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as answer:
                    if answer.status == 200:
                        return time.monotonic() - began
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.02)  # polling interval only: readiness itself is observed, not assumed
        raise AssertionError(f"server not ready after {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, then reap the process so the port and the database are free."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """A clean shutdown (SIGINT, as Ctrl-C), falling back to SIGKILL."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        path = self.logs / f"server-{self.starts}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
