"""Hot reload against a real flows folder and a real SQLite file, when things go wrong around it."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.web.keys import RELOADER, SERVICE
from tests.conftest import FLOWS, AppFactory, Phone, db_rows
from tests.test_reload import edit


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder, ignore=shutil.ignore_patterns("tests"))
    return folder


async def test_a_version_swapped_in_while_the_database_is_busy_is_recorded_later(
    make_client: AppFactory, flows: Path, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(flows_dir=flows, reload_interval=0)
    reloader = client.server.app[RELOADER]
    store = client.server.app[SERVICE].store
    await store.db.execute("PRAGMA busy_timeout = 50")  # type: ignore[attr-defined]
    edit(flows / "retail.yaml", "Sun 10am-6pm.", "Sun 11am-5pm.")
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a backup or a migration holds the database
    try:
        with caplog.at_level(logging.INFO, logger="textdesk.reload"):
            assert await reloader.check() is True  # the new version serves at once
        assert "reloaded flows: retail@" in caplog.text
        assert "Traceback" not in caplog.text
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    (version,) = [flow.version for flow in client.server.app[SERVICE].flows]
    assert db_rows(db_path, "SELECT count(*) FROM flow_versions WHERE version = ?", version) == [(0,)]
    # The next check records it, though no file changed since: `lint --against` reads it.
    assert await reloader.check() is False
    assert db_rows(db_path, "SELECT count(*) FROM flow_versions WHERE version = ?", version) == [(1,)]
    assert "Sun 11am-5pm." in (await Phone(client, "+15550006401").text("1")).body


async def test_an_edit_that_keeps_size_and_modification_time_is_reloaded(make_client: AppFactory, flows: Path) -> None:
    # Deploy tools that pin modification times (reproducible builds set them to a
    # fixed SOURCE_DATE_EPOCH, rsync -a and cp -p copy them) and an edit of the
    # same length: only the file's change time and inode still differ.
    client = await make_client(flows_dir=flows, reload_interval=0)
    reloader = client.server.app[RELOADER]
    path = flows / "retail.yaml"
    before = path.stat()
    replacement = flows / "retail.yaml.new"
    replacement.write_text(path.read_text().replace("Sun 10am-6pm.", "Sun 11am-6pm."))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert await reloader.check() is True
    assert "Sun 11am-6pm." in (await Phone(client, "+15550006402").text("1")).body
