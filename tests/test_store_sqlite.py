"""Tests for bot.store.sqlite: a real SQLite file under ``tmp_path``, no mocks.

The store is checked from two sides: through its own interface, and with a
plain ``sqlite3`` connection on the same file, so a test cannot pass just
because the store agrees with itself (WAL lets that second reader look while
the store is open).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import LoggedMessage, SQLiteStore, StoreError
from bot.store.sqlite import MIGRATIONS
from bot.types import ConversationKey, InboundMedia, InboundMessage, Reply, Session

CHANNEL = "twilio"
BUSINESS = "+15550000000"
T0 = 1_800_000_000.0


def key_for(customer: str = "+15551230000", channel: str = CHANNEL) -> ConversationKey:
    return ConversationKey(channel=channel, customer=customer, business=BUSINESS)


def inbound(
    provider_id: str,
    key: ConversationKey | None = None,
    text: str = "hello",
    media: tuple[InboundMedia, ...] = (),
) -> InboundMessage:
    key = key or key_for()
    return InboundMessage(
        channel=key.channel,
        provider_id=provider_id,
        customer=key.customer,
        business=key.business,
        text=text,
        media=media,
    )


def session_for(
    key: ConversationKey | None = None,
    state: str = "start",
    variables: dict[str, str] | None = None,
    pending: tuple[str, ...] = (),
    created: float = T0,
    updated: float = T0,
) -> Session:
    return Session(
        key=key or key_for(),
        flow="retail",
        flow_version="v1",
        state=state,
        variables=dict(variables or {}),
        pending=pending,
        created_at=created,
        updated_at=updated,
    )


@contextlib.contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A second, independent connection on the store's file."""
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()


def query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with raw(path) as conn:
        return conn.execute(sql, params).fetchall()


def count(path: Path, table: str) -> int:
    return int(query(path, f"SELECT count(*) FROM {table}")[0][0])


def user_version(path: Path) -> int:
    return int(query(path, "PRAGMA user_version")[0][0])


