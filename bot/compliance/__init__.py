"""US SMS compliance: recognising opt-out, opt-in and HELP messages."""

from bot.compliance.keywords import (
    BASE_HELP_KEYWORDS,
    BASE_OPT_IN_KEYWORDS,
    BASE_OPT_OUT_KEYWORDS,
    REVOCATION_PATTERNS,
    ComplianceKeywords,
    Intent,
)

__all__ = [
    "BASE_HELP_KEYWORDS",
    "BASE_OPT_IN_KEYWORDS",
    "BASE_OPT_OUT_KEYWORDS",
    "REVOCATION_PATTERNS",
    "ComplianceKeywords",
    "Intent",
]
