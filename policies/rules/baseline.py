"""The account baseline in every region a stack runs in: a stack that builds the per-region singletons (the
Config recorder, GuardDuty, EBS encryption by default) builds them in each region its resources live in, not
only in the primary (CIS 3.3 "AWS Config enabled in all regions", FSBP GuardDuty.1 "GuardDuty should be
enabled", CIS 2.2.1 "EBS volume encryption is enabled in all regions")."""
from __future__ import annotations

from pulumi_policy import Severity
from pulumi_policy.proxy import UnknownValueError

from ._lib import ANY_AWS, cis, get, stack_policy

RECORDER = "aws:cfg/recorder:Recorder"
DETECTOR = "aws:guardduty/detector:Detector"
EBS_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
BASELINE = {RECORDER: "an AWS Config recorder", DETECTOR: "a GuardDuty detector",
            EBS_DEFAULT: "EBS encryption by default"}
# Resources that put workloads or data in a region (a provider or a log group alone does not).
REGIONAL_PREFIXES = ("aws:ec2/", "aws:rds/", "aws:elasticache/", "aws:ecs/", "aws:s3/bucket:", "aws:dynamodb/",
                     "aws:lambda/function:", "aws:eks/", "aws:docdb/", "aws:sqs/queue:", "aws:batch/")


def region_of(resource) -> str | None:
    """The region a resource is created in: its own `region` input (pulumi-aws 7), else its provider's."""
    try:
        own = get(resource.props, "region")
    except UnknownValueError:
        own = None
    if own:
        return str(own)
    provider = getattr(resource, "provider", None)
    if provider is None:
        return None
    try:
        return get(provider.props, "region")
    except UnknownValueError:
        return None


def _every_region(resources, report, args):
    present: dict[str, set] = {t: set() for t in BASELINE}
    regions: dict[str, str] = {}
    for r in resources:
        region = region_of(r)
        if region is None:
            continue
        if r.resource_type in BASELINE:
            present[r.resource_type].add(region)
        elif r.resource_type.startswith(REGIONAL_PREFIXES):
            regions.setdefault(region, r.urn)
    if not any(present.values()):
        return  # this stack does not own the account baseline (another stack of the account does)
    for region, example in sorted(regions.items()):
        missing = [what for t, what in BASELINE.items() if region not in present[t]]
        if missing:
            report(f"the stack runs in {region} but builds the account baseline without {', '.join(missing)} "
                   f"there.", example)


POLICIES = [
    stack_policy(
        "account-baseline-every-region", "A stack that owns the account baseline builds the Config recorder, "
        "GuardDuty and EBS encryption by default in every region its resources are in.", _every_region,
        severity=Severity.HIGH, framework=cis("3.3"),
        remediation="Build the region's singletons through that region's provider (components/governance.py "
                    "RegionBaseline for the DR region).",
        tags=["governance", "detection", "fsbp:Config.1", "fsbp:GuardDuty.1", "cis:2.2.1"],
        types=ANY_AWS),
]
