"""``POST /api/conversations``: start (or restart) a flow at a state for one customer.

The conversation is written as if the customer were at ``state`` with
``variables``, and what the state says is queued for the outbox: the first
reply of a business-initiated conversation. Their answer then arrives like any
text and continues from there. An opted-out number is refused (409), never
texted; no prior opt-in is required, as for any one-to-one service message
(an order follow-up), whereas broadcasts require one.
"""

from __future__ import annotations

from aiohttp import web

from bot.api import context
from bot.api.errors import ApiError
from bot.api.inputs import read_body, read_query
from bot.api.outreach import check_variables, start_conversation
from bot.api.senders import resolve_sender

__all__ = ["post_conversation"]


async def post_conversation(request: web.Request) -> web.Response:
    read_query(request).done()
    body = await read_body(request)
    service = context.service(request)
    customer = body.number("to")
    sender = resolve_sender(body, service.flows, context.carriers(request))
    flow = sender.flow
    state = body.name("state", required=False) or flow.start
    if state not in flow.states:
        raise ApiError("unknown_state", f"flow '{flow.name}' has no state '{state}'", field="state")
    variables = body.variables()
    body.done()
    check_variables(flow, state, variables)
    status, queued = await start_conversation(
        service, flow, state, sender.channel, customer, sender.business, variables, context.media_base(request),
        origin="conversation", kind="conversation",
    )
    if status == "opted_out":
        raise ApiError("opted_out", f"{customer} has opted out of messages from {sender.business}", field="to")
    return web.json_response(
        {
            "status": "queued",
            "conversation": {
                "to": customer,
                "from": sender.business,
                "channel": sender.channel,
                "flow": flow.name,
                "state": state,
                "variables": variables,
            },
            "messages": [reply.to_json() for reply in queued],
        },
        status=201,
    )
