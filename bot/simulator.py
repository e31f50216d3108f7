"""A customer's phone in the terminal: the engine behind ``textdesk chat``.

``Simulator.send(line)`` takes what the user typed and returns the lines to
print; it never reads stdin or writes stdout, so tests drive it directly and
``bot.commands.chat`` is only the loop around it. Every text goes through the
very ``ConversationService`` the server runs (compliance layer, engine, reply
preparation) and the very ``SQLiteStore``, so what the chat shows is what a
customer would get, down to segment counts and MMS-to-link fallback.

Screen format, one block per message textdesk sends::

    bot: Happy to show you around! Reply:
         1 TrailLite rain jacket
         media: traillite-jacket.png      (MMS only: one line per file or URL)
         [1 segment, GSM-7]               (SMS; "[MMS, 1 file, GSM-7]" for MMS)
    then one side line per turn, dimmed on a colour terminal:
         (state demo | choice menu/choice 4 | score 100.0)

An MMS body is not cut into segments (carriers send it whole), so MMS notes
give the file count instead; this matches how ``textdesk test`` counts.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from bot.carriers.fields import has_surrogate
from bot.clock import Clock, SystemClock
from bot.engine import Decision
from bot.flows import Flow, FlowSet
from bot.flows.errors import did_you_mean
from bot.service import ConversationService, Handled, MmsPolicy
from bot.sms import analyze
from bot.store import Store
from bot.types import ConversationKey, InboundMessage, Reply

__all__ = [
    "CHANNEL",
    "DEFAULT_CUSTOMER",
    "Simulator",
    "Target",
    "TargetError",
    "choose_target",
    "is_e164",
    "shown",
]

CHANNEL = "chat"
DEFAULT_CUSTOMER = "+15550000000"
# The first business number tried for a default flow that lists none: any number no flow claims reaches it.
_UNLISTED_FROM = "+15550000100"
# [0-9], not \d: \d also matches other scripts' digits (Arabic-Indic, Devanagari...).
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_INDENT = "     "  # lines up continuation lines under the text after "bot: "
_DIM, _RESET = "\x1b[2m", "\x1b[0m"

_HELP = (
    "commands:",
    "  /reset   forget this conversation and start again as a new customer number",
    "  /state   the conversation's current state and flow version",
    "  /vars    the conversation's variables",
    "  /help    this list",
    "  /quit    leave (Ctrl-D does too)",
    "anything else is texted to the flow; start a line with // to text one beginning with /",
)
_COMMANDS = "/reset /state /vars /help /quit"
_NOT_TEXT = "not sent: this line is not text in the terminal's encoding (a phone could not send it)"

# Controls (C0 but TAB, DEL, C1), line separators and bidi overrides the customer typed reach the
# terminal as escapes (``\x1b``), never as sequences that clear, recolour or reorder the screen.
_UNSAFE = (*range(9), *range(10, 32), *range(127, 160), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES = {code: ascii(chr(code))[1:-1] for code in _UNSAFE}


def shown(text: str) -> str:
    return text.translate(_ESCAPES)  # as printed in the chat: controls escaped, all else as is


class TargetError(ValueError):
    """``--flow``/``--to`` name no reachable flow; the message says what exists."""


@dataclass(frozen=True, slots=True)
class Target:
    """The flow a chat talks to and the business number that routes to it."""

    flow: Flow
    business: str


def is_e164(number: str) -> bool:
    return _E164.fullmatch(number) is not None


def choose_target(flows: FlowSet, flow_name: str | None = None, to: str | None = None) -> Target:
    """Pick the flow and business number from ``--flow`` and ``--to``.

    The service routes by business number alone, so a flow is chosen by texting
    a number that reaches it: the flow's first number, or for the default flow
    without numbers one that no flow lists.
    """
    if flow_name is not None and flow_name not in flows.flows:
        names = ", ".join(sorted(flows.flows))
        raise TargetError(f"no flow named '{flow_name}'{did_you_mean(flow_name, flows.flows)}; flows: {names}")
    if to is not None:
        routed = flows.for_number(to)
        if flow_name is not None and routed.name != flow_name:
            raise TargetError(f"--to {to} is answered by flow '{routed.name}', not '{flow_name}'")
        return Target(routed, to)
    flow = flows.flows[flow_name] if flow_name is not None else flows.default
    if flow.numbers:
        return Target(flow, flow.numbers[0])
    if flow is not flows.default:
        raise TargetError(f"flow '{flow.name}' lists no numbers and is not the default flow, so no text reaches it")
    return Target(flow, _next_number(_UNLISTED_FROM, set(flows.by_number)))


def _next_number(number: str, taken: set[str]) -> str:
    while number in taken:
        number = "+" + str(int(number[1:]) + 1)
    return number


class Simulator:
    """One simulated customer texting one business number.

    The store must be open; the caller owns it (and closes it).

    Args:
        flows: the loaded flows (the service routes among all of them, as the server does).
        store: an open store.
        target: the flow and business number to text.
        customer: the customer's number.
        media_base: where media links point when a reply falls back from MMS to SMS.
        color: dim the side lines with ANSI codes (only for a colour terminal).
        clock: the service's clock; the wall clock by default, so idle timeouts are real.
        mms: which customers get MMS; the server's default (``+1`` numbers) when ``None``.
    """

    def __init__(
        self,
        flows: FlowSet,
        store: Store,
        target: Target,
        customer: str = DEFAULT_CUSTOMER,
        *,
        media_base: str = "",
        color: bool = False,
        clock: Clock | None = None,
        mms: MmsPolicy | None = None,
    ) -> None:
        self.store = store
        self.flow = target.flow
        self.business = target.business
        self.customer = customer
        self.media_base = media_base
        self.color = color
        self.service = ConversationService(flows, store, clock or SystemClock(), mms)
        self.done = False

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(CHANNEL, self.customer, self.business)

    async def send(self, line: str) -> list[str]:
        """Handle one typed line: a ``/command``, or a text from the customer."""
        if has_surrogate(line):
            # Bytes the terminal could not decode arrive as lone surrogates:
            # no phone sends those, and the store cannot record them.
            return [_NOT_TEXT]
        if line.startswith("//"):
            return await self._text(line[1:])
        if line.startswith("/"):
            return await self._command(line)
        if not line.strip():
            return []  # an empty Enter is not worth a message (nor a log row)
        return await self._text(line)

    # -- texts -------------------------------------------------------------

    async def _text(self, text: str) -> list[str]:
        # A fresh provider id per line: the service treats a repeated id as a
        # carrier retry and would answer from the log without advancing.
        message = InboundMessage(CHANNEL, f"chat-{uuid.uuid4().hex}", self.customer, self.business, text)
        handled = await self.service.handle(message, self.media_base)
        lines: list[str] = []
        for reply in handled.replies:
            lines.extend(self._message(reply))
        if not handled.replies:
            lines.append(f"{_INDENT}[no reply]")
        lines.append(self._dim(_INDENT + await self._side(handled)))
        return lines

    def _message(self, reply: Reply) -> list[str]:
        text_lines = [shown(line) for line in reply.text.split("\n")] if reply.text else ["(no text)"]
        lines = [f"bot: {text_lines[0]}"] + [_INDENT + line for line in text_lines[1:]]
        lines.extend(f"{_INDENT}media: {item}" for item in reply.media)
        lines.append(_INDENT + _note(reply))
        return lines

    async def _side(self, handled: Handled) -> str:
        session = await self.store.get_session(self.key)
        state = session.state if session is not None else "-"
        decision = handled.decision
        if decision is not None:
            return f"(state {state} | {_kind(decision)} | score {_score(decision)})"
        kind = handled.kind
        if kind == "suppressed":
            kind = "suppressed: this number opted out, START opts back in"
        return f"(state {state} | {kind} | score -)"

    def _dim(self, line: str) -> str:
        return f"{_DIM}{line}{_RESET}" if self.color else line

    # -- commands ----------------------------------------------------------

    async def _command(self, line: str) -> list[str]:
        name = line.split()[0].lower() if line.split() else line
        if name == "/quit":
            self.done = True
            return []
        if name == "/help":
            return list(_HELP)
        if name == "/state":
            return await self._state()
        if name == "/vars":
            return await self._vars()
        if name == "/reset":
            return await self._reset()
        return [f"unknown command {shown(name)}; try {_COMMANDS} (// sends a text starting with /)"]

    async def _state(self) -> list[str]:
        session = await self.store.get_session(self.key)
        flow = self.flow
        if session is None:
            lines = [
                f"no conversation yet: the next text starts at {flow.start} (flow {flow.name}, version {flow.version})"
            ]
        else:
            lines = [f"state {session.state} (flow {session.flow}, version {session.flow_version})"]
            if session.flow == flow.name and session.flow_version != flow.version:
                lines.append(f"the flow file has changed since: now version {flow.version}")
            if session.pending:
                lines.append("waiting for a 'Did you mean' answer: " + ", ".join(session.pending))
        if await self.store.is_opted_out(self.customer, self.business):
            lines.append(f"{self.customer} has opted out: only START and HELP get a reply")
        return lines

    async def _vars(self) -> list[str]:
        session = await self.store.get_session(self.key)
        if session is None or not session.variables:
            return ["(no variables)"]
        return [f"{name} = {shown(value)}" for name, value in sorted(session.variables.items())]

    async def _reset(self) -> list[str]:
        # The store keeps conversations, logs and consent by design (the ledger
        # must survive), so "forget" means: carry on as a customer it has never
        # seen. The old conversation stays in the database.
        number = self.customer
        while True:
            number = _next_number("+" + str(int(number[1:]) + 1), {self.business})
            if await self._unused(number):
                break
        self.customer = number
        return [f"new conversation: you are now {number} (the next text starts at {self.flow.start})"]

    async def _unused(self, customer: str) -> bool:
        key = ConversationKey(CHANNEL, customer, self.business)
        if await self.store.get_session(key) is not None or await self.store.messages(key, 1):
            return False
        return not await self.store.is_opted_out(customer, self.business)


def _note(reply: Reply) -> str:
    info = analyze(reply.text)
    encoding: str = info.encoding
    if info.ucs2_chars:
        # Name the characters that forced UCS-2: they are what an editor changes.
        encoding += " because of " + " ".join(shown(char) for char in info.ucs2_chars)
    if reply.media:
        files = len(reply.media)
        return f"[MMS, {files} file{'s' if files != 1 else ''}, {encoding}]"
    return f"[{info.segments} segment{'s' if info.segments != 1 else ''}, {encoding}]"


def _kind(decision: Decision) -> str:
    parts = [decision.kind]
    if decision.route_id and decision.kind != "start":
        parts.append(decision.route_id)
    if decision.faq_id:
        parts.append(decision.faq_id)
    if decision.fresh:
        parts.append(f"({decision.fresh} conversation)")
    return " ".join(parts)


def _score(decision: Decision) -> str:
    return "-" if decision.score is None else f"{decision.score:.1f}"
