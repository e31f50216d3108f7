"""/readyz, /healthz and /metrics when the database file itself goes away under the server."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import AppFactory, Phone


def remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def replace_database(db_path: Path) -> None:
    fresh = db_path.with_name("restored.db")
    sqlite3.connect(fresh).close()
    os.replace(fresh, db_path)  # a restore from backup, or a volume mounted over the folder


@pytest.mark.parametrize("fault", [remove_database, replace_database], ids=["removed", "replaced"])
async def test_readyz_fails_when_the_database_file_is_no_longer_the_one_open(
    make_client: AppFactory, db_path: Path, fault: object
) -> None:
    client = await make_client(outbox_worker=True)
    assert (await client.get("/readyz")).status == 200
    fault(db_path)  # type: ignore[operator]
    # SQLite keeps writing to the file it opened: every turn acknowledged from
    # now on is lost when the process restarts. Not ready, and it says why.
    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["error"]["code"] == "not_ready"
    assert "was removed or replaced" in body["error"]["message"]
    assert (await client.get("/metrics")).status == 200


async def test_readyz_stays_ready_through_ordinary_traffic(make_client: AppFactory) -> None:
    client = await make_client(outbox_worker=True)
    await Phone(client, "+15550006501").text("1")
    assert (await client.get("/readyz")).status == 200
