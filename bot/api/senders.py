"""Which flow, business number and carrier a business-initiated message goes out with.

The rule keeps conversations coherent: a customer's answer comes back to the
business number, and ``FlowSet.for_number`` decides which flow handles it, so
the flow the API starts must be the flow that answers that number.
- ``from`` given: its flow; a named ``flow`` must be that same flow.
- only ``flow`` given: the flow's first listed number.
- neither: the default flow and its first number.
The carrier (``channel``) may be left out when exactly one is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.api.errors import ApiError
from bot.api.inputs import Body
from bot.carriers.base import Carrier
from bot.flows import Flow, FlowSet

__all__ = ["Sender", "resolve_sender"]


@dataclass(frozen=True, slots=True)
class Sender:
    flow: Flow
    business: str
    channel: str


def resolve_sender(body: Body, flows: FlowSet, carriers: Mapping[str, Carrier], sends: bool = True) -> Sender:
    """Read ``flow``, ``from`` and ``channel`` from ``body`` and make them agree.

    ``sends=False`` (audience management) takes no ``channel``: consent is per
    business number, whatever the carrier.
    """
    flow_name = body.name("flow", required=False)
    business = body.number("from", required=False)
    channel = body.name("channel", required=False) if sends else ""
    if flow_name and flow_name not in flows.flows:
        known = ", ".join(sorted(flows.flows))
        raise ApiError("unknown_flow", f"no flow '{flow_name}' (loaded: {known})", field="flow")
    if business:
        flow = flows.for_number(business)
        if flow_name and flow.name != flow_name:
            raise ApiError("flow_number_mismatch", f"{business} is answered by flow '{flow.name}', not "
                           f"'{flow_name}': replies would reach another flow", field="from")
    else:
        flow = flows.flows[flow_name] if flow_name else flows.default
        if not flow.numbers:
            raise ApiError("missing_field", f"flow '{flow.name}' lists no business number; give 'from'",
                           field="from")
        business = flow.numbers[0]
    if not sends:
        pass
    elif channel:
        if channel not in carriers:
            known = ", ".join(sorted(carriers)) or "none"
            raise ApiError("unknown_channel", f"no carrier '{channel}' is configured (configured: {known})",
                           field="channel")
    elif len(carriers) == 1:
        channel = next(iter(carriers))
    else:
        known = ", ".join(sorted(carriers)) or "none"
        raise ApiError("unknown_channel", f"name the carrier to send with in 'channel' (configured: {known})",
                       field="channel")
    return Sender(flow, business, channel)
