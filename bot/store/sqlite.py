"""The SQLite store: one aiosqlite connection, WAL, versioned schema.

Why these settings:
- WAL lets ``/healthz`` and readers run while a turn is being written.
- ``synchronous=NORMAL`` in WAL mode survives a killed process (the WAL is
  already written before COMMIT returns); only an OS crash or power loss can
  drop the last few commits, and never corrupts the file.
- One connection, so every write transaction goes through ``_write_lock``:
  coroutines sharing a connection share its transaction, and one coroutine's
  ROLLBACK would otherwise undo another's insert. (A second connection only
  copies the WAL into the file: bot.store.checkpoint.)
- The turns themselves go through group commit (bot.store.hops), and so do
  all other reads (``hops.fetch``): under the write lock, never inside another
  coroutine's open transaction, whose rows a rollback may still take back.
- Schema changes are numbered migrations applied in order, recorded in
  ``PRAGMA user_version``; a database newer than this code is refused.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import aiosqlite

from bot.store.api_store import ApiStoreMixin
from bot.store.base import ConsentChange, ConsentEvent, LoggedMessage, ProcessedTurn, Store, StoreError, TurnState
from bot.store.checkpoint import SAFETY_PAGES, Checkpointer, connect
from bot.store.concat import ConcatMixin
from bot.store.hops import Hops
from bot.store.outbox import OutboxMixin
from bot.store.schema import MIGRATIONS
from bot.store.turns import processed_from_row, read_turn, session_from_row, write_turn
from bot.store.turns import record_consent as consent_statements
from bot.types import ConversationKey, InboundMessage, Reply, Session

__all__ = ["MIGRATIONS", "SQLiteStore"]

PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "busy_timeout=5000",
    "foreign_keys=ON",
    # A bounded page cache (64 MiB): enough for the hot B-tree pages of
    # millions of conversations, the same ceiling for any database size.
    "cache_size=-65536",
    # Checkpoints run in the background (bot.store.checkpoint); in-line only past this.
    # No journal_size_limit: the WAL file is reused at the size bursts gave it
    # (at most about 80 MB) because cutting it back stalled writes (bot.store.checkpoint).
    f"wal_autocheckpoint={SAFETY_PAGES}",
)


# Owed to an opted-out number: the confirmation of its opt-out (a reply to a
# message the ledger records as an opt-out since the last opt-in: a STOP repeated
# while the first confirmation waits out a retry must not cancel it) and
# compliance replies queued after the opt-out began (HELP). A compliance reply
# queued before it (a START's "subscribed again") is as stale as any other reply.
# By the message, not only the time: a burst can share one timestamp.
_OPT_OUTS_SINCE_OPT_IN = (
    "FROM consent_events e WHERE e.customer = o.customer AND e.business = o.business AND e.event = 'opt_out' "
    "AND e.id > coalesce((SELECT max(i.id) FROM consent_events i WHERE i.customer = o.customer "
    "AND i.business = o.business AND i.event = 'opt_in'), 0)"
)
_OWED_WHILE_OPTED_OUT = (
    f"SELECT o.kind = 'compliance' AND (o.created_at > (SELECT min(e.at) {_OPT_OUTS_SINCE_OPT_IN}) "
    f"OR EXISTS (SELECT 1 {_OPT_OUTS_SINCE_OPT_IN} AND e.channel = o.channel AND e.provider_id = o.in_reply_to)) "
    "FROM outbound o JOIN consent c ON c.customer = o.customer AND c.business = o.business "
    "WHERE o.id = ? AND c.opted_out"
)


class SQLiteStore(OutboxMixin, ConcatMixin, ApiStoreMixin, Store):
    """``Store`` on one SQLite file (``:memory:`` works for throw-away runs)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # The hot path (every turn's read and write) goes through group
        # commit; rarer writes (outbox, API) take ``_write_lock`` themselves.
        self.hops = Hops(lambda: self.db, self._write_lock)
        self._checkpointer: Checkpointer | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    async def open(self) -> None:
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # read-only, a file in the way: as clear as SQLite's own refusals
                raise StoreError(f"cannot open database {self.path}: {exc.strerror or exc}") from exc
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a turn
            # is exactly one transaction.
            self._db = await connect(self.path)
            for pragma in PRAGMAS:
                await self._db.execute(f"PRAGMA {pragma}")
            await self._migrate()
            if self.path != ":memory:":
                self._checkpointer = Checkpointer(self.path)
                await self._checkpointer.start()
        except BaseException as exc:
            # Whatever went wrong (including a refused newer schema), do not keep
            # a half-open connection: its worker thread would outlive the store.
            await self.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open database {self.path}: {exc}") from exc
            raise

    async def _schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"database {self.path} has schema version {version}, newer than this textdesk "
                f"({len(MIGRATIONS)}); upgrade textdesk"
            )
        return version

    async def _migrate(self) -> None:
        while (version := await self._schema_version()) < len(MIGRATIONS):
            number = version + 1
            try:
                # executescript commits first; the whole migration and its version
                # bump are then one transaction.
                await self.db.executescript(
                    f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.Error:
                # executescript stops inside the transaction at the failing statement.
                await self.db.rollback()
                # The version was read before the write lock: another process on
                # this file (the server and a `textdesk` command started together
                # after an upgrade) may have applied this migration meanwhile,
                # and ours then failed on "already exists". Go on from its version.
                if await self._schema_version() < number:
                    raise

    async def close(self) -> None:
        # Turns already submitted finish first (committed or failed, never dropped).
        await self.hops.drain()
        if self._checkpointer is not None:
            await self._checkpointer.stop()
            self._checkpointer = None
        # Under the write lock: a turn in progress finishes (or rolls back) first,
        # instead of failing half-way on a connection closed under it.
        async with self._write_lock:
            if self._db is not None:
                db, self._db = self._db, None
                await db.close()

    async def ping(self) -> None:
        try:
            await self.db.execute_fetchall("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    async def ping_write(self) -> None:
        """Raise ``StoreError`` unless a write transaction can start now."""
        async with self._write_lock:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                await self.db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                await asyncio.shield(self.db.rollback())
                raise StoreError(str(exc)) from exc

    async def load_turn(self, message: InboundMessage) -> TurnState:
        """Claim, consent and session in one statement, batched with other turns' reads."""
        return await self.hops.read(read_turn(message))

    async def get_session(self, key: ConversationKey) -> Session | None:
        rows = await self.hops.fetch(
            "SELECT flow, flow_version, state, variables, pending, created_at, updated_at "
            "FROM conversations WHERE channel = ? AND customer = ? AND business = ?",
            (key.channel, key.customer, key.business),
        )
        for row in rows:
            return session_from_row(key, tuple(row))
        return None

    async def commit_turn(
        self,
        message: InboundMessage,
        session: Session | None,
        replies: tuple[Reply, ...],
        decision: str,
        now: float,
        *,
        kind: str = "flow",
        consent: ConsentChange | None = None,
        forget_session: bool = False,
        queue: bool = False,
    ) -> bool:
        """One transaction per turn, shared with the turns written at the same moment (bot.store.hops)."""
        job = write_turn(
            message,
            session,
            replies,
            decision,
            now,
            kind=kind,
            consent=consent,
            forget_session=forget_session,
            queue=queue,
        )
        return bool(await self.hops.write(job))

    async def record_consent(self, customer: str, business: str, change: ConsentChange, now: float) -> None:
        await self.hops.write(lambda conn: consent_statements(conn, customer, business, change, now, ("", "", "")))

    async def save_flow_version(self, flow: str, version: str, path: str, source: str, now: float) -> None:
        async with self._write_lock:
            try:
                await self.db.execute(
                    "INSERT INTO flow_versions (flow, version, path, source, loaded_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (flow, version) DO NOTHING",
                    (flow, version, path, source, now),
                )
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    async def flow_source(self, flow: str, version: str) -> str | None:
        rows = await self.hops.fetch(
            "SELECT source FROM flow_versions WHERE flow = ? AND version = ?", (flow, version)
        )
        for (source,) in rows:
            return str(source)
        return None

    async def conversation_states(self) -> list[tuple[str, str, str, int]]:
        """(flow, flow version, state, number of conversations) for every live state."""
        rows = await self.hops.fetch(
            "SELECT flow, flow_version, state, count(*) FROM conversations GROUP BY flow, flow_version, state "
            "ORDER BY flow, state, flow_version"
        )
        return [(str(f), str(v), str(s), int(n)) for f, v, s, n in rows]

    async def processed(self, channel: str, provider_id: str) -> ProcessedTurn | None:
        rows = await self.hops.fetch(
            "SELECT replies, kind FROM inbound WHERE channel = ? AND provider_id = ?", (channel, provider_id)
        )
        for replies, kind in rows:
            return processed_from_row(replies, kind)
        return None

    async def is_opted_out(self, customer: str, business: str) -> bool:
        rows = await self.hops.fetch(
            "SELECT opted_out FROM consent WHERE customer = ? AND business = ?", (customer, business)
        )
        return any(bool(opted_out) for (opted_out,) in rows)

    async def owed_while_opted_out(self, item_id: int) -> bool | None:
        rows = await self.hops.fetch(_OWED_WHILE_OPTED_OUT, (item_id,))
        return next((bool(owed) for (owed,) in rows), None)

    async def consent_history(self, customer: str, business: str) -> list[ConsentEvent]:
        rows = await self.hops.fetch(
            "SELECT event, source, channel, provider_id, body, at FROM consent_events "
            "WHERE customer = ? AND business = ? ORDER BY id",
            (customer, business),
        )
        return [ConsentEvent(e, s, c, p, b, float(at)) for e, s, c, p, b, at in rows]

    async def messages(self, key: ConversationKey, limit: int = 100) -> list[LoggedMessage]:
        params = (key.channel, key.customer, key.business)
        # Ordered by time, then by turn (the inbound row's rowid, which its
        # replies carry), then inbound before its replies: several turns at the
        # same timestamp (a virtual or coarse clock) stay question, answer,
        # question, answer. Replies are found through the conversation's inbound
        # rows; business-initiated messages (no turn) through their own index.
        rows = await self.hops.fetch(
            "SELECT direction, provider_id, body, media, at FROM ("
            " SELECT 'in' AS direction, provider_id, body, media, received_at AS at, rowid AS turn, 0 AS seq"
            " FROM inbound WHERE channel = ?1 AND customer = ?2 AND business = ?3"
            " UNION ALL"
            " SELECT 'out', o.provider_id, o.body, o.media, o.created_at, i.rowid, o.id"
            " FROM inbound AS i JOIN outbound AS o ON o.turn = i.rowid"
            " WHERE i.channel = ?1 AND i.customer = ?2 AND i.business = ?3"
            " UNION ALL"
            " SELECT 'out', provider_id, body, media, created_at, 0, id FROM outbound"
            " WHERE turn IS NULL AND channel = ?1 AND customer = ?2 AND business = ?3"
            ") ORDER BY at DESC, turn DESC, seq DESC LIMIT ?4",
            (*params, limit),
        )
        out = [
            LoggedMessage(direction, provider_id, body, tuple(json.loads(media)), float(at))
            for direction, provider_id, body, media, at in rows
        ]
        out.reverse()
        return out

