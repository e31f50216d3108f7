"""A turn's read and write as plain functions of the ``sqlite3`` connection.

``bot.store.hops`` runs them on aiosqlite's thread, many per trip. Everything
that can be prepared on the event loop (JSON, row tuples) is prepared before
the job is submitted, so the jobs only execute statements. A write job is
re-run after a rollback when its batch fails, so it must not depend on
anything but its arguments and the database.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable

from bot.store.base import ConsentChange, ProcessedTurn, TurnState
from bot.types import ConversationKey, InboundMessage, Reply, Session

__all__ = [
    "UPSERT_SESSION",
    "processed_from_row",
    "read_turn",
    "record_consent",
    "session_from_row",
    "session_row",
    "write_turn",
]

UPSERT_SESSION = """
INSERT INTO conversations (channel, customer, business, flow, flow_version, state, variables, pending,
                           created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (channel, customer, business) DO UPDATE SET
    flow = excluded.flow, flow_version = excluded.flow_version, state = excluded.state,
    variables = excluded.variables, pending = excluded.pending, updated_at = excluded.updated_at
"""

# Claim, consent and session in one statement: a turn reads them together.
_READ_TURN = (
    "SELECT (SELECT replies FROM inbound WHERE channel = ?1 AND provider_id = ?2),"
    " (SELECT kind FROM inbound WHERE channel = ?1 AND provider_id = ?2),"
    " (SELECT opted_out FROM consent WHERE customer = ?3 AND business = ?4),"
    " c.flow, c.flow_version, c.state, c.variables, c.pending, c.created_at, c.updated_at"
    " FROM (SELECT 1) LEFT JOIN conversations c"
    " ON c.channel = ?1 AND c.customer = ?3 AND c.business = ?4"
)

_INSERT_INBOUND = (
    "INSERT INTO inbound (channel, provider_id, customer, business, body, media, replies, "
    "decision, received_at, kind, media_types) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (channel, provider_id) DO NOTHING"
)

_INSERT_OUTBOUND = (
    "INSERT INTO outbound (channel, in_reply_to, customer, business, body, media, "
    "created_at, status, next_attempt_at, kind, turn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_DELETE_SESSION = "DELETE FROM conversations WHERE channel = ? AND customer = ? AND business = ?"

# These run for every turn on the event loop: json.dumps builds a new encoder
# per call when given options, and most lists and dicts here are empty (their
# JSON is then written without a call; a list built only to be found empty is
# a call too, in 3.11).
_encode_sorted = json.JSONEncoder(sort_keys=True).encode
_encode = json.JSONEncoder().encode


@functools.lru_cache(maxsize=1024)
def _encode_replies(replies: tuple[Reply, ...]) -> str:
    # Most turns answer with a text the flow already sent to someone (the
    # menu, an FAQ answer): its JSON, long texts escaped, is remembered.
    return _encode([r.to_json() for r in replies])


def _json_list(items: list[str] | tuple[str, ...]) -> str:
    return _encode(list(items)) if items else "[]"


def session_row(session: Session) -> tuple[object, ...]:
    key = session.key
    return (
        key.channel,
        key.customer,
        key.business,
        session.flow,
        session.flow_version,
        session.state,
        _encode_sorted(session.variables) if session.variables else "{}",
        _json_list(session.pending),
        session.created_at,
        session.updated_at,
    )


def session_from_row(key: ConversationKey, row: tuple[object, ...]) -> Session:
    flow, version, state, variables, pending, created, updated = row
    return Session(
        key=key,
        flow=str(flow),
        flow_version=str(version),
        state=str(state),
        # Most sessions hold no variables and no pending offer: json.loads,
        # a few Python calls each, only for what is not empty.
        variables={} if variables == "{}" else dict(json.loads(str(variables))),
        pending=() if pending == "[]" else tuple(json.loads(str(pending))),
        created_at=float(created),  # type: ignore[arg-type]
        updated_at=float(updated),  # type: ignore[arg-type]
    )


def processed_from_row(replies: str, kind: object) -> ProcessedTurn:
    """An inbound row's stored replies and kind, as a carrier retry gets them back."""
    return ProcessedTurn(tuple(Reply.from_json(item) for item in json.loads(replies)), str(kind))


def read_turn(message: InboundMessage) -> Callable[[sqlite3.Connection], TurnState]:
    params = (message.channel, message.provider_id, message.customer, message.business)

    def job(conn: sqlite3.Connection) -> TurnState:
        row = conn.execute(_READ_TURN, params).fetchone()
        replies, kind, opted_out = row[0], row[1], row[2]
        processed = None
        if replies is not None:
            processed = processed_from_row(replies, kind)
        session = None
        if row[3] is not None:
            key = ConversationKey(message.channel, message.customer, message.business)
            session = session_from_row(key, row[3:])
        return TurnState(processed, bool(opted_out), session)

    return job


def write_turn(
    message: InboundMessage,
    session: Session | None,
    replies: tuple[Reply, ...],
    decision: str,
    now: float,
    *,
    kind: str,
    consent: ConsentChange | None,
    forget_session: bool,
    queue: bool,
) -> Callable[[sqlite3.Connection], bool]:
    """The whole turn: claim + log, replies, session, consent. ``False``: already claimed."""
    channel, customer, business = message.channel, message.customer, message.business
    inbound = (
        channel,
        message.provider_id,
        customer,
        business,
        message.text,
        _json_list([m.url for m in message.media]) if message.media else "[]",
        _encode_replies(replies) if replies else "[]",
        decision,
        now,
        kind,
        _json_list([m.content_type for m in message.media]) if message.media else "[]",
    )
    # Replies rendered into the webhook response are "replied"; replies for
    # async carriers wait in the outbox as "queued".
    status = "queued" if queue else "replied"
    outbound = [
        (channel, message.provider_id, customer, business, r.text, _json_list(r.media), now, status, now, kind)
        for r in replies
    ]
    session_params = session_row(session) if session is not None and not forget_session else None
    origin = (channel, message.provider_id, message.text)

    def job(conn: sqlite3.Connection) -> bool:
        claimed = conn.execute(_INSERT_INBOUND, inbound)
        if claimed.rowcount == 0:
            return False  # a carrier retry already claimed: nothing else is written
        if outbound:
            turn = claimed.lastrowid  # the inbound row's rowid: how the log finds these replies
            conn.executemany(_INSERT_OUTBOUND, [(*row, turn) for row in outbound])
        if forget_session:
            conn.execute(_DELETE_SESSION, (channel, customer, business))
        elif session_params is not None:
            conn.execute(UPSERT_SESSION, session_params)
        if consent is not None:
            record_consent(conn, customer, business, consent, now, origin)
        return True

    return job


def record_consent(
    conn: sqlite3.Connection,
    customer: str,
    business: str,
    consent: ConsentChange,
    now: float,
    origin: tuple[str, str, str],
) -> None:
    """One ledger event and the current state, inside the caller's transaction."""
    channel, provider_id, text = origin
    conn.execute(
        "INSERT INTO consent_events (customer, business, event, source, channel, provider_id, body, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (customer, business, consent.event, consent.source, channel, provider_id, text, now),
    )
    conn.execute(
        "INSERT INTO consent (customer, business, opted_out, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (customer, business) DO UPDATE SET opted_out = excluded.opted_out, "
        "updated_at = excluded.updated_at",
        (customer, business, int(consent.event == "opt_out"), now),
    )
