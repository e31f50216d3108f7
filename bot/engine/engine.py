"""The conversation engine: (flow, session, text, time) in, (session, replies) out.

Pure: no network, no disk, no clock of its own (``now`` is passed in), so whole
conversations can be tested in memory and replayed deterministically.

Order of decisions for one text (documented for editors in flows/README.md):
1. a pending "Did you mean" is answered by ``1``/``2`` or the question's text;
2. global keywords; 3. the state's choices (keywords, then patterns, then the
best fuzzy ``option``), and in a final state then the start state's choices
(mid-step only its keywords that are words and its options: "product demo");
a keyword or option that opened a step with patterns lets that step read the
same text (``_carry``: "order status AC-123456" is looked up, not asked for);
then small talk no route took: emoji alone read as words for the keywords, and
a greeting, which greets back (see ``_small_talk``);
4. FAQs; 5. the state's ``otherwise``; 6. fallback.
A new, expired or lost conversation restarts at the start state; if nothing in
steps 2-4 matched, the start state's greeting is the answer.
"""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz

from bot.engine.decision import Decision, Fresh, Outcome
from bot.engine.machine import FALLBACK, FAQ, RELOCATE, RESTART, SAY, Turn, build_machine
from bot.engine.pending import pick
from bot.engine.templates import merge
from bot.flows.model import Flow, Route
from bot.matching.faq import FaqIndex, FaqMatch, has_evidence
from bot.matching.normalize import keyword_core, match_form, normalize, pattern_text, squeeze
from bot.matching.smalltalk import emoji_reading, is_greeting
from bot.types import ConversationKey, Reply, Session

__all__ = ["FlowEngine"]

