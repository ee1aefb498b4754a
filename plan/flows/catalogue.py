"""The flow catalogue: every flow the platform intends, and a set it must forbid, derived from the
recorded plan (and the stack's config for the service contracts).

Resources are located by type, by the conventions every engineer relies on (task role `<service>-task`
or the task definition's `taskRoleArn`, tag `Service`, data buckets tagged `Purpose`), and by matching
the ARNs/names/URLs in inputs to recorded outputs. Each group (one module each, mixed in below) is
written generically: it yields nothing when its resources are absent, and lights up when they land
(delivery tier, DR services, VPC-link front door, per-service roles).
"""
from __future__ import annotations

from . import bus_isolation, day_two, operations, powers, producers, web
from .common import APP_KEY, DESIGN_HINTS, Flow  # noqa: F401  (re-exported)
from .delivery import DeliveryFlows
from .dr import DrFlows
from .front_door import FrontDoorFlows
from .isolation import IsolationFlows
from .logs import LogsFlows
from .messaging import MessagingFlows
from .model import Checker, Model
from .services import ServicesFlows


class Catalogue(ServicesFlows, FrontDoorFlows, MessagingFlows, LogsFlows, DrFlows, DeliveryFlows,
                IsolationFlows):
    def __init__(self, plan, others: dict | None = None):
        self.plan = plan
        self.m = Model(plan)
        self.ck = Checker(self.m)
        self.others = others or {}
        self.flows: list[Flow] = []
        self.primary = plan.region

    def build(self) -> list[Flow]:
        for part in (self.services, self.front_door, self.events, self.s3_to_eventbridge, self.sns_to_sqs,
                     self.alerts, self.audit_logs, self.access_logs, self.replication, self.delivery,
                     self.training, self.forbidden_cross_service, self.forbidden_other_stacks):
            part()
        for group in (producers.producers, day_two.day_two, bus_isolation.bus_isolation, web.web, operations.schedules, operations.offhours,
                      operations.ml_data_age, operations.singletons, operations.training, operations.batch_jobs,
                      powers.powers):
            group(self)
        return self.flows


def build_flows(plan, others: dict | None = None) -> list[Flow]:
    return Catalogue(plan, others).build()
