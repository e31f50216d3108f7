"""The SQLite store: one aiosqlite connection, WAL, versioned schema.

Why these settings:
- WAL lets ``/healthz`` and readers run while a turn is being written.
- ``synchronous=NORMAL`` in WAL mode survives a killed process (the WAL is
  already written before COMMIT returns); only an OS crash or power loss can
  drop the last few commits, and never corrupts the file.
- One connection, so every write transaction goes through ``_write_lock``:
  coroutines sharing a connection share its transaction, and one coroutine's
  ROLLBACK would otherwise undo another's insert.
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
from bot.store.concat import ConcatMixin
from bot.store.outbox import OutboxMixin
from bot.types import ConversationKey, InboundMessage, Reply, Session

__all__ = ["MIGRATIONS", "SQLiteStore"]

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations, the inbound log (which is also the idempotency claim), the outbound log.
    """
    CREATE TABLE conversations (
        channel TEXT NOT NULL,
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        flow TEXT NOT NULL,
        flow_version TEXT NOT NULL,
        state TEXT NOT NULL,
        variables TEXT NOT NULL DEFAULT '{}',
        pending TEXT NOT NULL DEFAULT '[]',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (channel, customer, business)
    ) WITHOUT ROWID;
    CREATE TABLE inbound (
        channel TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        body TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]',
        replies TEXT NOT NULL DEFAULT '[]',
        decision TEXT NOT NULL DEFAULT '',
        received_at REAL NOT NULL,
        PRIMARY KEY (channel, provider_id)
    );
    CREATE INDEX inbound_by_conversation ON inbound (channel, customer, business, received_at);
    CREATE TABLE outbound (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        provider_id TEXT NOT NULL DEFAULT '',
        in_reply_to TEXT NOT NULL DEFAULT '',
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        body TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'replied',
        created_at REAL NOT NULL
    );
    CREATE INDEX outbound_by_conversation ON outbound (channel, customer, business, id);
    """,
    # 2: the consent ledger (per customer and business number, whatever the
    # carrier: a number moved to another carrier keeps its opt-outs), the kind
    # of each inbound turn, and inbound media content types.
    """
    CREATE TABLE consent (
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        opted_out INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (customer, business)
    ) WITHOUT ROWID;
    CREATE TABLE consent_events (
        id INTEGER PRIMARY KEY,
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        event TEXT NOT NULL,
        source TEXT NOT NULL,
        channel TEXT NOT NULL DEFAULT '',
        provider_id TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX consent_events_by_number ON consent_events (customer, business, id);
    ALTER TABLE inbound ADD COLUMN kind TEXT NOT NULL DEFAULT 'flow';
    ALTER TABLE inbound ADD COLUMN media_types TEXT NOT NULL DEFAULT '[]';
    """,
    # 3: the outbox (replies sent through a carrier's REST API, retried until
    # sent or given up), delivery receipts, and parts of concatenated SMS that
    # a carrier did not reassemble.
    """
    ALTER TABLE outbound ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbound ADD COLUMN next_attempt_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE outbound ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbound ADD COLUMN sent_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE outbound ADD COLUMN delivery_status TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbound ADD COLUMN delivery_error TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbound ADD COLUMN delivery_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE outbound ADD COLUMN kind TEXT NOT NULL DEFAULT 'flow';
    CREATE INDEX outbox_due ON outbound (next_attempt_at, id) WHERE status = 'queued';
    CREATE INDEX outbound_by_provider_id ON outbound (channel, provider_id) WHERE provider_id != '';
    CREATE TABLE concat_parts (
        channel TEXT NOT NULL,
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        reference TEXT NOT NULL,
        total INTEGER NOT NULL,
        part INTEGER NOT NULL,
        provider_id TEXT NOT NULL,
        body TEXT NOT NULL,
        received_at REAL NOT NULL,
        PRIMARY KEY (channel, customer, business, reference, part)
    );
    """,
    # 4: every flow version ever served, so a deploy can be checked against
    # the conversations that live in it (`textdesk lint --against DB`).
    """
    CREATE TABLE flow_versions (
        flow TEXT NOT NULL,
        version TEXT NOT NULL,
        path TEXT NOT NULL,
        source TEXT NOT NULL,
        loaded_at REAL NOT NULL,
        PRIMARY KEY (flow, version)
    ) WITHOUT ROWID;
    CREATE INDEX conversations_by_state ON conversations (flow, state, flow_version);
    """,
    # 5: business-initiated messages (bot.store.api_store): audience subscriptions
    # (each change is also a consent_events row), broadcasts with one row per
    # recipient (the key that makes a resumed broadcast send once), hashed
    # verification codes, and the origin of each outbound row.
    """
    CREATE TABLE subscriptions (
        audience TEXT NOT NULL,
        business TEXT NOT NULL,
        customer TEXT NOT NULL,
        active INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        source TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (audience, business, customer)
    ) WITHOUT ROWID;
    CREATE INDEX subscriptions_by_number ON subscriptions (customer, business);
    CREATE TABLE broadcasts (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        business TEXT NOT NULL,
        flow TEXT NOT NULL,
        audience TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        media TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT '',
        variables TEXT NOT NULL DEFAULT '{}',
        media_base TEXT NOT NULL DEFAULT '',
        idempotency_key TEXT UNIQUE,
        created_at REAL NOT NULL
    );
    CREATE TABLE broadcast_recipients (
        broadcast_id TEXT NOT NULL,
        customer TEXT NOT NULL,
        position INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        PRIMARY KEY (broadcast_id, customer)
    ) WITHOUT ROWID;
    CREATE INDEX broadcast_recipients_pending ON broadcast_recipients (broadcast_id, status, position);
    CREATE TABLE verifications (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        customer TEXT NOT NULL,
        business TEXT NOT NULL,
        code_hash BLOB NOT NULL,
        salt BLOB NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        max_attempts INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending'
    );
    CREATE INDEX verifications_by_number ON verifications (customer, business, created_at);
    ALTER TABLE outbound ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    CREATE INDEX outbound_by_origin ON outbound (origin, customer) WHERE origin != '';
    """,
    # 6: delivery receipts that arrive before the send's carrier id was saved
    # (Telnyx can report within milliseconds); applied when the send is marked.
    """
    CREATE TABLE early_receipts (
        channel TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL,
        PRIMARY KEY (channel, provider_id, status)
    ) WITHOUT ROWID;
    """,
)

_UPSERT_SESSION = """
INSERT INTO conversations (channel, customer, business, flow, flow_version, state, variables, pending,
                           created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (channel, customer, business) DO UPDATE SET
    flow = excluded.flow, flow_version = excluded.flow_version, state = excluded.state,
    variables = excluded.variables, pending = excluded.pending, updated_at = excluded.updated_at
"""


class SQLiteStore(OutboxMixin, ConcatMixin, ApiStoreMixin, Store):
    """``Store`` on one SQLite file (``:memory:`` works for throw-away runs)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a turn
            # is exactly one transaction.
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
                await self._db.execute(f"PRAGMA {pragma}")
            await self._migrate()
        except BaseException as exc:
            # Whatever went wrong (including a refused newer schema), do not keep
            # a half-open connection: its worker thread would outlive the store.
            await self.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open database {self.path}: {exc}") from exc
            raise

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"database {self.path} has schema version {version}, newer than this textdesk "
                f"({len(MIGRATIONS)}); upgrade textdesk"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first; the whole migration and its version
            # bump are then one transaction.
            await self.db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")

    async def close(self) -> None:
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
        """One hop for everything a turn reads first: claim, consent and session.

        Each aiosqlite call is a round trip to its thread; the three reads of
        every turn share one statement (measured in bench/webhook.py).
        """
        try:
            rows = await self.db.execute_fetchall(
                "SELECT (SELECT replies FROM inbound WHERE channel = ?1 AND provider_id = ?2),"
                " (SELECT kind FROM inbound WHERE channel = ?1 AND provider_id = ?2),"
                " (SELECT opted_out FROM consent WHERE customer = ?3 AND business = ?4),"
                " c.flow, c.flow_version, c.state, c.variables, c.pending, c.created_at, c.updated_at"
                " FROM (SELECT 1) LEFT JOIN conversations c"
                " ON c.channel = ?1 AND c.customer = ?3 AND c.business = ?4",
                (message.channel, message.provider_id, message.customer, message.business),
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        replies, kind, opted_out, flow, version, state, variables, pending, created, updated = next(iter(rows))
        processed = None
        if replies is not None:
            processed = ProcessedTurn(tuple(Reply.from_json(item) for item in json.loads(replies)), str(kind))
        session = None
        if flow is not None:
            key = ConversationKey(message.channel, message.customer, message.business)
            session = Session(
                key=key,
                flow=flow,
                flow_version=version,
                state=state,
                variables=dict(json.loads(variables)),
                pending=tuple(json.loads(pending)),
                created_at=float(created),
                updated_at=float(updated),
            )
        return TurnState(processed, bool(opted_out), session)

    async def get_session(self, key: ConversationKey) -> Session | None:
        try:
            rows = await self.db.execute_fetchall(
                "SELECT flow, flow_version, state, variables, pending, created_at, updated_at "
                "FROM conversations WHERE channel = ? AND customer = ? AND business = ?",
                (key.channel, key.customer, key.business),
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        for flow, version, state, variables, pending, created, updated in rows:
            return Session(
                key=key,
                flow=flow,
                flow_version=version,
                state=state,
                variables=dict(json.loads(variables)),
                pending=tuple(json.loads(pending)),
                created_at=float(created),
                updated_at=float(updated),
            )
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
        media = json.dumps([m.url for m in message.media])
        media_types = json.dumps([m.content_type for m in message.media])
        reply_json = json.dumps([r.to_json() for r in replies])
        async with self._write_lock:
            db = self.db
            try:
                try:
                    await db.execute("BEGIN IMMEDIATE")
                    cursor = await db.execute(
                        "INSERT INTO inbound (channel, provider_id, customer, business, body, media, replies, "
                        "decision, received_at, kind, media_types) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (channel, provider_id) DO NOTHING",
                        (
                            message.channel,
                            message.provider_id,
                            message.customer,
                            message.business,
                            message.text,
                            media,
                            reply_json,
                            decision,
                            now,
                            kind,
                            media_types,
                        ),
                    )
                    if cursor.rowcount == 0:
                        await db.execute("ROLLBACK")
                        return False
                    if replies:
                        # Replies rendered into the webhook response are "replied";
                        # replies for async carriers wait in the outbox as "queued".
                        await db.executemany(
                            "INSERT INTO outbound (channel, in_reply_to, customer, business, body, media, "
                            "created_at, status, next_attempt_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [
                                (
                                    message.channel,
                                    message.provider_id,
                                    message.customer,
                                    message.business,
                                    reply.text,
                                    json.dumps(list(reply.media)),
                                    now,
                                    "queued" if queue else "replied",
                                    now,
                                    kind,
                                )
                                for reply in replies
                            ],
                        )
                    if forget_session:
                        await db.execute(
                            "DELETE FROM conversations WHERE channel = ? AND customer = ? AND business = ?",
                            (message.channel, message.customer, message.business),
                        )
                    elif session is not None:
                        await db.execute(_UPSERT_SESSION, _session_row(session))
                    if consent is not None:
                        origin = (message.channel, message.provider_id, message.text)
                        await self._record_consent(message.customer, message.business, consent, now, origin)
                    await db.execute("COMMIT")
                except BaseException:
                    # Also on cancellation: never leave the shared connection
                    # inside an open transaction for the next turn to inherit.
                    # A cancelled await does not stop the statement: it still runs
                    # on aiosqlite's thread (a BEGIN may succeed only after we gave
                    # up on it), so ``in_transaction`` cannot be trusted from here.
                    # ``rollback()`` is queued behind it and is a no-op when no
                    # transaction is open by the time it runs.
                    await asyncio.shield(db.rollback())
                    raise
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc
        return True

    async def _record_consent(
        self, customer: str, business: str, consent: ConsentChange, now: float, origin: tuple[str, str, str]
    ) -> None:
        channel, provider_id, text = origin
        await self.db.execute(
            "INSERT INTO consent_events (customer, business, event, source, channel, provider_id, body, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (customer, business, consent.event, consent.source, channel, provider_id, text, now),
        )
        await self.db.execute(
            "INSERT INTO consent (customer, business, opted_out, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (customer, business) DO UPDATE SET opted_out = excluded.opted_out, "
            "updated_at = excluded.updated_at",
            (customer, business, int(consent.event == "opt_out"), now),
        )

    async def record_consent(self, customer: str, business: str, change: ConsentChange, now: float) -> None:
        async with self._write_lock:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    await self._record_consent(customer, business, change, now, ("", "", ""))
                    await self.db.execute("COMMIT")
                except BaseException:
                    await asyncio.shield(self.db.rollback())
                    raise
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

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
        try:
            rows = await self.db.execute_fetchall(
                "SELECT source FROM flow_versions WHERE flow = ? AND version = ?", (flow, version)
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        for (source,) in rows:
            return str(source)
        return None

    async def conversation_states(self) -> list[tuple[str, str, str, int]]:
        """(flow, flow version, state, number of conversations) for every live state."""
        try:
            rows = await self.db.execute_fetchall(
                "SELECT flow, flow_version, state, count(*) FROM conversations GROUP BY flow, flow_version, state "
                "ORDER BY flow, state, flow_version"
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return [(str(f), str(v), str(s), int(n)) for f, v, s, n in rows]

    async def processed(self, channel: str, provider_id: str) -> ProcessedTurn | None:
        try:
            rows = await self.db.execute_fetchall(
                "SELECT replies, kind FROM inbound WHERE channel = ? AND provider_id = ?", (channel, provider_id)
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        for replies, kind in rows:
            return ProcessedTurn(tuple(Reply.from_json(item) for item in json.loads(replies)), str(kind))
        return None

    async def is_opted_out(self, customer: str, business: str) -> bool:
        try:
            rows = await self.db.execute_fetchall(
                "SELECT opted_out FROM consent WHERE customer = ? AND business = ?", (customer, business)
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return any(bool(opted_out) for (opted_out,) in rows)

    async def consent_history(self, customer: str, business: str) -> list[ConsentEvent]:
        try:
            rows = await self.db.execute_fetchall(
                "SELECT event, source, channel, provider_id, body, at FROM consent_events "
                "WHERE customer = ? AND business = ? ORDER BY id",
                (customer, business),
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        return [ConsentEvent(e, s, c, p, b, float(at)) for e, s, c, p, b, at in rows]

    async def messages(self, key: ConversationKey, limit: int = 100) -> list[LoggedMessage]:
        params = (key.channel, key.customer, key.business)
        # Ordered by time, then by turn (the inbound row's rowid, which a reply
        # finds through in_reply_to), then inbound before its replies: several
        # turns at the same timestamp (a virtual or coarse clock) stay
        # question, answer, question, answer.
        try:
            rows = await self.db.execute_fetchall(
                "SELECT direction, provider_id, body, media, at FROM ("
                " SELECT 'in' AS direction, provider_id, body, media, received_at AS at, rowid AS turn, 0 AS seq"
                " FROM inbound WHERE channel = ? AND customer = ? AND business = ?"
                " UNION ALL"
                " SELECT 'out', o.provider_id, o.body, o.media, o.created_at, coalesce(i.rowid, 0), o.id"
                " FROM outbound AS o LEFT JOIN inbound AS i ON i.channel = o.channel AND i.provider_id = o.in_reply_to"
                " WHERE o.channel = ? AND o.customer = ? AND o.business = ?"
                ") ORDER BY at DESC, turn DESC, seq DESC LIMIT ?",
                (*params, *params, limit),
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        out = [
            LoggedMessage(direction, provider_id, body, tuple(json.loads(media)), float(at))
            for direction, provider_id, body, media, at in rows
        ]
        out.reverse()
        return out


def _session_row(session: Session) -> tuple[object, ...]:
    key = session.key
    return (
        key.channel,
        key.customer,
        key.business,
        session.flow,
        session.flow_version,
        session.state,
        json.dumps(session.variables, sort_keys=True),
        json.dumps(list(session.pending)),
        session.created_at,
        session.updated_at,
    )
