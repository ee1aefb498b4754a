"""CloudTrail: multi-region trails with log file validation and KMS encryption."""
from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import Severity

from ._lib import cis, flag, get, resource_policy, stack_policy
from ._shared import has_key

TRAIL = "aws:cloudtrail/trail:Trail"


def _trail(props, report, args):
    if flag(props, "isMultiRegionTrail") is not True:
        report("isMultiRegionTrail must be true (one trail records every region).")
    if flag(props, "enableLogFileValidation") is not True:
        report("enableLogFileValidation must be true (digest files prove the logs were not altered).")
    if flag(props, "includeGlobalServiceEvents", True) is False:
        report("includeGlobalServiceEvents must not be false (IAM, STS and CloudFront events are global).")
    if not has_key(props, "kmsKeyId"):
        report("kmsKeyId must be set: trail log files are encrypted with a customer managed KMS key.")


FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# CIS AWS Foundations Benchmark v3.0.0 section 4: the events each control's metric filter must match (every token
# must appear in the filter pattern; the benchmark's own patterns contain them).
CIS_MONITORING: dict[str, tuple[str, ...]] = {
    "4.1": ("UnauthorizedOperation", "AccessDenied"), "4.2": ("ConsoleLogin", "MFAUsed"),
    "4.3": ("Root", "invokedBy"), "4.4": ("PutRolePolicy", "AttachRolePolicy", "CreatePolicyVersion"),
    "4.5": ("StopLogging", "DeleteTrail"), "4.6": ("ConsoleLogin", "Failed authentication"),
    "4.7": ("DisableKey", "ScheduleKeyDeletion"), "4.8": ("PutBucketPolicy", "PutBucketAcl"),
    "4.9": ("StopConfigurationRecorder", "DeleteDeliveryChannel"),
    "4.10": ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress"),
    "4.11": ("CreateNetworkAclEntry", "ReplaceNetworkAclAssociation"),
    "4.12": ("CreateCustomerGateway", "AttachInternetGateway"), "4.13": ("CreateRoute", "ReplaceRouteTableAssociation"),
    "4.14": ("CreateVpc", "ModifyVpcAttribute"), "4.15": ("organizations.amazonaws.com", "LeaveOrganization"),
}


def _has_actions(actions) -> bool:
    """Whether an alarm lists any action. Counted, not read: in a new stack's preview the topic's ARN is unknown,
    and how many actions there are is already known (reading the first ARN left the rule unable to run there)."""
    if isinstance(actions, Sequence) and not isinstance(actions, str):
        return len(actions) > 0
    return bool(actions)


def _cis_monitoring(resources, report, args):
    """A trail delivering to CloudWatch Logs has, per CIS 4.x control, a metric filter matching its events and an
    alarm with an action on that filter's metric."""
    trails = [r for r in resources if r.resource_type == TRAIL and has_key(r.props, "cloudWatchLogsGroupArn")]
    if not trails:
        return
    alarms = {(get(a.props, "namespace"), get(a.props, "metricName")) for a in resources
              if a.resource_type == ALARM and _has_actions(get(a.props, "alarmActions"))}
    covered = set()
    for f in resources:
        if f.resource_type != FILTER:
            continue
        pattern = str(get(f.props, "pattern") or "")
        metric = (get(f.props, "metricTransformation.namespace"), get(f.props, "metricTransformation.name"))
        if metric not in alarms:
            continue
        covered |= {c for c, tokens in CIS_MONITORING.items() if all(t in pattern for t in tokens)}
    missing = [c for c in CIS_MONITORING if c not in covered]
    if missing:
        report(f"trail {trails[0].name} delivers to CloudWatch Logs but no metric filter with an alarm that notifies "
               f"covers CIS {', '.join(missing)}.", trails[0].urn)


POLICIES = [
    stack_policy(
        "cloudtrail-cis-metric-alarms", "A trail delivering to CloudWatch Logs has the CIS monitoring metric filters "
        "(4.1-4.15) on its events, each with an alarm that notifies.", _cis_monitoring, severity=Severity.MEDIUM,
        framework=cis("4.1"),
        remediation="components/governance.py cis_metric_alarms: one LogMetricFilter per control on the trail's log "
                    "group (the benchmark's pattern) and a MetricAlarm (Sum >= 1) with an SNS action.",
        tags=["logging", "audit", "detection", *[f"cis:{c}" for c in CIS_MONITORING if c != "4.1"]],
        types=(TRAIL, FILTER, ALARM)),
    resource_policy(
        "cloudtrail-multi-region-validated-encrypted",
        "CloudTrail trails must be multi-region, include global events, validate log files and use KMS.",
        (TRAIL,), _trail, severity=Severity.HIGH, framework=cis("3.1"),
        remediation="Set isMultiRegionTrail, includeGlobalServiceEvents and enableLogFileValidation to true and "
                    "kmsKeyId to a customer managed key whose policy grants cloudtrail.amazonaws.com.",
        tags=["checkov:CKV_AWS_35", "checkov:CKV_AWS_36", "checkov:CKV_AWS_67",
              "logging", "audit", "encryption", "cis:3.2", "cis:3.5", "fsbp:CloudTrail.1", "fsbp:CloudTrail.2",
              "fsbp:CloudTrail.4"]),
]
