"""One business-initiated send to one customer: a message, or a flow started at a state.

Shared by ``POST /api/conversations``, broadcasts and their feeder, so every
path prepares replies the same way as the conversation service does (smart
encoding, splitting, MMS or links by the customer's country, absolute media
URLs for the outbox) and decides consent in the store's transaction.

A started conversation holds the conversation's lock while it is written, so
it cannot interleave with an inbound text from the same customer.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.api.errors import ApiError
from bot.engine.templates import fill, placeholders
from bot.flows import Flow
from bot.replies import media_url, prepare
from bot.service import ConversationService
from bot.types import ConversationKey, Reply, Session

__all__ = ["check_variables", "ready_to_queue", "send_message", "start_conversation"]


def check_variables(flow: Flow, state: str, variables: Mapping[str, str]) -> None:
    """Refuse a start whose first text would have holes.

    Inside a conversation an unset ``{name}`` is filled with nothing (a pattern may not
    have matched yet); a started conversation has only the variables given, so a missing
    one is the client's mistake and the customer would read "Hi , order  is ready."
    """
    missing = sorted(placeholders(flow.states[state].say) - set(variables))
    if missing:
        names = ", ".join(f"{{{name}}}" for name in missing)
        raise ApiError("missing_field", f"state '{state}' of flow '{flow.name}' says {names}; give "
                       f"{'it' if len(missing) == 1 else 'them'} in 'variables'", field="variables")


def ready_to_queue(
    service: ConversationService, flow: Flow, channel: str, customer: str, replies: tuple[Reply, ...], media_base: str
) -> tuple[Reply, ...]:
    """Replies as the outbox sends them: prepared for this customer, media as absolute URLs."""
    prepared = prepare(replies, flow.settings, service.mms(channel, customer), media_base)
    return tuple(Reply(r.text, tuple(media_url(m, media_base) for m in r.media)) for r in prepared)


async def start_conversation(
    service: ConversationService,
    flow: Flow,
    state: str,
    channel: str,
    customer: str,
    business: str,
    variables: Mapping[str, str],
    media_base: str,
    *,
    origin: str,
    kind: str,
    require_opt_in: bool = False,
    audience: str | None = None,
    recipient_of: str = "",
) -> tuple[str, tuple[Reply, ...]]:
    """Put the customer's conversation at ``state`` and queue what the state says.

    Returns the store's verdict (``queued``, ``opted_out``, ``no_consent``,
    ``already``) and the replies queued (none unless ``queued``).
    """
    entered = flow.states[state]
    text = fill(entered.say, variables)
    replies = (Reply(text, entered.media),) if text or entered.media else ()
    ready = ready_to_queue(service, flow, channel, customer, replies, media_base)
    key = ConversationKey(channel, customer, business)
    async with service.locks.hold(key):
        now = service.clock.now()
        session = Session(key, flow.name, flow.version, state, dict(variables), (), now, now)
        status = await service.store.queue_messages(
            channel, customer, business, ready, now, kind=kind, origin=origin, session=session,
            audience=audience, require_opt_in=require_opt_in, recipient_of=recipient_of,
        )
    return status, ready if status == "queued" else ()


async def send_message(
    service: ConversationService,
    flow: Flow,
    reply: Reply,
    channel: str,
    customer: str,
    business: str,
    media_base: str,
    *,
    origin: str,
    kind: str,
    require_opt_in: bool = False,
    audience: str | None = None,
    recipient_of: str = "",
) -> str:
    """Queue one message (the conversation's state is left as it is)."""
    ready = ready_to_queue(service, flow, channel, customer, (reply,), media_base)
    return await service.store.queue_messages(
        channel, customer, business, ready, service.clock.now(), kind=kind, origin=origin,
        audience=audience, require_opt_in=require_opt_in, recipient_of=recipient_of,
    )
