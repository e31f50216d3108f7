"""Prometheus metrics for operators (``GET /metrics``).

prometheus_client is the field's standard exposition library; each app gets its
own registry (no process-global state), so tests can run many apps side by side.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Label values come from short fixed lists (carriers, outcomes, FAQ results),
# so this never fills up in practice; the bound is there in case it ever would.
MAX_CHILDREN = 1024

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages_in = Counter(
            "textdesk_messages_in", "Inbound messages by carrier and outcome", ["carrier", "outcome"], registry=r
        )
        self.messages_out = Counter(
            "textdesk_messages_out", "Outbound messages by carrier and outcome", ["carrier", "outcome"], registry=r
        )
        self.faq = Counter("textdesk_faq", "FAQ matching results (hit, miss, ambiguous)", ["result"], registry=r)
        self.consent = Counter("textdesk_consent_events", "Opt-outs and opt-ins by event", ["event"], registry=r)
        self.outbox_depth = Gauge("textdesk_outbox_depth", "Replies waiting in the outbox", registry=r)
        self.outbox_retries = Counter("textdesk_outbox_retries", "Outbox sends retried", ["carrier"], registry=r)
        self.latency = Histogram(
            "textdesk_handling_seconds",
            "Time to handle one inbound message, from parsed request to committed turn",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.reloads = Counter("textdesk_flow_reloads", "Flow reloads by result", ["result"], registry=r)
        # Group commit (bot.store.hops): turn writes / batches is the average batch size.
        self.store_batches = Gauge("textdesk_store_write_batches", "Group-commit transactions since start", registry=r)
        self.store_writes = Gauge(
            "textdesk_store_batched_writes", "Turn writes committed by group commit since start", registry=r
        )
        self.throttled = Counter("textdesk_throttled", "Messages not answered because of flooding", registry=r)
        self._children: dict[tuple[Counter, tuple[str, ...]], Counter] = {}

    def child(self, counter: Counter, *labels: str) -> Counter:
        """``counter.labels(*labels)``, looked up once per label values.

        Every handled message counts in two to four labelled counters, and
        ``labels()`` validates and locks on each call; the children are kept
        here instead (at most ``MAX_CHILDREN``; past that the memo starts over,
        and ``labels()`` hands back the same children again).
        """
        key = (counter, labels)
        found = self._children.get(key)
        if found is None:
            if len(self._children) >= MAX_CHILDREN:
                self._children.clear()
            found = self._children[key] = counter.labels(*labels)
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)
