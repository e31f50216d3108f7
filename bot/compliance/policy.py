"""What the compliance layer does with a message, before any flow logic sees it.

Pure: the caller supplies whether the number is opted out, and records the
ledger event and sends the replies this module decides on. The rules (US; see
shared/reference/carriers.md §11):

- Opt-out (STOP and friends, or a clear revocation in a longer text): record it
  with the time and the text, send exactly one confirmation (brand, "no more
  messages", how to resubscribe; no marketing). A second STOP while opted out
  is recorded but answered with nothing: nothing may be sent any more.
- Opt-in (START, UNSTOP, YES): confirm it; YES only from an opted-out number
  (from any other it goes to the flow: "Reply YES to confirm"). Only when it lifts an opt-out is it
  recorded (and the conversation restarts cleanly at the flow's start): these
  words "remove the block" (carriers.md §11.2); from a number that never
  opted out there is none. A recorded opt-in only lifts the block: it is no
  consent to broadcasts, which need an audience subscription newer than the
  last opt-out (bot.store.api_base).
- HELP/INFO: the flow's help text, even to an opted-out number (carriers and
  CTIA expect HELP to work always).
- Anything else from an opted-out number: recorded, never answered.
- When the carrier already answered (Twilio Advanced Opt-Out sets
  ``OptOutType``), the state change is recorded but no second reply is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.compliance.keywords import ComplianceKeywords, Intent
from bot.types import Reply

__all__ = ["ComplianceDecision", "ComplianceTexts", "decide"]


@dataclass(frozen=True, slots=True)
class ComplianceTexts:
    """The flow's compliance replies (see ``Settings``)."""

    help: str
    opt_out_reply: str
    opt_in_reply: str


@dataclass(frozen=True, slots=True)
class ComplianceDecision:
    intent: Intent | None
    reason: str
    handled: bool  # True: the flow must not see this message
    replies: tuple[Reply, ...] = ()
    ledger: str = ""  # "opt_out" | "opt_in" | "" : the consent event to record
    source: str = ""  # what caused the ledger event: "keyword", "carrier"
    restart: bool = False  # reset the conversation to the flow's start
    opted_out_after: bool = False


def decide(
    keywords: ComplianceKeywords,
    texts: ComplianceTexts,
    text: str,
    carrier_verdict: str,
    opted_out: bool,
) -> ComplianceDecision:
    """Decide what to do with one inbound text."""
    if carrier_verdict:
        said = Intent(carrier_verdict)
        reason = f"carrier OptOutType {carrier_verdict} (the carrier already replied)"
        if said is Intent.OPT_OUT:
            return ComplianceDecision(said, reason, True, ledger="opt_out", source="carrier", opted_out_after=True)
        if said is Intent.OPT_IN:
            ledger = "opt_in" if opted_out else ""
            return ComplianceDecision(said, reason, True, ledger=ledger, source="carrier", restart=opted_out)
        return ComplianceDecision(said, reason, True, opted_out_after=opted_out)
    intent, reason = keywords.explain(text)
    if intent is Intent.OPT_OUT:
        replies = () if opted_out else (Reply(texts.opt_out_reply),)
        return ComplianceDecision(
            intent, reason, True, replies, ledger="opt_out", source="keyword", opted_out_after=True
        )
    if intent is Intent.OPT_IN and not opted_out and keywords.lifts_only(text):
        # "Reply YES to confirm": with no opt-out to lift, YES is the flow's.
        return ComplianceDecision(None, f"{reason}: not opted out, so for the flow", False)
    if intent is Intent.OPT_IN:
        ledger = "opt_in" if opted_out else ""
        return ComplianceDecision(
            intent, reason, True, (Reply(texts.opt_in_reply),), ledger=ledger, source="keyword", restart=opted_out
        )
    if intent is Intent.HELP:
        return ComplianceDecision(intent, reason, True, (Reply(texts.help),), opted_out_after=opted_out)
    if opted_out:
        return ComplianceDecision(None, "opted out: not answered", True, opted_out_after=True)
    return ComplianceDecision(None, reason, False)
