"""Events tier settings: the bus and its rules, queues (each with a DLQ), topics, the analytics stream."""
from __future__ import annotations

import dataclasses

from .schema import Bool, ConfigError, Enum, EnvDefault, Int, ListOf, MapOf, Section, Str, setting  # noqa: F401

NAME = Str(r"[a-z][a-z0-9-]{0,39}", "lowercase letters, digits and -, at most 40 characters, starting with a letter",
           max_len=40)
# alerts: critical, pages whoever is on call; warnings: informs the team (warning alarms, the budget, release
# pipelines' failures and approvals). Two topics, each with its own subscribers (docs/paging.md).
TOPICS = ("alerts", "warnings", "domain-events")


@dataclasses.dataclass(frozen=True)
class QueueSettings:
    visibility_timeout_seconds: int = setting(Int(0, 43200), 300,
                                              "At least 6x the consumer's processing time (Lambda: its timeout)")
    message_retention_seconds: int = setting(Int(60, 1209600), 345600, "How long an unconsumed message is kept")
    max_receive_count: int = setting(Int(1, 1000), 5, "Receives before a message moves to the queue's DLQ")
    receive_wait_time_seconds: int = setting(Int(0, 20), 20, "Long polling wait")


@dataclasses.dataclass(frozen=True)
class RuleSettings:
    queue: str = setting(NAME, dataclasses.MISSING, "Target queue (a key of queues)")
    sources: tuple = setting(ListOf(Str(max_len=256), min_items=1), dataclasses.MISSING, "event `source` values matched")
    detail_types: tuple = setting(ListOf(Str(max_len=128)), [], "event `detail-type` values matched (empty: any)")
    description: str = setting(Str(max_len=512), "platform event flow", "Rule description")


@dataclasses.dataclass(frozen=True)
class SubscriptionSettings:
    topic: str = setting(Enum(*TOPICS), dataclasses.MISSING, "Topic subscribed to")
    protocol: str = setting(Enum("email", "https"), dataclasses.MISSING, "email or https (others are wired in code)")
    endpoint: str = setting(Str(max_len=2048), dataclasses.MISSING, "An email address or an https:// URL")

    def validate(self, path: str) -> None:
        import re
        if self.protocol == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", self.endpoint):
            raise ConfigError(f"{path}.endpoint", self.endpoint, "an email address for protocol 'email'")
        if self.protocol == "https" and not re.fullmatch(r"https://[^\s/]+(/\S*)?", self.endpoint):
            raise ConfigError(f"{path}.endpoint", self.endpoint, "an https:// URL for protocol 'https'")


DEFAULT_QUEUES = {"document-processing": {"visibilityTimeoutSeconds": 900}, "inference-requests": {},
                  "notifications": {"maxReceiveCount": 3}}
# The design's flows: an uploaded document is processed; an inference request is queued for the workers.
DEFAULT_RULES = {
    "document-uploaded": {"queue": "document-processing", "sources": ["ai-platform.documents"],
                          "detailTypes": ["DocumentUploaded"], "description": "document uploaded -> processing queue"},
    "inference-requested": {"queue": "inference-requests", "sources": ["ai-platform.inference"],
                            "detailTypes": ["InferenceRequested"],
                            "description": "inference requested -> inference queue"},
}


@dataclasses.dataclass(frozen=True)
class EventsSettings:
    archive_retention_days: int = setting(Int(0, 3650), EnvDefault(dev=7, prod=90),
                                          "Days the bus archive keeps events for replay (0 = forever)")
    queues: dict = setting(MapOf(Section(QueueSettings), key=NAME, max_items=20), DEFAULT_QUEUES,
                           "Work queues; each gets its own DLQ (14 days retention)")
    rules: dict = setting(MapOf(Section(RuleSettings), key=NAME, max_items=50), DEFAULT_RULES,
                          "Bus rules, each delivering to one queue")
    domain_event_queues: tuple = setting(ListOf(NAME), ["notifications"],
                                         "Queues subscribed to the domain-events topic (raw delivery fan-out)")
    domain_event_types: tuple = setting(ListOf(Str(max_len=128)), ["DocumentUploaded"],
                                        "Bus events (detail-types of the rules) also routed to the domain-events "
                                        "topic, whose subscribers (domainEventQueues) are notified of them")
    alert_emails: tuple = setting(ListOf(Str(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an e-mail address", max_len=254),
                                         max_items=20), [],
                                  "E-mail subscribers of the alerts topic: critical alarms, the ones that page "
                                  "(docs/paging.md); required in prod. Each address confirms its subscription once.")
    warning_emails: tuple = setting(ListOf(Str(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an e-mail address", max_len=254),
                                           max_items=20), [],
                                    "E-mail subscribers of the warnings topic: warning alarms, budget alerts, release "
                                    "pipeline failures and approvals (informs, never pages). Empty: alertEmails.")
    subscriptions: tuple = setting(ListOf(Section(SubscriptionSettings), max_items=50), [],
                                   "Topic subscriptions (email/https): email ones wait for confirmation")
    analytics_stream: bool = setting(
        Bool(), False, "The Kinesis analytics stream: opt-in. Nothing in the platform produces to it or consumes it; "
                       "turn it on together with the producer and the consumer that use it (issue 32).")
    stream_mode: str = setting(Enum("ON_DEMAND", "PROVISIONED"), EnvDefault(dev="ON_DEMAND", prod="PROVISIONED"),
                               "Kinesis capacity mode")
    shard_count: int = setting(Int(1, 500), EnvDefault(dev=1, prod=2), "Shards when streamMode is PROVISIONED")
    stream_retention_hours: int = setting(Int(24, 8760), EnvDefault(dev=24, prod=168), "Kinesis retention")

    def validate(self, path: str) -> None:
        for name, rule in self.rules.items():
            if rule.queue not in self.queues:
                raise ConfigError(f"{path}.rules.{name}.queue", rule.queue,
                                  f"one of the queues {', '.join(sorted(self.queues))}")
        for i, q in enumerate(self.domain_event_queues):
            if q not in self.queues:
                raise ConfigError(f"{path}.domainEventQueues[{i}]", q,
                                  f"one of the queues {', '.join(sorted(self.queues))}")
        if not self.domain_events_consumed:
            return   # nothing subscribes to the topic: no rule feeds it, the types are not used
        routed = sorted({t for r in self.rules.values() for t in r.detail_types})
        for i, t in enumerate(self.domain_event_types):
            if t not in routed:
                raise ConfigError(f"{path}.domainEventTypes[{i}]", t,
                                  f"a detail-type of a bus rule ({', '.join(routed) or 'none'})")
        if not self.domain_event_types:
            # a subscriber nothing is ever sent to waits for ever (the flow check's "a producer" flows)
            raise ConfigError(f"{path}.domainEventTypes", [], "at least one event type while the domain-events "
                              "topic has subscribers (domainEventQueues, subscriptions)")

    @property
    def domain_events_consumed(self) -> bool:
        return bool(self.domain_event_queues) or any(sub.topic == "domain-events" for sub in self.subscriptions)
