"""Which live conversations a new flow version would disturb (``lint --against DB``).

A conversation sits in a state of the flow version it last ran on. For the new
version, each such state is either unchanged, *changed* (its definition in the
file differs from the version the conversation is on: its reply, choices or
routes were edited), or *removed* (the customer will get ``lost_notice`` and
move to ``lost_state``). Definitions are compared as composed YAML with
positions stripped, so moving a state within the file or re-indenting it is not
a change.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.flows.model import Flow
from bot.store import Store

__all__ = ["Drift", "drift", "state_definitions"]


def _canonical(node: Node) -> object:
    if isinstance(node, MappingNode):
        return tuple((_canonical(k), _canonical(v)) for k, v in node.value)
    if isinstance(node, SequenceNode):
        return tuple(_canonical(item) for item in node.value)
    assert isinstance(node, ScalarNode)
    return node.value


def state_definitions(source: str) -> dict[str, object]:
    """Each state's definition in a flow file's text, position-free; empty if unreadable."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, MappingNode):
        return {}
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "states" and isinstance(value, MappingNode):
            return {k.value: _canonical(v) for k, v in value.value if isinstance(k, ScalarNode)}
    return {}


@dataclass(frozen=True, slots=True)
class Drift:
    flow: str
    state: str
    conversations: int
    kind: str  # "removed" | "changed" | "unknown" (the old version was never recorded)


async def drift(flows: list[Flow], store: Store) -> list[Drift]:
    """The live conversations whose state the given flow versions remove or change."""
    by_name = {flow.name: flow for flow in flows}
    new_definitions = {flow.name: state_definitions(flow.source) for flow in flows}
    old_cache: dict[tuple[str, str], dict[str, object]] = {}
    found: dict[tuple[str, str, str], int] = {}
    for flow_name, version, state, count in await store.conversation_states():
        flow = by_name.get(flow_name)
        if flow is None:
            continue
        if state not in flow.states:
            kind = "removed"
        elif version == flow.version:
            continue
        else:
            if (flow_name, version) not in old_cache:
                source = await store.flow_source(flow_name, version)
                old_cache[(flow_name, version)] = state_definitions(source) if source is not None else {}
            old = old_cache[(flow_name, version)]
            if not old:
                kind = "unknown"
            elif old.get(state) != new_definitions[flow_name].get(state):
                kind = "changed"
            else:
                continue
        found[(flow_name, state, kind)] = found.get((flow_name, state, kind), 0) + count
    return [Drift(f, s, n, k) for (f, s, k), n in sorted(found.items())]
