"""Prometheus metrics for operators (``GET /metrics``).

prometheus_client is the field's standard exposition library; each app gets its
own registry (no process-global state), so tests can run many apps side by side.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
        self.throttled = Counter("textdesk_throttled", "Messages not answered because of flooding", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
