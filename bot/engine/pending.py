"""The answer to a pending "Did you mean: 1) ... 2) ...": a line's number or the question's text.

Its own module because it reads only the flow and the text: no route is
taken here, the engine answers with the FAQ picked (``bot.engine.engine``).
"""

from __future__ import annotations

from bot.flows.model import Faq, Flow
from bot.matching.faq import score_text
from bot.matching.normalize import keyword_core, normalize

__all__ = ["pick"]


def pick(flow: Flow, pending: tuple[str, ...], norm: str, key: str) -> tuple[Faq, float] | None:
    """The FAQ of ``pending`` (FAQ ids, as listed) the text picks, with its score; ``None`` if none.

    ``norm`` is the text normalised and ``key`` squeezed, as the engine has them.
    """
    if not key.isdigit():
        key = keyword_core(key)  # "the first one", "2 please"
    if key.isdigit() and 1 <= int(key) <= len(pending):
        # The number names a line of the question as it was sent: an FAQ
        # removed since by a reload leaves a gap, it does not shift the rest.
        chosen = flow.faq(pending[int(key) - 1])
        if chosen is not None:
            return chosen, 100.0
    faqs = [faq for faq in (flow.faq(i) for i in pending) if faq is not None]
    scored = [(score_text(norm, normalize(faq.question)), faq) for faq in faqs]
    scored.sort(key=lambda pair: -pair[0])
    clear = len(scored) == 1 or (len(scored) > 1 and scored[0][0] > scored[1][0])
    if scored and clear and scored[0][0] >= flow.settings.match_threshold:
        return scored[0][1], scored[0][0]
    return None
