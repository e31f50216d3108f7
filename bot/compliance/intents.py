"""What a compliance message can ask for, and the keywords every flow starts with.

Flows may add keywords (``compliance:`` in a flow file) but never remove these:
they are what carriers and the FCC expect any US business line to honour.
"""

from __future__ import annotations

import enum

__all__ = [
    "BASE_HELP_KEYWORDS", "BASE_OPT_IN_KEYWORDS", "BASE_OPT_OUT_KEYWORDS", "LIFT_ONLY_OPT_IN_KEYWORDS", "Intent",
]


class Intent(enum.Enum):
    """What a compliance message asks for.

    The values deliberately equal Twilio Advanced Opt-Out's ``OptOutType``
    (and so :attr:`bot.types.InboundMessage.carrier_opt_out`), letting the
    engine compare our verdict with the carrier's without a mapping table.
    """

    OPT_OUT = "STOP"
    OPT_IN = "START"
    HELP = "HELP"


# Twilio's default list (incl. REVOKE and OPTOUT, added 2025-05-14) plus the
# FCC's per-se revocation words, of which "opt out" is the only one Twilio lacks.
BASE_OPT_OUT_KEYWORDS: tuple[str, ...] = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT OUT",
)
BASE_OPT_IN_KEYWORDS: tuple[str, ...] = ("START", "UNSTOP", "YES")
# Opt-in words that act only on an opted-out number. "Reply YES to confirm" is
# the commonest question a flow asks; from a number that is not opted out
# there is no block to lift, so YES goes to the flow (as RapidPro passes it,
# and as Twilio's Advanced Opt-Out lets a business remove it), while after a
# STOP it still resubscribes. START and UNSTOP always act (and are confirmed).
LIFT_ONLY_OPT_IN_KEYWORDS: tuple[str, ...] = ("YES",)
BASE_HELP_KEYWORDS: tuple[str, ...] = ("HELP", "INFO")
