"""Every queue or topic something consumes has a producer (issue 24): an intended flow per consumed queue and
per subscribed topic, allowed when at least one producer can reach it along a path every hop of which is
allowed. A consumer polling a queue nothing sends to deploys and never does anything.

Producers, generically (any program): an EventBridge rule targeting it (itself fed by a schedule, by AWS
service events on the default bus, by S3 buckets sending to EventBridge, or by a role allowed
`events:PutEvents` on the rule's bus with a source and detail-type the rule matches), an SNS topic it is
subscribed to (itself produced to, recursively), S3 event notifications, CloudWatch alarms and budgets
naming a topic, and any role of the plan allowed `sqs:SendMessage` / `sns:Publish` on it (with the key).
Each hop is decided as the other flow groups decide it (resource policy with the request context AWS sends,
the key policy).
"""
from __future__ import annotations

from .iam import Unknown, Verdict, is_unknown, t_and
from .model import Role, loads

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
MAX_DEPTH = 4


def name_of(r) -> str:
    return "queue" if r.type == QUEUE else "topic"


def _path(checks) -> Verdict:
    allowed = t_and(v.allowed for _, v in checks)
    if allowed is True:
        return Verdict(True, "")
    label, v = next(((lbl, v) for lbl, v in checks if v.allowed is allowed), ("", Verdict(allowed, "")))
    return Verdict(allowed, f"{label}: {v.reason}")


