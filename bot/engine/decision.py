"""What the engine decided for one text, and the turn's outcome: logged and returned for every message.

The records only; how the decision is made is ``bot.engine.engine``. The
simulator, the transcripts and the service read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.matching.faq import FaqMatch
from bot.types import Reply, Session

__all__ = ["Decision", "Fresh", "Outcome"]

Fresh = Literal["", "new", "expired", "lost"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Why the engine answered as it did: logged for every message."""

    # keyword | choice | pattern | option | greeting | faq | ambiguous | picked | otherwise | fallback | start
    kind: str
    route_id: str = ""
    faq_id: str = ""
    score: float | None = None
    phrasing: str = ""
    fresh: Fresh = ""
    state_from: str = ""
    state_to: str = ""

    def explain(self) -> str:
        parts = [self.kind]
        if self.route_id:
            parts.append(f"route={self.route_id}")
        if self.faq_id:
            parts.append(f"faq={self.faq_id}")
        if self.score is not None:
            parts.append(f"score={self.score:.1f}")
        if self.phrasing:
            parts.append(f"phrasing={self.phrasing!r}")
        if self.fresh:
            parts.append(f"fresh={self.fresh}")
        parts.append(f"{self.state_from or '-'}->{self.state_to}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Outcome:
    session: Session
    replies: tuple[Reply, ...]
    decision: Decision
    faq_match: FaqMatch | None = None
    entered: tuple[str, ...] = ()  # states entered during this turn, in order
    subscribe: tuple[str, ...] = ()  # audiences a route asked to join (``subscribe:``)
