"""A verification attempt is judged at the time it is written, not when it was asked for."""

from __future__ import annotations

from pathlib import Path

from bot.clock import VirtualClock
from bot.store import SQLiteStore
from bot.store.records import Verification
from bot.types import Reply
from tests.conftest import db_rows


def _code(expires_at: float) -> Verification:
    return Verification("v1", "twilio", "+15550006001", "+15555550100", b"h", b"s", 1000.0, expires_at, 3)


async def test_an_attempt_written_after_expiry_approves_nothing(tmp_path: Path) -> None:
    # The API judged the code unexpired, then its write waited for the lock
    # (behind a broadcast's chunk) past the expiry: the write itself refuses.
    clock = VirtualClock(1000.0)
    store = SQLiteStore(tmp_path / "t.db")
    await store.open()
    try:
        await store.create_verification(_code(expires_at=1120.0), Reply("code 1234"), clock.now())
        clock.advance(120)
        assert not await store.record_attempt("v1", True, clock.now)
        assert db_rows(tmp_path / "t.db", "SELECT status, attempts FROM verifications") == [("pending", 0)]
    finally:
        await store.close()


async def test_an_attempt_before_expiry_is_counted(tmp_path: Path) -> None:
    clock = VirtualClock(1000.0)
    store = SQLiteStore(tmp_path / "t.db")
    await store.open()
    try:
        await store.create_verification(_code(expires_at=1120.0), Reply("code 1234"), clock.now())
        clock.advance(119)
        assert await store.record_attempt("v1", False, clock.now)
        assert await store.record_attempt("v1", True, clock.now)
        assert db_rows(tmp_path / "t.db", "SELECT status, attempts FROM verifications") == [("approved", 2)]
    finally:
        await store.close()
