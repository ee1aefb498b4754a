"""Event and notification flows: EventBridge targets, S3 -> EventBridge, SNS -> SQS, alarms and budgets -> topics."""
from __future__ import annotations

from . import iam
from .common import FlowHost
from .iam import Unknown, Verdict, is_unknown, t_and
from .model import loads


class MessagingFlows(FlowHost):
    """Mixed into catalogue.Catalogue (self.m model, self.ck checker, self.add)."""

    # ------------------------------------------------------------------ events
    def rule_for(self, name, bus_name, region=None):
        """The rule of that name on that bus (in `region`: the DR region has rules of the same names)."""
        m = self.m
        for r in m.of_type("aws:cloudwatch/eventRule:EventRule"):
            if m.get(r, "name") == name and (m.get(r, "eventBusName") or "default") == (bus_name or "default") \
                    and (region is None or m.region_of(r) == region):
                return r
        return None

    def where(self, r) -> str:
        """' (DR <region>)' for a resource outside the primary region: the DR instances reuse the names."""
        region = self.m.region_of(r)
        return "" if region == self.primary else f" (DR {region})"

    def sqs_send_checks(self, principal_service, q, source_arn, extra_ctx=None) -> list:
        m = self.m
        qarn = m.arn(q)
        ctx = {"aws:SourceArn": source_arn, "aws:SourceAccount": m.account, **(extra_ctx or {})}
        p = iam.service_principal(principal_service)
        checks = [(f"{principal_service} sqs:SendMessage", self.ck.request(p, "sqs:SendMessage", qarn, ctx))]
        checks.append(("queue key", self.ck.kms_use(p, m.get(q, "kmsMasterKeyId"), ["kms:GenerateDataKey", "kms:Decrypt"],
                                                    {**ctx, "kms:EncryptionContext:aws:sqs:arn": qarn})))
        return checks

    def events(self):
        m = self.m
        for t in m.of_type("aws:cloudwatch/eventTarget:EventTarget"):
            rule = self.rule_for(m.get(t, "rule"), m.get(t, "eventBusName"), m.region_of(t))
            rarn = m.arn(rule) if rule is not None else Unknown
            rname = m.get(t, "rule")
            tarn = m.get(t, "arn")
            target = m.find(tarn)
            src = f"EventBridge rule {rname}{self.where(t)}"
            if target is Unknown or target is None:
                self.add(src, str(tarn), "deliver", "allow", [("target", Verdict(None if target is Unknown else False,
                                                                              "target not in the plan"))], "events")
                continue
            if target.type == "aws:sqs/queue:Queue":
                self.add(src, f"queue {m.get(target, 'name')}", "sqs:SendMessage", "allow",
                         self.sqs_send_checks("events.amazonaws.com", target, rarn), "events")
            elif target.type == "aws:lambda/function:Function":
                p = iam.service_principal("events.amazonaws.com")
                v = self.ck.request(p, "lambda:InvokeFunction", m.arn(target),
                                    {"aws:SourceArn": rarn, "aws:SourceAccount": m.account})
                self.add(src, f"function {m.get(target, 'name')}", "lambda:InvokeFunction", "allow",
                         [("events.amazonaws.com lambda:InvokeFunction", v)], "events")
            elif target.type == "aws:sns/topic:Topic":
                self.add(src, f"topic {m.get(target, 'name')}", "sns:Publish", "allow",
                         self.sns_publish_checks("events.amazonaws.com", target, rarn), "events")
            else:
                role = m.role_by_arn(m.get(t, "roleArn"))
                checks = [("trust", self.ck.trust(role, "events.amazonaws.com"))]
                self.add(src, f"{target.type.split(':')[-1]} {target.name}", "deliver (role)", "allow", checks, "events")
            dlq = (m.get(t, "deadLetterConfig") or {}).get("arn")
            if dlq:
                q = m.find(dlq, "aws:sqs/queue:Queue")
                if q not in (None, Unknown):
                    self.add(src, f"dead-letter queue {m.get(q, 'name')}", "sqs:SendMessage", "allow",
                             self.sqs_send_checks("events.amazonaws.com", q, rarn), "events")

    def s3_to_eventbridge(self):
        m = self.m
        enabled = {}
        for n in m.of_type("aws:s3/bucketNotification:BucketNotification"):
            b = m.bucket(m.get(n, "bucket")) if m.dep(n, "bucket") is None else m.dep(n, "bucket")
            if b not in (None, Unknown) and m.get(n, "eventbridge") is True:
                enabled[b.urn] = n
        for r in m.of_type("aws:cloudwatch/eventRule:EventRule"):
            pat = loads(m.get(r, "eventPattern"))
            if not isinstance(pat, dict) or "aws.s3" not in (pat.get("source") or []):
                continue
            names = ((pat.get("detail") or {}).get("bucket") or {}).get("name") or []
            bus = m.get(r, "eventBusName") or "default"
            for name in names:
                b = m.bucket(name)
                checks = [("notification", Verdict(True, "EventBridge notifications on") if b not in (None, Unknown)
                           and b.urn in enabled else Verdict(False, "the bucket does not send events to EventBridge"))]
                checks.append(("bus", Verdict(bus == "default", "S3 events arrive on the default bus" if bus == "default"
                                              else f"rule is on bus {bus}; S3 sends to the default bus only")))
                self.add(f"bucket {name}", f"EventBridge rule {m.get(r, 'name')}", "s3 event -> EventBridge", "allow",
                         checks, "events")
        for urn, _n in enabled.items():
            b = m.by_urn[urn]
            if not any(f.source == f"bucket {m.get(b, 'bucket')}" for f in self.flows):
                self.add(f"bucket {m.get(b, 'bucket')}", "EventBridge default bus", "s3 event -> EventBridge", "allow",
                         [("notification", Verdict(True, "EventBridge notifications on"))], "events")

    def sns_publish_checks(self, service, topic, source_arn) -> list:
        m = self.m
        tarn = m.arn(topic)
        p = iam.service_principal(service)
        ctx = {"aws:SourceArn": source_arn, "aws:SourceAccount": m.account}
        checks = [(f"{service} sns:Publish", self.ck.request(p, "sns:Publish", tarn, ctx))]
        checks.append(("topic key", self.ck.kms_use(p, m.get(topic, "kmsMasterKeyId"), ["kms:GenerateDataKey", "kms:Decrypt"],
                                                    {**ctx, "kms:EncryptionContext:aws:sns:topicArn": tarn})))
        return checks

    def sns_to_sqs(self):
        m = self.m
        for sub in m.of_type("aws:sns/topicSubscription:TopicSubscription"):
            if m.get(sub, "protocol") != "sqs":
                continue
            topic = m.ref(sub, "topic", "aws:sns/topic:Topic")
            q = m.ref(sub, "endpoint", "aws:sqs/queue:Queue")
            tarn = m.arn(topic) if topic not in (None, Unknown) else m.get(sub, "topic")
            if q in (None, Unknown):
                self.add(f"topic {tarn}", str(m.get(sub, "endpoint")), "sqs:SendMessage", "allow",
                         [("queue", Verdict(None if q is Unknown else False, "queue not in the plan"))], "events")
                continue
            tname = (m.get(topic, "name") + self.where(topic)) if topic not in (None, Unknown) else tarn
            self.add(f"topic {tname}", f"queue {m.get(q, 'name')}", "sqs:SendMessage", "allow",
                     self.sqs_send_checks("sns.amazonaws.com", q, tarn), "events")
            redrive = loads(m.get(sub, "redrivePolicy"))
            if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
                dq = m.find(redrive["deadLetterTargetArn"], "aws:sqs/queue:Queue")
                if dq not in (None, Unknown):
                    self.add(f"topic {tname}", f"dead-letter queue {m.get(dq, 'name')}", "sqs:SendMessage", "allow",
                             self.sqs_send_checks("sns.amazonaws.com", dq, tarn), "events")

    # ------------------------------------------------------------------ alarms and budgets
    def alerts(self):
        m = self.m
        by_topic: dict[str, list] = {}
        for a in m.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"):
            for key in ("alarmActions", "okActions", "insufficientDataActions"):
                for act in m.get(a, key) or []:
                    if isinstance(act, str) and act.startswith("arn:aws:sns:") or is_unknown(act):
                        by_topic.setdefault(act, [])
                        if a not in by_topic[act]:
                            by_topic[act].append(a)
        notified = set()
        for tarn, alarms in by_topic.items():
            topic = m.find(tarn, "aws:sns/topic:Topic")
            if topic in (None, Unknown):
                self.add(f"{len(alarms)} CloudWatch alarms", str(tarn), "sns:Publish", "allow",
                         [("topic", Verdict(None if topic is Unknown else False, "topic not in the plan"))], "alerts")
                continue
            notified.add(topic.urn)
            checks = []
            for a in alarms:
                region = m.region_of(a)
                aarn = m.arn(a) or f"arn:aws:cloudwatch:{region}:{m.account}:alarm:{m.get(a, 'name')}"
                cs = self.sns_publish_checks("cloudwatch.amazonaws.com", topic, aarn)
                v = Verdict(t_and(c.allowed for _, c in cs), "")
                if v.allowed is not True:
                    bad = next((lbl, c) for lbl, c in cs if c.allowed is v.allowed)
                    checks.append((f"alarm {m.get(a, 'name')}", Verdict(v.allowed, f"{bad[0]}: {bad[1].reason}")))
                    break
            if not checks:
                checks.append(("alarms", Verdict(True, f"cloudwatch.amazonaws.com may publish for all {len(alarms)} alarms "
                                                       "(topic policy and key policy)")))
            self.add(f"{len(alarms)} CloudWatch alarms", f"topic {m.get(topic, 'name')}{self.where(topic)}", "sns:Publish",
                     "allow", checks, "alerts")
        for bud in m.of_type("aws:budgets/budget:Budget"):
            arns = set()
            for n in m.get(bud, "notifications") or []:
                arns |= set(n.get("subscriberSnsTopicArns") or [])
            for tarn in sorted(arns, key=str):
                topic = m.find(tarn, "aws:sns/topic:Topic")
                if topic in (None, Unknown):
                    continue
                notified.add(topic.urn)
                barn = f"arn:aws:budgets::{m.account}:budget/{m.get(bud, 'name')}"
                self.add(f"budget {m.get(bud, 'name')}", f"topic {m.get(topic, 'name')}", "sns:Publish", "allow",
                         self.sns_publish_checks("budgets.amazonaws.com", topic, barn), "alerts")
        for urn in notified:
            topic = m.by_urn[urn]
            tarn = m.arn(topic)
            subs = [s for s in m.of_type("aws:sns/topicSubscription:TopicSubscription")
                    if m.dep(s, "topic") is topic or m.get(s, "topic") == tarn]
            what = ", ".join(sorted({str(m.get(s, "protocol")) for s in subs}))
            self.add(f"topic {m.get(topic, 'name')}{self.where(topic)}", "a subscriber", "notify", "allow",
                     [("subscription", Verdict(True, f"subscribed: {what}") if subs
                       else Verdict(False, "the topic has no subscriber: alarms and budgets tell nobody"))], "alerts")