class FlowEngine:
    """Runs one flow. Built once per loaded flow; shared by all conversations."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.machine = build_machine(flow)
        self.faq_index = FaqIndex(flow.faqs, flow.settings.match_threshold, flow.settings.ambiguity_margin)
        # Each choice's ``option`` in the form fuzzy scores use, by its normalised text.
        self._option_forms = {
            route.option_norm: match_form(route.option_norm)
            for state in flow.states.values()
            for route in state.choices
            if route.option_norm
        }

    def handle(
        self,
        key: ConversationKey,
        session: Session | None,
        text: str,
        now: float,
        media_types: tuple[str, ...] = (),
    ) -> Outcome:
        """Advance ``session`` (``None`` for a new conversation) by one customer text.

        ``media_types`` are the content types of the customer's attachments, for
        routes that match on ``sent: photo`` and the like.
        """
        flow = self.flow
        fresh: Fresh = ""
        if session is None:
            fresh = "new"
        elif now - session.updated_at > flow.settings.idle_timeout:
            # Before "lost": an idle customer is no longer mid-way through any
            # step, removed or not, and starts over like every idle one.
            fresh = "expired"
        elif session.state not in flow.states:
            fresh = "lost"  # the flow changed under this conversation
        lost_state = flow.settings.lost_state or flow.start
        if fresh:
            variables: dict[str, str] = {}
            turn = Turn(lost_state if fresh == "lost" else flow.start, variables)
            pending: tuple[str, ...] = ()
        else:
            assert session is not None
            turn = Turn(session.state, dict(session.variables))
            pending = session.pending
        if fresh == "expired" and flow.settings.welcome_back:
            turn.replies.append(Reply(flow.settings.welcome_back))
        elif fresh == "lost" and flow.settings.lost_notice:
            # The customer was mid-way through a step an editor removed: say so
            # briefly and carry on from the flow's chosen state, never an error.
            turn.replies.append(Reply(flow.settings.lost_notice))
        state_from = turn.state
        norm = normalize(text)
        decision, faq_match, new_pending = self._decide(turn, norm, text, pending, fresh, media_types)
        decision = replace(decision, fresh=fresh, state_from="" if fresh == "new" else state_from, state_to=turn.state)
        created = now if session is None else session.created_at
        new_session = Session(
            key=key,
            flow=flow.name,
            flow_version=flow.version,
            state=turn.state,
            variables=turn.variables,
            pending=new_pending,
            created_at=created,
            updated_at=now,
        )
        replies = merge(turn.replies, turn.variables)
        return Outcome(new_session, replies, decision, faq_match, tuple(turn.entered), tuple(turn.subscribe))

    # -- decisions ---------------------------------------------------------

    def _decide(
        self, turn: Turn, norm: str, raw: str, pending: tuple[str, ...], fresh: Fresh, media_types: tuple[str, ...]
    ) -> tuple[Decision, FaqMatch | None, tuple[str, ...]]:
        flow = self.flow
        key = squeeze(norm)
        if pending:
            picked = pick(self.flow, pending, norm, key)
            if picked is not None:
                faq, score = picked
                self._fire(FAQ, turn, reply=Reply(faq.answer, faq.media))
                return Decision("picked", faq_id=faq.faq_id, score=score), None, ()
        for route in flow.global_routes:
            if key in route.keys:
                self._fire(route.route_id, turn)
                return Decision("keyword", route_id=route.route_id, score=100.0), None, ()
        said, origin = len(turn.replies), turn.state  # replies before this text's route (welcome back...)
        decision = self._choices(turn, norm, raw, key, media_types)
        if decision is None and turn.state != flow.start and flow.states[turn.state].final:
            # The conversation is finished here, and the customer still has the
            # menu on screen: "2" after the store hours means the menu's 2. The
            # text is read at the start state, as a new conversation's is (placed
            # there, not entered: no greeting again); if the start's choices do
            # not take it either, the conversation stays where it was.
            finished, turn.state = turn.state, flow.start
            decision = self._choices(turn, norm, raw, key, media_types)
            if decision is None:
                turn.state = finished
        elif decision is None and turn.state != flow.start:
            # Mid-step, a menu option named in words ("product demo", "talk to
            # a person") is the customer switching, as at the menu: the step's
            # question again would keep them in it. Words only: a step may ask
            # for a number, a photo or a pattern of its own.
            step, turn.state = turn.state, flow.start
            decision = self._choices(turn, norm, raw, key, (), words=True)
            if decision is None:
                turn.state = step
        if decision is not None:
            decision = self._carry(turn, raw, decision, said, origin)
        if decision is None:
            decision = self._small_talk(turn, key, raw, fresh)
        if decision is not None:
            return decision, None, ()
        match = self.faq_index.match(norm)
        best = match.best
        if match.verdict == "answer" and best is not None:
            answer = flow.faq(best.faq_id)
            assert answer is not None
            self._fire(FAQ, turn, reply=Reply(answer.answer, answer.media))
            return Decision("faq", faq_id=answer.faq_id, score=best.score, phrasing=best.phrasing), match, ()
        if match.verdict == "ambiguous":
            options = [flow.faq(c.faq_id) for c in match.candidates]
            lines = [flow.settings.did_you_mean]
            lines += [f"{i}) {faq.question}" for i, faq in enumerate(options, start=1) if faq is not None]
            lines.append("Reply " + " or ".join(str(i) for i in range(1, len(options) + 1)) + ".")
            self._fire(SAY, turn, reply=Reply("\n".join(lines)))
            ids = tuple(c.faq_id for c in match.candidates)
            return Decision("ambiguous", faq_id=",".join(ids), score=best.score if best else None), match, ids
        if fresh:
            trigger = RELOCATE if fresh == "lost" else RESTART
            self._fire(trigger, turn, reply=Reply(""))
            return Decision("start", route_id=trigger), match, ()
        state = flow.states[turn.state]
        if state.otherwise is not None:
            self._fire(state.otherwise.route_id, turn)
            return Decision("otherwise", route_id=state.otherwise.route_id), match, ()
        self._fire(FALLBACK, turn, reply=Reply(flow.settings.fallback))
        return Decision("fallback"), match, ()

    def _choices(
        self, turn: Turn, norm: str, raw: str, key: str, media_types: tuple[str, ...], words: bool = False
    ) -> Decision | None:
        """The state's route for the text, taken; ``None`` if none takes it.

        ``words``: only keywords that are words and ``option`` texts (the menu
        read mid-step, see ``_decide``): no attachments, numbers or patterns.
        """
        state = self.flow.states[turn.state]
        if words and (key.isdigit() or keyword_core(key).isdigit()):
            return None
        # An attachment is the clearest signal a customer can send ("here's the
        # photo"), so media routes are tried before anything the text says.
        for route in state.choices:
            if route.sent and any(_media_kind_matches(route.sent, t) for t in media_types):
                self._fire(route.route_id, turn)
                return Decision("media", route_id=route.route_id, phrasing=",".join(media_types))
        for route in state.choices:
            if key in route.keys:
                self._fire(route.route_id, turn)
                return Decision("choice", route_id=route.route_id, score=100.0)
        # "2 please", "option 3", "menu pls": what is left without the courtesy
        # is compared with the keywords once more, global ones first, as the
        # whole text was. Only after every exact comparison of the whole text.
        core = keyword_core(key)
        if core and core != key:
            taken = self._keyword(turn, core)
            if taken is not None:
                return taken
        taken = None if words else self._pattern(turn, raw)
        if taken is not None:
            return taken
        best: tuple[float, Route] | None = None
        query: str | None = None
        for route in state.choices:
            if route.option_norm and norm:
                # score_text(norm, route.option_norm), with the query's match
                # form worked out once per text and each option's once per flow.
                if query is None:
                    query = match_form(norm)
                    if not has_evidence(query):
                        break  # a lone letter or digit picks no option either (bot.matching.faq)
                score = float(fuzz.token_set_ratio(query, self._option_forms[route.option_norm], processor=None))
                if best is None or score > best[0]:
                    best = (score, route)
        if best is not None and best[0] >= self.flow.settings.match_threshold:
            self._fire(best[1].route_id, turn)
            return Decision("option", route_id=best[1].route_id, score=best[0], phrasing=best[1].option)
        return None

    def _carry(self, turn: Turn, raw: str, decision: Decision, said: int, origin: str) -> Decision:
        """Let the step a text opened take the answer that text already holds.

        "order status AC-123456" picks "Order status", whose step asks "What's
        your order number?": the customer gave it, and asking again is the
        reply people notice (Rasa's forms fill a slot from the message that
        starts them). So when a route moved the conversation to a step with
        ``pattern`` choices, the same text is searched with them once, and a
        match answers as if it had come next: the step's question is dropped
        (``said`` is where this text's replies begin), the variables are set and
        the pattern's route is taken. Once only, and never by a route that
        stays where it is: the order found takes another order number itself,
        and one text gets one answer.
        """
        if decision.kind not in ("keyword", "choice", "option", "pattern") or turn.state == origin:
            return decision
        entered = len(turn.replies)
        taken = self._pattern(turn, raw, onward=True)
        if taken is None:
            return decision
        del turn.replies[said:entered]
        return taken

    def _keyword(self, turn: Turn, word: str) -> Decision | None:
        """``word`` (a text read another way: without courtesy, an emoji's word) as a
        keyword, global ones first as for the whole text; the route taken, or ``None``."""
        for route in self.flow.global_routes:
            if word in route.keys:
                self._fire(route.route_id, turn)
                return Decision("keyword", route_id=route.route_id, score=100.0, phrasing=word)
        for route in self.flow.states[turn.state].choices:
            if word in route.keys:
                self._fire(route.route_id, turn)
                return Decision("choice", route_id=route.route_id, score=100.0, phrasing=word)
        return None

    def _pattern(self, turn: Turn, raw: str, onward: bool = False) -> Decision | None:
        """The first ``pattern`` choice of the state found in the text, taken; ``None`` if none is.

        ``onward``: only routes that move to another state (for ``_carry``).
        """
        searched: str | None = None
        for route in self.flow.states[turn.state].choices:
            if route.pattern is None or (onward and route.go in (None, turn.state)):
                continue
            if searched is None:
                searched = pattern_text(raw)
            found = route.pattern.search(searched)
            if found is not None:
                # Every named group of the route is set, an unmatched optional one
                # to "": a value left from an earlier turn would answer this text
                # with another text's detail ("order 456 for bob" after "123 for bob").
                captured = {k: (v or "").strip() for k, v in found.groupdict().items()}
                turn.variables.update(captured)
                self._fire(route.route_id, turn)
                return Decision("pattern", route_id=route.route_id, phrasing=found.group(0))
        return None

    def _small_talk(self, turn: Turn, key: str, raw: str, fresh: Fresh) -> Decision | None:
        """Emoji alone read as words, then a greeting: only texts the flow's routes did not take.

        "👍" is tried as "yes", then "ok", against the global keywords and the
        state's (so it confirms where a state asks "Reply YES", and is an "ok"
        where none does). A greeting mid-conversation is greeted back: at the
        start state or in a finished conversation with the start state's
        greeting and menu, mid-step by asking the step's question again (a step
        with nothing to ask goes to the start state too). A new or restarted
        conversation already gets the start state's greeting.
        """
        readings = () if key else emoji_reading(raw)
        flow = self.flow
        for word in readings:
            taken = self._keyword(turn, word)
            if taken is not None:
                return taken
        if fresh or not is_greeting(key or " ".join(readings)):
            return None
        state = flow.states[turn.state]
        if turn.state != flow.start and not state.final and state.say:
            # Mid-step: the step's question again, its text only (an MMS of its
            # media again would cost the customer for a "hi").
            self._fire(SAY, turn, reply=Reply(state.say))
            return Decision("greeting")
        self._fire(RESTART, turn, reply=Reply(""))
        return Decision("greeting", route_id=RESTART)

    def _fire(self, trigger: str, turn: Turn, **kwargs: object) -> None:
        self.machine.events[trigger].trigger(turn, **kwargs)


def _media_kind_matches(kind: str, content_type: str) -> bool:
    prefix = {"photo": "image/", "video": "video/", "audio": "audio/"}.get(kind)
    return prefix is None or content_type.lower().startswith(prefix)
