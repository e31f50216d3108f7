"""The SQLite schema: numbered migrations, applied in order (``PRAGMA user_version``)."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

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
    # 7: conversations_by_state goes: every turn that changed state moved its
    # entry (two random index pages written per turn, the largest cost of a
    # turn with a million stored conversations, bench/store.py), to speed up
    # only `textdesk lint --against`, which can afford one scan.
    """
    DROP INDEX conversations_by_state;
    """,
    # 8: a reply finds its turn by the inbound row's rowid (``turn``), and the
    # log of a conversation finds replies through its inbound rows. The index
    # on (channel, customer, business, id) put every reply into a random page
    # of a B-tree as large as the history (one of the four random pages a turn
    # wrote with a million conversations, bench/store.py); ``outbound_by_turn``
    # only ever grows at its end. Business-initiated messages (no turn) keep a
    # conversation index of their own.
    """
    ALTER TABLE outbound ADD COLUMN turn INTEGER;
    UPDATE outbound SET turn = (
        SELECT i.rowid FROM inbound AS i WHERE i.channel = outbound.channel AND i.provider_id = outbound.in_reply_to
    ) WHERE in_reply_to != '';
    CREATE INDEX outbound_by_turn ON outbound (turn) WHERE turn IS NOT NULL;
    CREATE INDEX outbound_initiated ON outbound (channel, customer, business, id) WHERE turn IS NULL;
    DROP INDEX outbound_by_conversation;
    """,
    # 9: queued messages by conversation, so the outbox can hold back the
    # parts after one that waits out a retry (bot.store.outbox.DUE_OUTBOX).
    # Partial: bounded by the queue, not the history.
    """
    CREATE INDEX outbox_by_conversation ON outbound (channel, customer, business, id) WHERE status = 'queued';
    """,
    # 10: parts of concatenated SMS by age, so parts of a message that never
    # completed (or that a carrier retried after the join) are swept without a
    # scan (bot.store.concat.PARTS_KEPT).
    """
    CREATE INDEX concat_parts_by_age ON concat_parts (received_at);
    """,
    # 11: a broadcast's recipients are written in chunks, each its own transaction
    # (bot.store.outreach): ``preparing`` until the last is in, and the digest of
    # the numbers requested, which a retry with the same Idempotency-Key must match
    # to finish one that a crash left preparing.
    """
    ALTER TABLE broadcasts ADD COLUMN preparing INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE broadcasts ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
    """,
    # 12: early receipts by age, so those no send ever claimed (another app on
    # the same carrier account, a send whose id was never written) are swept
    # after a day without a scan (bot.store.outbox.EARLY_RECEIPT_TTL).
    """
    CREATE INDEX early_receipts_by_age ON early_receipts (at);
    """,
    # 13: a reply the carrier sent as several messages, each with its own id and
    # its own receipts (the Vonage SMS API: one per SMS part; bot.store.outbox
    # combines them into the row's delivery status). ``chunk`` is the request
    # of the row's send that gave the id: a carrier whose API takes less text
    # than a reply holds gets it in several requests, and a retry resumes after
    # the last accepted one. Rows of single-message sends have no parts.
    """
    CREATE TABLE outbound_parts (
        outbound_id INTEGER NOT NULL,
        part INTEGER NOT NULL,
        chunk INTEGER NOT NULL,
        channel TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        delivery_status TEXT NOT NULL DEFAULT '',
        delivery_error TEXT NOT NULL DEFAULT '',
        delivery_at REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (outbound_id, part)
    ) WITHOUT ROWID;
    CREATE INDEX outbound_parts_by_provider_id ON outbound_parts (channel, provider_id);
    """,
    # 14: broadcasts still preparing, by age, so those a failure left half-written
    # are found without a scan (bot.store.outreach.sweep_abandoned_broadcasts).
    """
    CREATE INDEX broadcasts_preparing ON broadcasts (created_at) WHERE preparing;
    """,
)
