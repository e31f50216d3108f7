"""``textdesk chat``: text a flow from the terminal, as a customer's phone would.

The loop here only reads lines and prints what ``bot.simulator.Simulator``
returns; everything a customer would see comes from the server's own service
and store. The database is a throw-away file in a temp folder unless ``--db``
names one (``TEXTDESK_DB`` is deliberately not read: it is the server's
database, and a test chat must not land in real conversations).
Which customers get MMS is ``serve``'s setting, ``--mms-prefixes`` or
``TEXTDESK_MMS_PREFIXES``, so a reply looks as the server would send it; the
per-carrier ``TEXTDESK_MMS_PREFIXES_<CARRIER>`` do not apply (the chat is no carrier).

Exit codes: 0 on /quit or end of input, 1 when the flows have errors (printed
as ``file:line:col: error: ...``), 2 for bad arguments, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.commands.paths import PathError, flows_folder
from bot.config import ConfigError, database_path, prefixes_setting
from bot.flows import FlowLoadError, FlowSet, load_flows
from bot.flows.lint import lint_flow_set
from bot.service import MmsPolicy, mms_by_prefix
from bot.simulator import DEFAULT_CUSTOMER, Simulator, Target, TargetError, choose_target, is_e164, shown
from bot.store import SQLiteStore, StoreError

__all__ = ["register", "run"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "chat",
        help="text a flow from the terminal, as a customer would",
        description="Type as the customer and see each reply as the phone would, with its segment count and "
        "encoding, and the state, decision and match score beside it. Runs the server's own service and store "
        "on a throw-away database. Commands: /reset /state /vars /help /quit.",
    )
    parser.add_argument(
        "--flows",
        metavar="DIR",
        default=env.get("TEXTDESK_FLOWS", "flows"),
        help="folder of flow files [TEXTDESK_FLOWS] (default: flows)",
    )
    parser.add_argument("--flow", metavar="NAME", help="the flow to text (default: the default flow)")
    parser.add_argument(
        "--from",
        dest="customer",
        metavar="NUMBER",
        default=DEFAULT_CUSTOMER,
        help=f"your number as the customer (default: {DEFAULT_CUSTOMER})",
    )
    parser.add_argument("--to", metavar="NUMBER", help="the business number to text (default: the flow's first)")
    parser.add_argument(
        "--db", metavar="PATH", help="keep the conversation in this SQLite file (default: a temporary one)"
    )
    parser.add_argument(
        "--mms-prefixes",
        metavar="PREFIXES",
        default=env.get("TEXTDESK_MMS_PREFIXES", "+1"),
        help="comma-separated number prefixes that receive MMS (others get media as links), or 'none', as for "
        "serve [TEXTDESK_MMS_PREFIXES] (default: +1)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Closed descriptors (``<&-``, some service managers) leave Python no
    # sys.stdin or sys.stdout: the loop below would fail on them mid-start.
    if sys.stdin is None:
        return _usage("standard input is closed: the chat reads what you type there")
    if sys.stdout is None:
        return _usage("standard output is closed: the chat prints the replies there")
    try:
        folder = flows_folder(args.flows)
    except PathError as exc:
        return _usage(str(exc))
    if not folder.is_dir():
        return _usage(f"flows folder not found: {folder}")
    for flag, number in (("--from", args.customer), ("--to", args.to)):
        if number is not None and not is_e164(number):
            return _usage(f"{flag} should be a phone number like +15550001234, got '{number}'")
    try:
        # The server's own rule and wording: the chat shows media as the server
        # would send them to this customer (MMS, or links in the text).
        mms = mms_by_prefix({"*": prefixes_setting(str(args.mms_prefixes), "--mms-prefixes/TEXTDESK_MMS_PREFIXES")})
    except ConfigError as exc:
        return _usage(str(exc))
    flows = _load(folder)
    if flows is None:
        return 1
    try:
        target = choose_target(flows, args.flow, args.to)
    except TargetError as exc:
        return _usage(str(exc))
    media = folder / "media"
    if args.db is not None:
        try:
            db = database_path(args.db)
        except ConfigError as exc:
            return _usage(str(exc))
        if not db.parent.is_dir():
            # The store makes missing folders (a server's first start): here a
            # typo'd path would quietly start a new database somewhere else.
            return _usage(f"--db {db}: the folder {db.parent} does not exist; create it first, or check the path")
        return _session(flows, target, args.customer, db, keep=True, media=media, mms=mms)
    with tempfile.TemporaryDirectory(prefix="textdesk-chat-") as tmp:
        return _session(flows, target, args.customer, Path(tmp) / "chat.db", keep=False, media=media, mms=mms)


def _load(folder: Path) -> FlowSet | None:
    """The flows, or ``None`` after printing lint's findings (the server refuses the same)."""
    findings = lint_flow_set(folder)
    for finding in findings:
        print(finding, file=sys.stderr)
    errors = sum(1 for f in findings if f.severity == "error")
    if errors:
        print(
            f"textdesk chat: {errors} error{'s' if errors != 1 else ''} in the flows; fix them first", file=sys.stderr
        )
        return None
    try:
        return load_flows(folder)
    except FlowLoadError as exc:  # pragma: no cover - lint reported these already
        print(exc, file=sys.stderr)
        return None