def schema(path: Path) -> list[tuple[Any, ...]]:
    return query(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "textdesk.db"


StoreFactory = Callable[[], SQLiteStore]


@pytest.fixture
async def new_store(db_path: Path) -> AsyncIterator[StoreFactory]:
    """Stores on ``db_path`` that are closed at teardown even when the test failed.

    aiosqlite's worker thread is not a daemon: a store left open by a failing
    test would keep pytest from exiting instead of just reporting the failure.
    """
    made: list[SQLiteStore] = []

    def make() -> SQLiteStore:
        made.append(SQLiteStore(db_path))
        return made[-1]

    yield make
    for s in made:
        await s.close()


@pytest.fixture
async def store(new_store: StoreFactory) -> SQLiteStore:
    s = new_store()
    await s.open()
    return s


# --- opening, schema, migrations ------------------------------------------------------------


async def test_open_creates_schema_and_sets_user_version(new_store: StoreFactory, db_path: Path) -> None:
    assert not db_path.exists()
    s = new_store()
    await s.open()
    try:
        assert db_path.exists()  # the parent folder was created too
        assert user_version(db_path) == len(MIGRATIONS)
        tables = {name for (name,) in query(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"conversations", "inbound", "outbound"} <= tables
        indexes = {name for (name,) in query(db_path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"inbound_by_conversation", "outbound_by_turn", "outbound_initiated"} <= indexes
    finally:
        await s.close()


async def test_reopening_is_a_no_op(new_store: StoreFactory, db_path: Path) -> None:
    s = new_store()
    await s.open()
    assert await s.commit_turn(inbound("SM1"), session_for(), (Reply("hi"),), "flow", T0)
    await s.close()
    before = schema(db_path)

    for _ in range(2):
        again = new_store()
        await again.open()  # must not re-run migration 1 ("table already exists")
        await again.close()

    assert schema(db_path) == before
    assert user_version(db_path) == len(MIGRATIONS)
    assert count(db_path, "inbound") == 1
    assert count(db_path, "outbound") == 1
    assert count(db_path, "conversations") == 1


# The conversation log as migration 7's schema answered it (by the outbound row's own conversation).
V7_LOG = (
    "SELECT direction, provider_id, body FROM ("
    " SELECT 'in' AS direction, provider_id, body, received_at AS at, rowid AS turn, 0 AS seq"
    " FROM inbound WHERE channel = ?1 AND customer = ?2 AND business = ?3"
    " UNION ALL"
    " SELECT 'out', o.provider_id, o.body, o.created_at, coalesce(i.rowid, 0), o.id"
    " FROM outbound AS o LEFT JOIN inbound AS i ON i.channel = o.channel AND i.provider_id = o.in_reply_to"
    " WHERE o.channel = ?1 AND o.customer = ?2 AND o.business = ?3"
    ") ORDER BY at, turn, seq"
)


async def test_migration_8_links_replies_to_their_turns_and_keeps_every_log(
    new_store: StoreFactory, db_path: Path
) -> None:
    db_path.parent.mkdir(parents=True)
    key, other = key_for("+15551110001"), key_for("+15551110002")
    with raw(db_path) as conn:  # a database written by the previous textdesk (schema 7)
        for script in MIGRATIONS[:7]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 7")
        for k in (key, other):
            for n in range(3):
                sid = f"SM{k.customer[-1]}{n}"
                conn.execute(
                    "INSERT INTO inbound (channel, provider_id, customer, business, body, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (k.channel, sid, k.customer, k.business, f"q{n}", T0),
                )
                conn.execute(
                    "INSERT INTO outbound (channel, in_reply_to, customer, business, body, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (k.channel, sid, k.customer, k.business, f"a{n}", T0),
                )
        # A business-initiated message, and a reply whose inbound row is gone.
        conn.execute(
            "INSERT INTO outbound (channel, customer, business, body, created_at, origin) VALUES (?, ?, ?, ?, ?, ?)",
            (key.channel, key.customer, key.business, "promo", T0 - 5, "broadcast:b1"),
        )
        conn.execute(
            "INSERT INTO outbound (channel, in_reply_to, customer, business, body, created_at) "
            "VALUES (?, 'SMgone', ?, ?, 'orphan', ?)", (key.channel, key.customer, key.business, T0 + 1),
        )
        conn.commit()
        logs = {k: conn.execute(V7_LOG, (k.channel, k.customer, k.business)).fetchall() for k in (key, other)}

    s = new_store()
    await s.open()
    try:
        assert user_version(db_path) == len(MIGRATIONS)
        for k in (key, other):
            assert [(m.direction, m.provider_id, m.text) for m in await s.messages(k)] == logs[k]
        assert len(logs[key]) == 8 and logs[key][0][2] == "promo"
    finally:
        await s.close()
    # Every reply points at its own inbound row; the others have no turn.
    linked = query(db_path, "SELECT count(*) FROM outbound o JOIN inbound i ON o.turn = i.rowid"
                            " AND i.provider_id = o.in_reply_to")
    assert linked == [(6,)]
    assert query(db_path, "SELECT body FROM outbound WHERE turn IS NULL ORDER BY id") == [("promo",), ("orphan",)]


async def test_a_database_that_cannot_be_opened_leaves_no_worker_thread(tmp_path: Path) -> None:
    # The refusal is the whole story: aiosqlite's worker thread has stopped by the time
    # open() raises, so it cannot answer a closed event loop (a traceback after the CLI's
    # one-line error) as the process exits.
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0o500)  # root ignores this; a folder as the file fails for anyone
    threads_before = set(threading.enumerate())
    store = SQLiteStore(tmp_path / "locked")
    with pytest.raises(StoreError, match="cannot open database"):
        await store.open()
    workers = [t for t in threading.enumerate() if t not in threads_before and "_connection_worker" in t.name]
    assert [t for t in workers if t.is_alive()] == []


async def test_newer_database_is_refused(new_store: StoreFactory, db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    newer = len(MIGRATIONS) + 1
    with raw(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    threads_before = set(threading.enumerate())

    s = new_store()
    with pytest.raises(StoreError, match=rf"schema version {newer}, newer than this textdesk"):
        await s.open()

    # Refused means closed: no usable half-open connection, no worker thread left behind
    # (aiosqlite's thread is not a daemon: a leaked one keeps the process from exiting).
    with pytest.raises(StoreError):
        await s.ping()
    started = [t for t in threading.enumerate() if t not in threads_before]
    for thread in started:
        thread.join(timeout=5)
    assert [t for t in started if t.is_alive()] == []
    # ... and the newer database was not touched.
    assert user_version(db_path) == newer
    assert query(db_path, "SELECT name FROM sqlite_master") == []


async def test_journal_mode_is_wal(store: SQLiteStore, db_path: Path) -> None:
    # journal_mode=wal is persistent, so a separate connection sees it in the file itself.
    assert query(db_path, "PRAGMA journal_mode") == [("wal",)]
    async with store.db.execute("PRAGMA journal_mode") as cursor:
        assert await cursor.fetchone() == ("wal",)


# --- sessions and turns ---------------------------------------------------------------------


async def test_get_session_of_unknown_key_is_none(store: SQLiteStore) -> None:
    assert await store.get_session(key_for()) is None
    assert await store.commit_turn(inbound("SM1"), session_for(), (), "flow", T0)
    assert await store.get_session(key_for("+15559999999")) is None
    assert await store.get_session(key_for(channel="other")) is None


async def test_commit_turn_stores_session_inbound_and_outbound(store: SQLiteStore, db_path: Path) -> None:
    key = key_for()
    session = session_for(
        key,
        state="ask_order",
        variables={"name": "Zoë 🌈", "order": "A-17", "quote": 'say "hi"\n', "empty": ""},
        pending=("faq.returns", "faq.hours", "faq.returns"),
        created=T0,
        updated=T0 + 2.5,
    )
    message = inbound(
        "SM1",
        key,
        text="Où est ma commande? 📦",
        media=(InboundMedia("https://api.example/m/1", "image/jpeg"), InboundMedia("https://api.example/m/2")),
    )
    replies = (Reply("Which order?"), Reply("Here is a map", ("map.png", "https://cdn.example/x.gif")))

    assert await store.commit_turn(message, session, replies, "flow:ask_order", T0 + 2.5) is True

    stored = await store.get_session(key)
    assert stored == session
    assert stored is not None
    assert isinstance(stored.pending, tuple)

    assert query(
        db_path, "SELECT channel, provider_id, customer, business, body, media, decision, received_at FROM inbound"
    ) == [
        (
            CHANNEL,
            "SM1",
            key.customer,
            BUSINESS,
            "Où est ma commande? 📦",
            '["https://api.example/m/1", "https://api.example/m/2"]',
            "flow:ask_order",
            T0 + 2.5,
        )
    ]
    assert query(
        db_path, "SELECT channel, in_reply_to, customer, business, body, media, created_at FROM outbound ORDER BY id"
    ) == [
        (CHANNEL, "SM1", key.customer, BUSINESS, "Which order?", "[]", T0 + 2.5),
        (CHANNEL, "SM1", key.customer, BUSINESS, "Here is a map", '["map.png", "https://cdn.example/x.gif"]', T0 + 2.5),
    ]


async def test_session_update_overwrites_state_but_keeps_created_at(store: SQLiteStore) -> None:
    key = key_for()
    assert await store.commit_turn(inbound("SM1", key), session_for(key, "a", {"x": "1"}, ("q",)), (), "", T0)
    second = session_for(key, "b", {"y": "2"}, (), created=T0 + 99, updated=T0 + 5)
    assert await store.commit_turn(inbound("SM2", key), second, (), "", T0 + 5)
    stored = await store.get_session(key)
    assert stored == session_for(key, "b", {"y": "2"}, (), created=T0, updated=T0 + 5)


async def test_duplicate_commit_returns_false_and_changes_nothing(store: SQLiteStore, db_path: Path) -> None:
    key = key_for()
    first = session_for(key, state="first", variables={"n": "1"}, pending=("a",))
    assert await store.commit_turn(inbound("SM1", key, "first"), first, (Reply("one"),), "flow", T0)
    before = {table: query(db_path, f"SELECT * FROM {table}") for table in ("inbound", "outbound", "conversations")}

    retry = session_for(key, state="second", variables={"n": "2"}, updated=T0 + 10)
    replies = (Reply("two"), Reply("three", ("x.png",)))
    assert await store.commit_turn(inbound("SM1", key, "retry"), retry, replies, "other", T0 + 10) is False

    assert await store.get_session(key) == first
    after = {table: query(db_path, f"SELECT * FROM {table}") for table in ("inbound", "outbound", "conversations")}
    assert after == before
    assert not store.db.in_transaction
    # The connection is still usable for the next turn.
    assert await store.commit_turn(inbound("SM2", key), retry, replies, "flow", T0 + 11)
    assert count(db_path, "outbound") == 3


async def test_processed_replies_returns_the_first_turns_replies(store: SQLiteStore) -> None:
    assert await store.processed_replies(CHANNEL, "SM1") is None
    replies = (Reply("Hi there"), Reply("", ("menu.jpg", "https://cdn.example/a b.png")), Reply("Bye 👋"))
    assert await store.commit_turn(inbound("SM1"), session_for(), replies, "flow", T0)
    assert not await store.commit_turn(inbound("SM1"), session_for(), (Reply("other"),), "flow", T0 + 1)

    assert await store.processed_replies(CHANNEL, "SM1") == replies
    assert await store.processed_replies(CHANNEL, "SM2") is None

    # A turn that answered nothing is still "processed": an empty tuple, not None.
    assert await store.commit_turn(inbound("SM3"), None, (), "ignored", T0 + 2)
    assert await store.processed_replies(CHANNEL, "SM3") == ()


async def test_same_provider_id_on_another_channel_is_independent(store: SQLiteStore) -> None:
    a, b = key_for(channel="twilio"), key_for(channel="vonage")
    assert await store.commit_turn(inbound("ID1", a), session_for(a, "a"), (Reply("from a"),), "flow", T0)
    assert await store.commit_turn(inbound("ID1", b), session_for(b, "b"), (Reply("from b"),), "flow", T0)

    assert await store.processed_replies("twilio", "ID1") == (Reply("from a"),)
    assert await store.processed_replies("vonage", "ID1") == (Reply("from b"),)
    assert (await store.get_session(a) or session_for()).state == "a"
    assert (await store.get_session(b) or session_for()).state == "b"
    assert [m.text for m in await store.messages(a)] == ["hello", "from a"]
    assert [m.text for m in await store.messages(b)] == ["hello", "from b"]


async def test_commit_turn_without_session_leaves_conversation_untouched(store: SQLiteStore, db_path: Path) -> None:
    key = key_for()
    original = session_for(key, "menu", {"k": "v"}, ("p",), updated=T0)
    assert await store.commit_turn(inbound("SM1", key), original, (Reply("menu"),), "flow", T0)
    row_before = query(db_path, "SELECT * FROM conversations")

    assert await store.commit_turn(inbound("SM2", key, "STOP"), None, (Reply("bye"),), "compliance", T0 + 60)

    assert await store.get_session(key) == original
    assert query(db_path, "SELECT * FROM conversations") == row_before  # not even updated_at moved
    # The turn itself is logged all the same.
    assert await store.processed_replies(CHANNEL, "SM2") == (Reply("bye"),)
    assert [m.text for m in await store.messages(key)] == ["hello", "menu", "STOP", "bye"]

    # A brand-new conversation with session=None stays absent.
    other = key_for("+15557770000")
    assert await store.commit_turn(inbound("SM3", other), None, (), "ignored", T0 + 61)
    assert await store.get_session(other) is None
    assert count(db_path, "conversations") == 1


# --- the message log ------------------------------------------------------------------------


async def test_messages_in_order_with_the_newest_limit(store: SQLiteStore) -> None:
    key = key_for()
    for turn in range(3):
        replies = (Reply(f"r{turn}a", (f"m{turn}.png",)), Reply(f"r{turn}b"))
        media = (InboundMedia(f"https://api.example/{turn}", "image/png"),)
        message = inbound(f"SM{turn}", key, f"q{turn}", media)
        assert await store.commit_turn(message, session_for(key), replies, "flow", T0 + 10 * turn)
    # Noise in other conversations must not show up.
    assert await store.commit_turn(inbound("X1", key_for("+15550001111")), None, (Reply("x"),), "", T0 + 5)
    assert await store.commit_turn(inbound("SM0", key_for(channel="other")), None, (Reply("y"),), "", T0 + 5)

    log = await store.messages(key)
    assert log == [
        LoggedMessage("in", "SM0", "q0", ("https://api.example/0",), T0),
        LoggedMessage("out", "", "r0a", ("m0.png",), T0),
        LoggedMessage("out", "", "r0b", (), T0),
        LoggedMessage("in", "SM1", "q1", ("https://api.example/1",), T0 + 10),
        LoggedMessage("out", "", "r1a", ("m1.png",), T0 + 10),
        LoggedMessage("out", "", "r1b", (), T0 + 10),
        LoggedMessage("in", "SM2", "q2", ("https://api.example/2",), T0 + 20),
        LoggedMessage("out", "", "r2a", ("m2.png",), T0 + 20),
        LoggedMessage("out", "", "r2b", (), T0 + 20),
    ]
    assert await store.messages(key, limit=4) == log[-4:]
    assert await store.messages(key, limit=1) == log[-1:]
    assert await store.messages(key, limit=100) == log
    assert await store.messages(key_for("+15558880000")) == []


async def test_messages_keep_turn_order_when_timestamps_are_equal(store: SQLiteStore) -> None:
    # A VirtualClock that is not advanced (or a coarse clock) gives several turns the
    # same timestamp; the log must still read question, answer, question, answer.
    key = key_for()
    for turn in range(3):
        replies = (Reply(f"a{turn}.1"), Reply(f"a{turn}.2"))
        assert await store.commit_turn(inbound(f"SM{turn}", key, f"q{turn}"), None, replies, "", T0)
    texts = [(m.direction, m.text) for m in await store.messages(key)]
    assert texts == [
        ("in", "q0"),
        ("out", "a0.1"),
        ("out", "a0.2"),
        ("in", "q1"),
        ("out", "a1.1"),
        ("out", "a1.2"),
        ("in", "q2"),
        ("out", "a2.1"),
        ("out", "a2.2"),
    ]
    assert [m.text for m in await store.messages(key, limit=3)] == ["q2", "a2.1", "a2.2"]


# --- durability and integrity ---------------------------------------------------------------


async def test_data_survives_close_and_reopen(new_store: StoreFactory, db_path: Path) -> None:
    key = key_for()
    session = session_for(key, "done", {"a": "b"}, ("x", "y"), updated=T0 + 1)
    replies = (Reply("saved", ("pic.jpg",)),)

    first = new_store()
    await first.open()
    assert await first.commit_turn(inbound("SM1", key), session, replies, "flow", T0 + 1)
    log = await first.messages(key)
    await first.close()

    second = new_store()
    await second.open()
    try:
        assert await second.get_session(key) == session
        assert await second.processed_replies(CHANNEL, "SM1") == replies
        assert await second.messages(key) == log
        assert len(log) == 2
        # The claim survived too: a carrier retry after a restart is still a duplicate.
        assert not await second.commit_turn(inbound("SM1", key), session_for(key), (), "", T0 + 2)
    finally:
        await second.close()


async def test_integrity_check_after_many_turns(store: SQLiteStore, db_path: Path) -> None:
    turns = 400
    for i in range(turns):
        key = key_for(f"+1555000{i % 37:04d}")
        variables = {f"v{j}": "x" * (i % 50) for j in range(i % 7)}
        replies = tuple(Reply(f"reply {i}.{j}", ("a.png",) * (j % 2)) for j in range(i % 3))
        session = session_for(key, f"s{i}", variables, tuple(f"f{j}" for j in range(i % 4)), updated=T0 + i)
        assert await store.commit_turn(inbound(f"SM{i}", key, "t" * (i % 300)), session, replies, "", T0 + i)
        if i % 5 == 0:  # sprinkle in carrier retries
            assert not await store.commit_turn(inbound(f"SM{i}", key), None, (Reply("dup"),), "", T0 + i)

    async with store.db.execute("PRAGMA integrity_check") as cursor:
        assert await cursor.fetchall() == [("ok",)]
    assert query(db_path, "PRAGMA integrity_check") == [("ok",)]
    assert count(db_path, "inbound") == turns
    assert count(db_path, "outbound") == sum(i % 3 for i in range(turns))
    assert count(db_path, "conversations") == 37


# --- concurrency and cancellation -----------------------------------------------------------


async def test_concurrent_turns_all_land(store: SQLiteStore, db_path: Path) -> None:
    conversations, per_conversation = 20, 10
    keys = [key_for(f"+1555100{c:04d}") for c in range(conversations)]

    async def turn(c: int, n: int) -> bool:
        key = keys[c]
        session = session_for(key, f"step{n}", {"n": str(n)}, updated=T0 + n)
        return await store.commit_turn(inbound(f"SM-{c}-{n}", key, f"q{n}"), session, (Reply(f"a{n}"),), "", T0 + n)

    # Interleave the conversations and throw in concurrent readers.
    jobs = [turn(c, n) for n in range(per_conversation) for c in range(conversations)]
    readers = [store.get_session(k) for k in keys] + [store.ping() for _ in range(10)]
    results = await asyncio.gather(*jobs, *readers, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert results[: len(jobs)] == [True] * len(jobs)

    assert count(db_path, "inbound") == conversations * per_conversation
    assert count(db_path, "outbound") == conversations * per_conversation
    assert count(db_path, "conversations") == conversations
    for key in keys:
        log = await store.messages(key)
        assert len(log) == 2 * per_conversation
        assert sorted(m.text for m in log if m.direction == "in") == sorted(f"q{n}" for n in range(per_conversation))
        assert await store.get_session(key) is not None
    assert not store.db.in_transaction


async def test_concurrent_duplicates_claim_exactly_once(store: SQLiteStore, db_path: Path) -> None:
    key = key_for()
    jobs = [
        store.commit_turn(inbound(f"SM{i % 10}", key), session_for(key, f"s{i}"), (Reply(f"r{i}"),), "", T0 + i)
        for i in range(100)
    ]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count(True) == 10
    assert count(db_path, "inbound") == 10
    assert count(db_path, "outbound") == 10
    # Each claimed id kept the replies of whichever attempt won it, and only those.
    for pid in range(10):
        replies = await store.processed_replies(CHANNEL, f"SM{pid}")
        assert replies is not None and len(replies) == 1


def assert_all_or_nothing(db_path: Path, provider_id: str, replies: int, state: str) -> None:
    """A turn is either entirely in the file (claim, replies, session) or entirely absent."""
    landed = count_where(db_path, "inbound", "provider_id = ?", provider_id)
    out = count_where(db_path, "outbound", "in_reply_to = ?", provider_id)
    sessions = count_where(db_path, "conversations", "state = ?", state)
    assert (landed, out, sessions) in {(0, 0, 0), (1, replies, 1)}, provider_id


def count_where(path: Path, table: str, where: str, *params: Any) -> int:
    return int(query(path, f"SELECT count(*) FROM {table} WHERE {where}", params)[0][0])


async def test_turn_cancelled_while_waiting_for_begin_leaves_no_transaction(
    new_store: StoreFactory, db_path: Path
) -> None:
    # Another process holds the write lock, so the store's BEGIN IMMEDIATE is stuck in
    # busy_timeout on aiosqlite's thread when the task is cancelled; it still succeeds
    # there once the lock is released, after the coroutine has given up.
    store = new_store()
    await store.open()
    try:
        key = key_for()
        blocker = sqlite3.connect(db_path, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            task = asyncio.create_task(store.commit_turn(inbound("SM1", key), session_for(key), (Reply("a"),), "", T0))
            await asyncio.sleep(0.2)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            blocker.execute("COMMIT")
        finally:
            blocker.close()

        await store.ping()  # drains aiosqlite's queue: the late BEGIN has run by now
        assert not store.db.in_transaction
        assert await store.commit_turn(inbound("SM2", key), session_for(key, "next"), (Reply("b"),), "", T0 + 1)
        assert await store.commit_turn(inbound("SM3", key), session_for(key, "last"), (), "", T0 + 2)
        assert not store.db.in_transaction
    finally:
        await store.close()

    # What the cancelled turn wrote never reached the file; the later turns did.
    assert count_where(db_path, "inbound", "provider_id = ?", "SM1") == 0
    assert query(db_path, "SELECT provider_id FROM inbound ORDER BY provider_id") == [("SM2",), ("SM3",)]
    assert query(db_path, "SELECT state FROM conversations") == [("last",)]


async def test_turn_cancelled_at_any_point_is_all_or_nothing(store: SQLiteStore, db_path: Path) -> None:
    key = key_for()
    replies = tuple(Reply(f"r{j}") for j in range(3))
    cancelled_any = False
    for point in range(40):
        pid = f"SM{point}"
        task = asyncio.create_task(store.commit_turn(inbound(pid, key), session_for(key, pid), replies, "", T0))
        for _ in range(point):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            cancelled_any = True

        await store.ping()
        assert not store.db.in_transaction, f"open transaction after cancelling at point {point}"
        assert_all_or_nothing(db_path, pid, len(replies), state=pid)
        # The next turn always works.
        follow = f"ok{point}"
        assert await store.commit_turn(inbound(follow, key), None, (Reply("x"),), "", T0)
        assert count_where(db_path, "inbound", "provider_id = ?", follow) == 1
    assert cancelled_any
    assert query(db_path, "PRAGMA integrity_check") == [("ok",)]


# --- health and closed stores ---------------------------------------------------------------


async def test_ping_works_and_fails_after_close(new_store: StoreFactory) -> None:
    s = new_store()
    await s.open()
    await s.ping()
    await s.close()
    with pytest.raises(StoreError):
        await s.ping()
    await s.close()  # closing twice is fine


def _operations(s: SQLiteStore) -> dict[str, Any]:
    return {
        "ping": lambda: s.ping(),
        "get_session": lambda: s.get_session(key_for()),
        "processed_replies": lambda: s.processed_replies(CHANNEL, "SM1"),
        "commit_turn": lambda: s.commit_turn(inbound("SM9"), session_for(), (Reply("x"),), "", T0),
        "messages": lambda: s.messages(key_for()),
    }


OPERATIONS = ["ping", "get_session", "processed_replies", "commit_turn", "messages"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("was_opened", [True, False], ids=["closed", "never-opened"])
async def test_operations_on_a_closed_store_raise_store_error(
    new_store: StoreFactory, operation: str, was_opened: bool
) -> None:
    s = new_store()
    if was_opened:
        await s.open()
        assert await s.commit_turn(inbound("SM1"), session_for(), (), "", T0)
        await s.close()
    with pytest.raises(StoreError, match="not open"):
        await _operations(s)[operation]()


async def test_close_during_a_turn_lets_the_turn_finish(new_store: StoreFactory, db_path: Path) -> None:
    s = new_store()
    await s.open()
    key = key_for()
    turn = asyncio.create_task(s.commit_turn(inbound("SM1", key), session_for(key), (Reply("a"), Reply("b")), "", T0))
    await asyncio.sleep(0)  # the turn has started and holds the write lock
    await s.close()
    assert await turn is True
    assert count(db_path, "inbound") == 1
    assert count(db_path, "outbound") == 2
    with pytest.raises(StoreError):
        await s.commit_turn(inbound("SM2", key), None, (), "", T0)


# --- read-only databases --------------------------------------------------------------------


def permissions_are_enforced(folder: Path) -> bool:
    """False when running as root (CAP_DAC_OVERRIDE): chmod 0444 does not stop root writing."""
    probe = folder / "probe"
    probe.write_text("")
    probe.chmod(0o444)
    try:
        with probe.open("a"):
            return False
    except PermissionError:
        return True
    finally:
        probe.chmod(0o644)
        probe.unlink()


async def test_read_only_database_fails_with_store_error(
    new_store: StoreFactory, db_path: Path, tmp_path: Path
) -> None:
    if not permissions_are_enforced(tmp_path):
        pytest.skip("running as root: chmod cannot make a file read-only for root (see the query_only test below)")
    s = new_store()
    await s.open()
    assert await s.commit_turn(inbound("SM1"), session_for(), (Reply("a"),), "", T0)
    await s.close()
    before = query(db_path, "SELECT * FROM inbound")

    db_path.chmod(0o444)
    db_path.parent.chmod(0o555)
    try:
        ro = new_store()
        try:
            # Either opening fails, or the first write does: always as StoreError.
            with pytest.raises(StoreError):
                await ro.open()
                await ro.commit_turn(inbound("SM2"), session_for(), (Reply("b"),), "", T0 + 1)
        finally:
            await ro.close()
    finally:
        db_path.parent.chmod(0o755)
        db_path.chmod(0o644)
    assert query(db_path, "SELECT * FROM inbound") == before


async def test_write_refused_by_sqlite_is_store_error_and_rolled_back(store: SQLiteStore, db_path: Path) -> None:
    # Runs as root too: query_only makes SQLite refuse writes with SQLITE_READONLY,
    # the same error a read-only file gives, after BEGIN IMMEDIATE has succeeded.
    key = key_for()
    assert await store.commit_turn(inbound("SM1", key), session_for(key, "one"), (Reply("a"),), "", T0)
    await store.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="readonly"):
        await store.commit_turn(inbound("SM2", key), session_for(key, "two"), (Reply("b"),), "", T0 + 1)
    assert not store.db.in_transaction
    await store.db.execute("PRAGMA query_only = OFF")

    assert (await store.get_session(key) or session_for()).state == "one"
    assert await store.processed_replies(CHANNEL, "SM2") is None
    # Retrying the same message once writes are possible again works: nothing was claimed.
    assert await store.commit_turn(inbound("SM2", key), session_for(key, "two"), (Reply("b"),), "", T0 + 1)
    assert count(db_path, "outbound") == 2


async def test_load_turn_reads_claim_consent_and_session_in_one_go(tmp_path: Path) -> None:
    from bot.store import ConsentChange
    from bot.types import ConversationKey, InboundMessage, Reply, Session

    store = SQLiteStore(tmp_path / "one-hop.db")
    await store.open()
    try:
        message = InboundMessage("twilio", "SM1", "+15550001111", "+15555550100", "hi")
        fresh = await store.load_turn(message)
        assert (fresh.processed, fresh.opted_out, fresh.session) == (None, False, None)
        key = ConversationKey("twilio", message.customer, message.business)
        session = Session(key, "retail", "v1", "menu", {"a": "b"}, ("x",), 1.0, 2.0)
        await store.commit_turn(message, session, (Reply("hello", ("m.png",)),), "d", 2.0)
        await store.record_consent(message.customer, message.business, ConsentChange("opt_out", "test"), 3.0)
        loaded = await store.load_turn(message)
        assert loaded.processed is not None and loaded.processed.replies == (Reply("hello", ("m.png",)),)
        assert loaded.processed.kind == "flow"
        assert loaded.opted_out is True
        assert loaded.session == session
        other = await store.load_turn(InboundMessage("twilio", "SM2", "+15550002222", "+15555550100", "x"))
        assert (other.processed, other.opted_out, other.session) == (None, False, None)
    finally:
        await store.close()
