"""Events tier: the platform's event backbone (EventBridge bus -> SQS queues, SNS topics, Kinesis stream).

Every queue gets its own DLQ so a poison message never blocks a flow and never mixes with another
flow's failures. Every queue, topic and the stream is encrypted with the data key; the services that
write into them on their own behalf (events.amazonaws.com, sns.amazonaws.com, cloudwatch.amazonaws.com)
are already allowed GenerateDataKey/Decrypt on that key by the security tier's key policy.
Resource policies name the exact writer (aws:SourceArn = rule or topic ARN): no queue accepts a
message from any rule or topic of the account, and all of them refuse plain-HTTP access.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from .config.events import EventsSettings
from .context import Platform, policy_json, publish
from .recipes.alarms import metric_alarm

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to inspect and redrive


@dataclasses.dataclass(frozen=True)
class EventsTierArgs:
    platform: Platform
    settings: EventsSettings
    data_key_arn: pulumi.Input[str]
    # The Kinesis analytics stream. The DR region's instance goes without: nothing there produces to it while on
    # standby, and a provisioned stream bills per shard-hour idle or not (analytics resumes on failback).
    analytics_stream: bool = True
    # Depth alarms on the DLQs, to this instance's alerts topic. The primary's DLQs are alarmed by the observability
    # tier; the DR region has no observability tier, and after a failover its DLQs are where failures land.
    dlq_alarms: bool = False


@dataclasses.dataclass(frozen=True)
class EventsOutputs:
    event_bus_name: pulumi.Output[str]
    event_bus_arn: pulumi.Output[str]
    # detail-type -> the sources bus rules match it with (a publisher's PutEvents condition names both)
    event_sources: Mapping[str, tuple]
    queue_arns: Mapping[str, pulumi.Output[str]]   # from the explicit names: IAM documents known in a preview
    queue_urls: Mapping[str, pulumi.Output[str]]
    queue_names: Mapping[str, str]
    dlq_arns: Mapping[str, pulumi.Output[str]]
    dlq_names: Mapping[str, str]
    alerts_topic_arn: pulumi.Output[str]       # critical: pages
    domain_events_topic_arn: pulumi.Output[str]
    stream_name: pulumi.Output[str] | None
    stream_arn: pulumi.Output[str] | None
    warnings_topic_arn: pulumi.Output[str] | None = None   # warning: informs


def deny_insecure_transport(action: str, resource: pulumi.Input[str]) -> dict:
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": action,
            "Resource": resource, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def allow_service_send(sid: str, service: str, queue_arn, source_arns: list) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": service}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": source_arns}}}


class EventsTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: EventsTierArgs, opts: pulumi.ResourceOptions | None = None):
        p = args.platform
        super().__init__(p.tier_type("Events"), name, None, p.tier_options(opts))
        s = args.settings
        n = p.namer
        child = pulumi.ResourceOptions(parent=self)
        account = p.account_id

        # --- bus and archive -------------------------------------------------------------------
        bus_name = n.physical("event_bus", "platform")
        bus = aws.cloudwatch.EventBus(
            "bus", name=bus_name, description="ai-platform domain events", tags=p.tags(bus_name), opts=child)
        aws.cloudwatch.EventArchive(
            "bus-archive", name=n.physical("event_archive", "bus-archive"),
            event_source_arn=bus.arn, retention_days=s.archive_retention_days,
            description="Replay source for the platform bus", opts=p.stateful(self))

        # --- topics ------------------------------------------------------------------------------
        # alerts: critical (pages); warnings: informs (docs/paging.md). Both take CloudWatch alarms, EventBridge
        # rules (pipeline events, training outcomes) and budget notifications.
        topics: dict[str, aws.sns.Topic] = {}
        for topic in ("alerts", "warnings", "domain-events"):
            tname = n.physical("sns", topic)
            topics[topic] = aws.sns.Topic(
                f"topic-{topic}", name=tname, kms_master_key_id=args.data_key_arn,
                tags=p.tags(tname, Purpose=topic), opts=child)
        alerts, warnings, domain = topics["alerts"], topics["warnings"], topics["domain-events"]
        # Policy documents use name-derived ARNs (known in a preview, so the pack can check them);
        # `arn=` below still ties each policy to its topic.
        def topic_arn(topic: str) -> pulumi.Output[str]:
            return account.apply(lambda a: f"arn:aws:sns:{p.region}:{a}:{n.physical('sns', topic)}")
        domain_arn = topic_arn("domain-events")
        for topic in ("alerts", "warnings"):
            arn = topic_arn(topic)
            aws.sns.TopicPolicy(
                f"topic-{topic}-policy", arn=topics[topic].arn,
                policy=policy_json(
                    deny_insecure_transport("sns:Publish", arn),
                    {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
                     "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
                     "Resource": arn,
                     "Condition": {"StringEquals": {"aws:SourceAccount": account},
                                   "ArnLike": {"aws:SourceArn": account.apply(
                                       lambda a: f"arn:aws:cloudwatch:{p.region}:{a}:alarm:*")}}},
                    {"Sid": "EventBridgePublish", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": arn,
                     "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
                    # Budget alerts from the governance tier.
                    {"Sid": "BudgetsPublish", "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": arn,
                     "Condition": {"StringEquals": {"aws:SourceAccount": account},
                                   "ArnLike": {"aws:SourceArn": account.apply(lambda a: f"arn:aws:budgets::{a}:*")}}}),
                opts=child)
        # The domain-events topic is fed by one bus rule (below, `domain-events`): only that rule may publish.
        domain_rule_name = n.physical("eventbridge_rule", "domain-events")
        domain_rule_arn = account.apply(lambda a: f"arn:aws:events:{p.region}:{a}:rule/{bus_name}/{domain_rule_name}")
        aws.sns.TopicPolicy(
            "topic-domain-events-policy", arn=domain.arn,
            policy=policy_json(
                deny_insecure_transport("sns:Publish", domain_arn),
                {"Sid": "EventBridgePublish", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                 "Action": "sns:Publish", "Resource": domain_arn,
                 "Condition": {"StringEquals": {"aws:SourceAccount": account},
                               "ArnEquals": {"aws:SourceArn": domain_rule_arn}}}),
            opts=child)
        # Critical alarms page the alerts topic's subscribers (config requires one in prod); warnings inform the
        # warnings topic's own (alertEmails when warningEmails is empty). E-mail subscriptions stay pending until
        # the address confirms.
        for i, email in enumerate(s.alert_emails):
            aws.sns.TopicSubscription(f"alerts-email-{i}", topic=alerts.arn, protocol="email", endpoint=email,
                                      opts=child)
        for i, email in enumerate(s.warning_emails or s.alert_emails):
            aws.sns.TopicSubscription(f"warnings-email-{i}", topic=warnings.arn, protocol="email", endpoint=email,
                                      opts=child)
        for i, sub in enumerate(s.subscriptions):
            aws.sns.TopicSubscription(
                f"sub-{sub.topic}-{sub.protocol}-{i}", topic=topics[sub.topic].arn, protocol=sub.protocol,
                endpoint=sub.endpoint, opts=child)

        # --- queues, each with its DLQ -----------------------------------------------------------
        # Queue policy documents use ARNs derived from known names (queue and rule names are explicit,
        # the account id is an invoke): they stay checkable in a preview of a new stack.
        def sqs_arn(queue_name: str) -> pulumi.Output:
            return account.apply(lambda a: f"arn:aws:sqs:{p.region}:{a}:{queue_name}")

        def rule_arn(rule_name: str) -> pulumi.Output:
            return account.apply(lambda a: f"arn:aws:events:{p.region}:{a}:rule/{bus_name}/{rule_name}")

        queue_arns: dict[str, pulumi.Output] = {}
        dlq_arns: dict[str, pulumi.Output] = {}
        queues: dict[str, aws.sqs.Queue] = {}
        dlqs: dict[str, aws.sqs.Queue] = {}
        names: dict[str, str] = {}
        dlq_names: dict[str, str] = {}
        for qname, q in s.queues.items():
            dlq_name = n.physical("sqs", qname, "dlq")
            dlq = aws.sqs.Queue(
                f"queue-{qname}-dlq", name=dlq_name, kms_master_key_id=args.data_key_arn,
                kms_data_key_reuse_period_seconds=300, message_retention_seconds=DLQ_RETENTION_SECONDS,
                tags=p.tags(dlq_name, Role="dlq"), opts=p.stateful(self))
            main_name = n.physical("sqs", qname)
            queue = aws.sqs.Queue(
                f"queue-{qname}", name=main_name, kms_master_key_id=args.data_key_arn,
                kms_data_key_reuse_period_seconds=300,
                visibility_timeout_seconds=q.visibility_timeout_seconds,
                message_retention_seconds=q.message_retention_seconds,
                receive_wait_time_seconds=q.receive_wait_time_seconds,
                redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn,
                                                         "maxReceiveCount": q.max_receive_count}),
                tags=p.tags(main_name), opts=p.stateful(self))
            queues[qname], dlqs[qname] = queue, dlq
            queue_arns[qname], dlq_arns[qname] = sqs_arn(main_name), sqs_arn(dlq_name)
            names[qname], dlq_names[qname] = main_name, dlq_name

        if args.dlq_alarms:
            for qname in s.queues:
                metric_alarm(self, p, f"alarm-dlq-{qname}-depth", f"dlq-{qname}-depth", namespace="AWS/SQS",
                             metric="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": dlq_names[qname]},
                             op=">", threshold=0.0, statistic="Maximum", period=300, actions=[warnings.arn],
                             missing="notBreaching", severity="warning",
                             description=f"Dead-letter queue {qname} has messages")

        # --- bus rules -> queues ----------------------------------------------------------------
        rules_by_queue: dict[str, list] = {q: [] for q in s.queues}
        rule_resources: dict[str, list] = {q: [] for q in s.queues}
        for rname, rule in s.rules.items():
            pattern: dict = {"source": list(rule.sources)}
            if rule.detail_types:
                pattern["detail-type"] = list(rule.detail_types)
            event_rule = aws.cloudwatch.EventRule(
                f"rule-{rname}", name=n.physical("eventbridge_rule", rname), event_bus_name=bus.name,
                description=rule.description, event_pattern=json.dumps(pattern), state="ENABLED",
                tags=p.tags(n.physical("eventbridge_rule", rname)), opts=child)
            aws.cloudwatch.EventTarget(
                f"rule-{rname}-target", rule=event_rule.name, event_bus_name=bus.name,
                arn=queues[rule.queue].arn,
                # Delivery that still fails after retries lands in the flow's DLQ, not on the floor.
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dlqs[rule.queue].arn),
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_event_age_in_seconds=86400,
                                                                       maximum_retry_attempts=185),
                opts=child)
            rules_by_queue[rule.queue].append(rule_arn(n.physical("eventbridge_rule", rname)))
            rule_resources[rule.queue].append(event_rule)

        # --- bus -> domain-events topic: the events its subscribers are notified of ----------------------
        # (without it the topic's subscribed queues are fed by nothing: their consumers never receive a message)
        if s.domain_events_consumed:
            types = list(s.domain_event_types)
            sources = sorted({src for r in s.rules.values() if set(r.detail_types) & set(types) for src in r.sources})
            domain_rule = aws.cloudwatch.EventRule(
                "rule-domain-events", name=domain_rule_name, event_bus_name=bus.name,
                description="domain events -> domain-events topic (fan-out to its subscribers)",
                event_pattern=json.dumps({"source": sources, "detail-type": types}), state="ENABLED",
                tags=p.tags(domain_rule_name), opts=child)
            aws.cloudwatch.EventTarget(
                "rule-domain-events-target", rule=domain_rule.name, event_bus_name=bus.name, arn=domain.arn,
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_event_age_in_seconds=86400,
                                                                       maximum_retry_attempts=185),
                opts=child)

        # --- domain-events topic -> queues (fan-out) ----------------------------------------------
        for qname in s.domain_event_queues:
            aws.sns.TopicSubscription(
                f"sub-domain-events-{qname}", topic=domain.arn, protocol="sqs", endpoint=queues[qname].arn,
                raw_message_delivery=True,
                redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlqs[qname].arn}),
                opts=child)

        # --- queue policies: TLS only, and exactly the rules/topic that feed each queue -----------
        def queue_policy(resource_name, url, target_arn, rules_sid, topic_sid, qname, feeders):
            writers = []
            if rules_by_queue[qname]:
                writers.append(allow_service_send(rules_sid, "events.amazonaws.com", target_arn, rules_by_queue[qname]))
            if qname in s.domain_event_queues:
                writers.append(allow_service_send(topic_sid, "sns.amazonaws.com", target_arn, [domain_arn]))
            aws.sqs.QueuePolicy(
                resource_name, queue_url=url,
                policy=policy_json(deny_insecure_transport("sqs:*", target_arn), *writers),
                opts=pulumi.ResourceOptions(parent=self, depends_on=feeders))

        for qname in s.queues:
            # The documents name their writers by derived ARN; depends_on keeps the graph edge to them.
            feeders = rule_resources[qname] + ([domain] if qname in s.domain_event_queues else [])
            queue_policy(f"queue-{qname}-policy", queues[qname].url, queue_arns[qname],
                         "EventBridgeRules", "DomainEventsTopic", qname, feeders)
            # The DLQ receives failed rule deliveries and failed topic deliveries from the same writers.
            queue_policy(f"queue-{qname}-dlq-policy", dlqs[qname].url, dlq_arns[qname],
                         "EventBridgeRulesDeadLetters", "DomainEventsDeadLetters", qname, feeders)

        # --- analytics stream -------------------------------------------------------------------
        stream = None
        if args.analytics_stream:
            stream_name = n.physical("kinesis", "analytics")
            provisioned = s.stream_mode == "PROVISIONED"
            stream = aws.kinesis.Stream(
                "analytics-stream", name=stream_name,
                stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode=s.stream_mode),
                shard_count=s.shard_count if provisioned else None,
                retention_period=s.stream_retention_hours,
                encryption_type="KMS", kms_key_id=args.data_key_arn,
                tags=p.tags(stream_name), opts=p.stateful(self))

        self.outputs = EventsOutputs(
            event_bus_name=bus.name, event_bus_arn=p.arn("events", f"event-bus/{bus_name}"),
            event_sources={t: tuple(sorted({src for r in s.rules.values() if t in r.detail_types for src in r.sources}))
                           for r0 in s.rules.values() for t in r0.detail_types}, queue_arns=queue_arns,
            queue_urls={k: v.url for k, v in queues.items()}, queue_names=names,
            dlq_arns={k: v.arn for k, v in dlqs.items()}, dlq_names=dlq_names, alerts_topic_arn=alerts.arn,
            domain_events_topic_arn=domain.arn, stream_name=stream.name if stream else None,
            stream_arn=stream.arn if stream else None, warnings_topic_arn=warnings.arn)
        publish(self, self.outputs)
