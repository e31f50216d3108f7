"""The fixed stack's floor: the least a textdesk must do per Twilio webhook.

``bench.webhook --server floor`` runs this in textdesk's place, to answer one
question with a measurement: how close to the bare app can *any* server get
on the design card's stack (aiohttp, aiosqlite, transitions, rapidfuzz) while
keeping the promises the issue's benchmark asks for: signature checks on, the
example flow's menus and FAQs, and every turn stored in SQLite on disk before
it is answered (exactly-once: a retried MessageSid gets the stored reply).

What it does per request, and nothing else:

- parses the form (as the bare app does) and checks ``X-Twilio-Signature``
  (HMAC-SHA1 over the URL and the sorted fields, constant-time compare);
- one read trip (is this MessageSid stored? the conversation's state), one
  write trip (the inbound row with its reply, the session UPSERT), both
  batched into group commits by textdesk's own ``Hops`` (the cheapest way
  found to use aiosqlite: a write is acknowledged after its COMMIT);
- a per-conversation lock (replies in order when a customer double-texts);
- one ``transitions`` trigger on a machine shared by all conversations for a
  menu choice, or ``rapidfuzz.process.extractOne`` (token_set_ratio, the
  same scorer) over the example flow's FAQ phrasings for anything else;
- a TwiML answer with the reply escaped.

What it leaves out (textdesk does all of these per message): opt-out and HELP
keyword compliance, the flood gate, normalising and typo correction,
did-you-mean, templates, question captures and patterns, SMS segment
budgeting and smart encoding, the conversation log's reply rows, the outbox,
the log line and metrics, reloading flows, other carriers. So textdesk can
only be slower than this; if this is under a target, the stack is.

``python3 -m bench.floor_app --port P --db FILE --public-url URL`` with
``TWILIO_AUTH_TOKEN`` set.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiosqlite
import yaml
from aiohttp import web
from rapidfuzz import fuzz, process, utils
from transitions import Machine

from bot.store.hops import Hops

TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response><Message><Body>'
TWIML_TAIL = "</Body></Message></Response>"
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS inbound (provider_id TEXT PRIMARY KEY, conversation TEXT NOT NULL,
    body TEXT NOT NULL, replies TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS inbound_by_conversation ON inbound (conversation);
CREATE TABLE IF NOT EXISTS sessions (conversation TEXT PRIMARY KEY, state TEXT NOT NULL, updated INTEGER);
"""


class Flow:
    """The example flow's states, digit choices and FAQs, and one shared machine."""

    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text())
        self.start: str = data["start"]
        self.say = {name: state.get("say", "") for name, state in data["states"].items()}
        self.choices: dict[tuple[str, str], str] = {}
        transitions = []
        for name, state in data["states"].items():
            for choice in state.get("choices", []):
                for keyword in choice.get("keywords", ()):
                    trigger = f"{name}/{keyword.lower()}"
                    self.choices[(name, keyword.lower())] = trigger
                    transitions.append({"trigger": trigger, "source": name, "dest": choice.get("go", name)})
        self.phrasings: list[str] = []
        self.answers: list[str] = []
        for faq in data["faqs"]:
            for phrasing in [faq["question"], *faq.get("also", [])]:
                self.phrasings.append(utils.default_process(phrasing))
                self.answers.append(faq["answer"])
        self.machine = Machine(model=None, states=list(self.say), transitions=transitions, initial=self.start,
                               auto_transitions=False, send_event=True, ignore_invalid_triggers=False)

    def turn(self, state: str, text: str) -> tuple[str, str]:
        """(new state, reply) for ``text`` in ``state``."""
        trigger = self.choices.get((state, text.strip().lower()))
        if trigger is not None:
            model = _Model(state)
            self.machine.events[trigger].trigger(model)
            return model.state, self.say[model.state]
        best = process.extractOne(utils.default_process(text), self.phrasings, scorer=fuzz.token_set_ratio,
                                  processor=None, score_cutoff=80)
        if best is None:
            return state, "Sorry, I didn't get that. Reply MENU for options."
        return state, self.answers[best[2]]


class _Model:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def expected_signature(token: bytes, url: str, form: Any) -> str:
    payload = url + "".join(key + form[key] for key in sorted(form))
    return base64.b64encode(hmac.new(token, payload.encode(), hashlib.sha1).digest()).decode()


def build_app(db_path: Path, public_url: str, token: str) -> web.Application:
    flow = Flow(ROOT / "flows" / "retail.yaml")
    app = web.Application(client_max_size=64 * 1024)
    url = public_url.rstrip("/") + "/webhooks/twilio"
    key = token.encode()
    locks: dict[str, asyncio.Lock] = {}
    state: dict[str, Any] = {}

    async def database(app: web.Application) -> AsyncIterator[None]:
        db = await aiosqlite.connect(db_path, isolation_level=None)
        await db.executescript(SCHEMA)
        state["db"] = db
        state["hops"] = Hops(lambda: db, asyncio.Lock())
        yield
        await db.close()

    app.cleanup_ctx.append(database)

    async def twilio(request: web.Request) -> web.Response:
        form = await request.post()
        given = request.headers.get("X-Twilio-Signature", "")
        if not hmac.compare_digest(given.encode(), expected_signature(key, url, form).encode()):
            return web.json_response({"error": "bad signature"}, status=403)
        sid, sender, text = form.get("MessageSid"), form.get("From"), form.get("Body", "")
        if not isinstance(sid, str) or not isinstance(sender, str) or not isinstance(text, str):
            return web.json_response({"error": "missing field"}, status=400)
        hops: Hops = state["hops"]
        lock = locks.setdefault(sender, asyncio.Lock())
        async with lock:
            def read(conn: sqlite3.Connection) -> tuple[Any, Any]:
                done = conn.execute("SELECT replies FROM inbound WHERE provider_id = ?", (sid,)).fetchone()
                row = conn.execute("SELECT state FROM sessions WHERE conversation = ?", (sender,)).fetchone()
                return done, row

            done, row = await hops.read(read)
            if done is not None:
                reply = json.loads(done[0])
            else:
                new_state, reply = flow.turn(row[0] if row else flow.start, text)

                def write(conn: sqlite3.Connection) -> None:
                    conn.execute("INSERT INTO inbound VALUES (?, ?, ?, ?)", (sid, sender, text, json.dumps(reply)))
                    conn.execute("INSERT INTO sessions VALUES (?, ?, 0) ON CONFLICT (conversation) DO UPDATE"
                                 " SET state = excluded.state", (sender, new_state))

                await hops.write(write)
        if not lock.locked() and locks.get(sender) is lock:
            del locks[sender]
        body = f"{TWIML_HEAD}{escape(reply)}{TWIML_TAIL}"
        return web.Response(text=body, content_type="text/xml", charset="utf-8")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_post("/webhooks/twilio", twilio)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--public-url", required=True)
    args, _ = parser.parse_known_args()
    app = build_app(args.db, args.public_url, os.environ["TWILIO_AUTH_TOKEN"])
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