class Producers:
    def __init__(self, c):
        self.c, self.m, self.ck = c, c.m, c.ck
        self._roles = [r for r in self.m.roles.values() if isinstance(r, Role)]

    # ------------------------------------------------------------------ what consumes
    def consumed(self) -> dict:
        """urn -> (resource, [consumer labels]): queues services consume (their contracts) or a Lambda event
        source mapping reads, and topics with a subscription."""
        c, m = self.c, self.m
        out: dict = {}

        def add(r, who):
            if r in (None, Unknown):
                return
            out.setdefault(r.urn, (r, []))[1].append(who)

        for rec in getattr(c, "_records", []):
            for key in (getattr(c, "_contracts", {}).get(rec["name"], {}).get("queues") or []):
                add(c.find_queue(key, rec["region"]), rec["name"])
        for esm in m.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
            add(m.ref(esm, "eventSourceArn", QUEUE), f"function {m.get(esm, 'functionName')}")
        for sub in m.of_type("aws:sns/topicSubscription:TopicSubscription"):
            add(m.ref(sub, "topic", TOPIC), f"{m.get(sub, 'protocol')} subscriber")
        return out

    # ------------------------------------------------------------------ who produces
    def rule_publishers(self, rule, depth) -> list:
        """[(label, Verdict)]: what puts events matching this rule on its bus."""
        m, ck = self.m, self.ck
        out = []
        if m.get(rule, "scheduleExpression"):
            out.append((f"schedule {m.get(rule, 'scheduleExpression')}", Verdict(True, "")))
        pat = loads(m.get(rule, "eventPattern"))
        if is_unknown(pat):
            return out + [("event pattern", Verdict(None, "unknown until apply"))]
        if not isinstance(pat, dict):
            return out
        bus_name = m.get(rule, "eventBusName") or "default"
        region = m.region_of(rule)
        sources = pat.get("source") or []
        details = [d for d in pat.get("detail-type") or [] if isinstance(d, str)]
        for src in sources:
            if not isinstance(src, str):
                continue
            if src == "aws.s3":
                names = ((pat.get("detail") or {}).get("bucket") or {}).get("name") or []
                for n in m.of_type("aws:s3/bucketNotification:BucketNotification"):
                    b = m.dep(n, "bucket") or m.bucket(m.get(n, "bucket"))
                    if b not in (None, Unknown) and m.get(n, "eventbridge") is True and \
                            (not names or m.get(b, "bucket") in names):
                        out.append((f"bucket {m.get(b, 'bucket')} (EventBridge notifications)",
                                    Verdict(bus_name == "default", "S3 sends to the default bus only")))
                continue
            if src.startswith("aws."):
                out.append((f"AWS service events ({src})", Verdict(bus_name == "default", "")
                            if bus_name == "default" else Verdict(False, "AWS services send to the default bus")))
                continue
            bus = next((b for b in self.c.in_region(m.of_type("aws:cloudwatch/eventBus:EventBus"), region)
                        if m.get(b, "name") == bus_name), None)
            bus_arn = m.arn(bus) if bus is not None else \
                f"arn:aws:events:{region}:{m.account}:event-bus/{bus_name}"
            for dt in details or ["(any detail-type)"]:
                ctx = {"events:source": src}
                if details:
                    ctx["events:detail-type"] = dt
                for role in ck.roles_that_may(self._roles, "events:PutEvents", bus_arn):
                    # a grant is a producer when it decides: an opaque (unmodelled) managed policy is no evidence
                    v = ck.role_can(role, "events:PutEvents", bus_arn, ctx)
                    if v.allowed is True:
                        out.append((f"{role.name} events:PutEvents ({src}, {dt})", v))
        return out

    def producers(self, target, depth=0, seen=frozenset()) -> list:
        """[(path label, Verdict)] of every way something sends to `target` (a queue or topic)."""
        c, m, ck = self.c, self.m, self.ck
        if depth > MAX_DEPTH or target.urn in seen:
            return []
        seen = seen | {target.urn}
        tarn = m.arn(target)
        is_queue = target.type == QUEUE
        out = []

        def deliver(service, source_arn):
            return c.sqs_send_checks(service, target, source_arn) if is_queue else \
                c.sns_publish_checks(service, target, source_arn)

        # EventBridge rules targeting it
        for t in m.of_type("aws:cloudwatch/eventTarget:EventTarget"):
            if m.dep(t, "arn") is not target and (is_unknown(tarn) or m.get(t, "arn") != tarn):
                continue
            rule = c.rule_for(m.get(t, "rule"), m.get(t, "eventBusName"), m.region_of(t))
            if rule is None:
                continue
            hop = _path(deliver("events.amazonaws.com", m.arn(rule)))
            for label, v in self.rule_publishers(rule, depth):
                out.append((f"{label} -> rule {m.get(rule, 'name')}", _path([("publisher", v), ("delivery", hop)])))
            if not out:
                out.append((f"rule {m.get(rule, 'name')}", Verdict(False, "nothing puts events the rule matches on "
                                                                         f"bus {m.get(rule, 'eventBusName') or 'default'}")))
        # SNS topics it is subscribed to
        if is_queue:
            for sub in m.of_type("aws:sns/topicSubscription:TopicSubscription"):
                if m.get(sub, "protocol") != "sqs" or m.ref(sub, "endpoint", QUEUE) is not target:
                    continue
                topic = m.ref(sub, "topic", TOPIC)
                if topic in (None, Unknown):
                    continue
                hop = _path(deliver("sns.amazonaws.com", m.arn(topic)))
                ups = self.producers(topic, depth + 1, seen)
                if not ups:
                    out.append((f"topic {m.get(topic, 'name')}", Verdict(False, "nothing publishes to the topic")))
                for label, v in ups:
                    out.append((f"{label} -> topic {m.get(topic, 'name')}", _path([("publisher", v), ("delivery", hop)])))
        # S3 event notifications
        for n in m.of_type("aws:s3/bucketNotification:BucketNotification"):
            key, arn_key = ("queues", "queueArn") if is_queue else ("topics", "topicArn")
            for entry in m.get(n, key) or []:
                if isinstance(entry, dict) and not is_unknown(tarn) and entry.get(arn_key) == tarn:
                    b = m.dep(n, "bucket") or m.bucket(m.get(n, "bucket"))
                    barn = m.arn(b) if b not in (None, Unknown) else Unknown
                    out.append((f"bucket {m.get(n, 'bucket')} notifications", _path(deliver("s3.amazonaws.com", barn))))
        # alarms and budgets naming the topic
        if not is_queue and not is_unknown(tarn):
            for a in m.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"):
                if tarn in [x for k in ("alarmActions", "okActions", "insufficientDataActions") for x in m.get(a, k) or []]:
                    aarn = m.arn(a) or f"arn:aws:cloudwatch:{m.region_of(a)}:{m.account}:alarm:{m.get(a, 'name')}"
                    out.append((f"alarm {m.get(a, 'name')}", _path(deliver("cloudwatch.amazonaws.com", aarn))))
                    break
            for bud in m.of_type("aws:budgets/budget:Budget"):
                if any(tarn in (nt.get("subscriberSnsTopicArns") or []) for nt in m.get(bud, "notifications") or []):
                    barn = f"arn:aws:budgets::{m.account}:budget/{m.get(bud, 'name')}"
                    out.append((f"budget {m.get(bud, 'name')}", _path(deliver("budgets.amazonaws.com", barn))))
        # roles granted to send or publish
        action = "sqs:SendMessage" if is_queue else "sns:Publish"
        service = "sqs" if is_queue else "sns"
        ctx_key = "kms:EncryptionContext:aws:sqs:arn" if is_queue else "kms:EncryptionContext:aws:sns:topicArn"
        if is_unknown(tarn):
            return out + [(f"{action} grants", Verdict(None, f"the {name_of(target)} ARN is unknown until apply"))]
        for role in ck.roles_that_may(self._roles, action, tarn):
            v = ck.role_can(role, action, tarn)
            if v.allowed is not True:   # an opaque (unmodelled) managed policy is no evidence of a producer
                continue
            kv = ck.kms_use(role.principal(), m.get(target, "kmsMasterKeyId"), ["kms:GenerateDataKey"],
                            {"kms:ViaService": f"{service}.{m.region_of(target)}.amazonaws.com",
                             "kms:CallerAccount": m.account, ctx_key: tarn}, role=role)
            out.append((f"{role.name} {action}", _path([(action, v), ("key", kv)])))
        return out

    def run(self):
        c, m = self.c, self.m
        for _, (r, consumers) in sorted(self.consumed().items(), key=lambda kv: (
                c.m.region_of(kv[1][0]) != c.primary, str(m.get(kv[1][0], "name")))):
            kind = "queue" if r.type == QUEUE else "topic"
            paths = self.producers(r)
            allowed = [lbl for lbl, v in paths if v.allowed is True]
            if allowed:
                v = Verdict(True, "fed by " + "; ".join(allowed[:3]) + (f" (+{len(allowed) - 3})" if len(allowed) > 3 else ""))
            elif any(v.allowed is None for _, v in paths):
                lbl, u = next((lbl, v) for lbl, v in paths if v.allowed is None)
                v = Verdict(None, f"{lbl}: {u.reason}")
            else:
                tried = "; ".join(f"{lbl} ({v.reason})" for lbl, v in paths[:3])
                v = Verdict(False, f"nothing sends to the {kind}" + (f": {tried}" if tried else
                                                                      ": no rule, subscription, notification or grant"))
            who = ", ".join(sorted(set(consumers)))
            c.add("a producer", f"{kind} {m.get(r, 'name')}{c.where(r)} (consumed by {who})",
                  "sqs:SendMessage" if kind == "queue" else "sns:Publish", "allow", [("producer", v)], "events")


def producers(c):
    Producers(c).run()
