"""The compliance replies of a flow, with defaults built from its brand.

Defaults follow CTIA and the FCC's confirmation rule (carriers.md §11.3): the
opt-out confirmation names the brand, says no more messages will come and how
to resubscribe, and carries no marketing; HELP names the brand, how to opt out
and the rates disclosure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.compliance.keywords import ComplianceKeywords
from bot.compliance.policy import ComplianceTexts

if TYPE_CHECKING:  # bot.flows imports this module while loading: no runtime import back
    from bot.flows.model import Flow

__all__ = ["keywords_for", "texts_for"]


def texts_for(flow: Flow) -> ComplianceTexts:
    settings = flow.settings
    brand = settings.brand or flow.name
    return ComplianceTexts(
        help=settings.help or _default_help(flow, brand),
        opt_out_reply=settings.opt_out_reply
        or f"{brand}: You are unsubscribed and will receive no more messages from this number. "
        "Reply START to resubscribe.",
        opt_in_reply=settings.opt_in_reply
        or f"{brand}: You are subscribed again. Reply HELP for help, STOP to opt out. Msg&data rates may apply.",
    )


def _default_help(flow: Flow, brand: str) -> str:
    """HELP names a way to get help only when the flow has it.

    "Reply AGENT" to a flow without an AGENT keyword sent the customer to a
    word that only answers with the fallback: a global AGENT (or failing that
    MENU) keyword is offered; otherwise the text says how to opt out and the
    rates. A flow should name a contact in its own ``settings.help`` (CTIA).
    """
    words = {key for route in flow.global_routes for key in route.keys}
    if "agent" in words:
        offer = " for help reply AGENT."
    elif "menu" in words:
        offer = " reply MENU for options."
    else:
        offer = ""
    return f"{brand}:{offer} Reply STOP to opt out. Msg&data rates may apply."


def keywords_for(flow: Flow) -> ComplianceKeywords:
    extra = flow.compliance
    return ComplianceKeywords(
        extra_opt_out=extra.opt_out,
        extra_opt_in=extra.opt_in,
        extra_help=extra.help,
        extra_revocation_patterns=extra.revocation_patterns,
    )