def _session(
    flows: FlowSet, target: Target, customer: str, db_path: Path, keep: bool, media: Path, mms: MmsPolicy
) -> int:
    # Terminal niceties only for a terminal: piped output stays plain text.
    interactive = sys.stdin.isatty()
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if interactive:
        # Line editing and history for input(); Windows has none and does without.
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
    _tolerate_encodings()
    store = SQLiteStore(db_path)
    # asyncio.Runner keeps one loop (and the store's connection) across turns,
    # while input() stays a plain blocking call that Ctrl-C can interrupt.
    with asyncio.Runner() as runner:
        try:
            runner.run(store.open())
        except (StoreError, OSError) as exc:
            return _usage(str(exc))
        # Media links (for customers without MMS) point at the files themselves.
        sim = Simulator(flows, store, target, customer, media_base=media.resolve().as_uri(), color=color, mms=mms)
        try:
            for line in _banner(target, customer, db_path if keep else None):
                print(line)
            while not sim.done:
                try:
                    line = input("you: " if interactive else "")
                except EOFError:
                    if interactive:
                        print()  # Ctrl-D leaves the cursor after the prompt
                    break
                if not interactive:
                    print(f"you: {shown(line)}")  # the piped transcript reads as a conversation
                try:
                    lines = runner.run(sim.send(line))
                except StoreError as exc:
                    # e.g. a --db file another process holds locked: this text is
                    # not recorded, but the chat can go on.
                    lines = [f"textdesk chat: database error, text not sent: {exc}"]
                for out in lines:
                    print(out)
                sys.stdout.flush()
        except KeyboardInterrupt:
            print()
            return 130
        finally:
            runner.run(store.close())
    return 0


def _tolerate_encodings() -> None:
    """Odd bytes and characters are shown, never the end of the chat.

    A line the terminal (or piped file) cannot decode reaches the simulator,
    which refuses that one line, instead of raising in ``input()``; a reply
    character the terminal cannot show (an emoji on an ASCII terminal) is
    printed as an escape.
    """
    for stream, errors in ((sys.stdin, "surrogateescape"), (sys.stdout, "backslashreplace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=errors)


def _banner(target: Target, customer: str, kept: Path | None) -> list[str]:
    flow = target.flow
    where = f"database {kept}" if kept is not None else "a temporary database, deleted on exit"
    return [
        f"textdesk chat: flow {flow.name} ({flow.path}), {customer} texting {target.business}, {where}",
        "/help lists the commands; /quit or Ctrl-D leaves",
    ]


def _usage(message: str) -> int:
    print(f"textdesk chat: error: {message}", file=sys.stderr)
    return 2
