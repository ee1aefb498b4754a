"""EC2: instances, launch templates, EBS volumes, snapshots and AMIs (encryption, IMDSv2, public IPs,
instance types, monitoring)."""
from __future__ import annotations

import fnmatch

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import nist
from ._lib import as_bool, cis, flag, fsbp, get, items, resource_policy, stack_policy

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

INSTANCE = "aws:ec2/instance:Instance"


def _imdsv2(props, report, args):
    if get(props, "metadataOptions.httpTokens") != "required":
        report("metadataOptions.httpTokens must be 'required' (IMDSv2 only: blocks SSRF credential theft).")
    if get(props, "metadataOptions.httpEndpoint") == "disabled":
        return
    hops = get(props, "metadataOptions.httpPutResponseHopLimit")
    if isinstance(hops, (int, float)) and hops > 2:
        report(f"metadataOptions.httpPutResponseHopLimit {hops} lets containers reach the instance role; use 1 or 2.")


def _ebs_encrypted(props, report, args):
    if args.resource_type == LAUNCH_TEMPLATE:
        mappings = items(get(props, "blockDeviceMappings"))
        volumes = [m for m in mappings if get(m, "ebs") is not None]
        if not volumes:
            report("no blockDeviceMappings with ebs: the AMI's volumes are used as they are (unencrypted unless the "
                   "account encrypts by default); declare the root volume with encrypted 'true'.")
        for m in volumes:
            if not as_bool(get(m, "ebs.encrypted")):
                report(f"blockDeviceMappings {get(m, 'deviceName')}: ebs.encrypted must be true.")
        return
    if not as_bool(get(props, "rootBlockDevice.encrypted")):
        report("rootBlockDevice.encrypted must be true.")
    for i, dev in enumerate(items(get(props, "ebsBlockDevices"))):
        if not as_bool(get(dev, "encrypted")):
            report(f"ebsBlockDevices[{i}] ({get(dev, 'deviceName')}) must be encrypted.")


LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"

VOLUME = "aws:ebs/volume:Volume"

ENCRYPTION_BY_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"

SNAPSHOT_BLOCK_PUBLIC = "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess"

SNAPSHOT_PERMISSION = "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission"

AMI_PERMISSION = "aws:ec2/amiLaunchPermission:AmiLaunchPermission"

# Current-generation families; previous generations (t2, m4, c4, r4, p2, p3, ...) cost more per unit of work.
DEFAULT_INSTANCE_TYPES = ["t3.*", "t3a.*", "t4g.*", "m5.*", "m5a.*", "m6i.*", "m6a.*", "m6g.*", "m7i.*", "m7g.*",
                          "c5.*", "c6i.*", "c6a.*", "c6g.*", "c7i.*", "c7g.*", "r5.*", "r6i.*", "r6g.*", "r7i.*",
                          "r7g.*", "g4dn.*", "g5.*", "g6.*", "g6e.*", "p4d.*", "p5.*", "inf2.*", "trn1.*"]

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"

BATCH_COMPUTE = "aws:batch/computeEnvironment:ComputeEnvironment"

# Batch lets AWS choose; these are not instance types to judge.
BATCH_CHOICES = ("optimal", "default_x86_64", "default_arm64")


def _volume_encrypted(props, report, args):
    if flag(props, "encrypted") is not True:
        report("encrypted must be true (a volume created from an encrypted snapshot still needs encrypted=True "
               "to be checked statically).")
        return
    wanted = (args.get_config() or {}).get("kmsKeyId") or ""
    if wanted and get(props, "kmsKeyId") != wanted:
        report(f"kmsKeyId must be the configured key {wanted}.")


def _encryption_by_default(props, report, args):
    if flag(props, "enabled", True) is not True:
        report("enabled must be true: new volumes in this region would otherwise be created unencrypted.")


def _snapshot_public(props, report, args):
    if args.resource_type == SNAPSHOT_BLOCK_PUBLIC:
        if get(props, "state") == "unblocked":
            report("state 'unblocked' lets snapshots be shared publicly; use 'block-all-sharing' or "
                   "'block-new-sharing'.")
        return
    account = get(props, "accountId")
    allowed = list((args.get_config() or {}).get("allowedAccountIds", []))
    if account == "all":
        report("accountId 'all' makes the snapshot public.")
    elif allowed and account not in allowed:
        report(f"snapshot shared with account {account}, not in allowedAccountIds.")


def _ami_public(props, report, args):
    if get(props, "group") == "all":
        report("group 'all' makes the AMI public.")
    account = get(props, "accountId")
    allowed = list((args.get_config() or {}).get("allowedAccountIds", []))
    if account and allowed and account not in allowed:
        report(f"AMI shared with account {account}, not in allowedAccountIds.")


SUBNET = "aws:ec2/subnet:Subnet"


def _public_ip_flags(props, resource_type) -> list[str]:
    out = []
    if resource_type in (INSTANCE, LAUNCH_CONFIGURATION):
        if as_bool(get(props, "associatePublicIpAddress")):
            out.append("associatePublicIpAddress must not be true; reach instances through a load balancer or SSM.")
    if resource_type in (INSTANCE, LAUNCH_TEMPLATE):
        for i, nic in enumerate(items(get(props, "networkInterfaces"))):
            if as_bool(get(nic, "associatePublicIpAddress")):
                out.append(f"networkInterfaces[{i}].associatePublicIpAddress must not be true.")
    return out


def _no_public_ip(resources, report, args):
    """The public IP an instance asks for, and the one its subnet gives it (issue 27): an instance that does not
    say associatePublicIpAddress=False gets one in a subnet with mapPublicIpOnLaunch (joined by the subnetId's
    dependency, so it holds in a preview), and in the default VPC's default subnets when it names no subnet."""
    from ._lib import depends_on
    from ._shared import present
    subnets = [r for r in resources if r.resource_type == SUBNET]
    for r in resources:
        if r.resource_type not in (INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION):
            continue
        for problem in _public_ip_flags(r.props, r.resource_type):
            report(problem, r.urn)
        keys = set(iter(r.props))
        if r.resource_type != INSTANCE or "associatePublicIpAddress" in keys \
                or ("networkInterfaces" in keys and items(get(r.props, "networkInterfaces"))):
            continue          # an explicit answer (checked above), or interfaces that carry their own
        public = [s for s in subnets if depends_on(r, s, "subnetId") and flag(s.props, "mapPublicIpOnLaunch") is True]
        if public:
            report(f"subnet {public[0].name} assigns public IPs on launch (mapPublicIpOnLaunch) and the instance "
                   f"does not set associatePublicIpAddress=False: it gets a public IP.", r.urn)
        elif not present(r.props, "subnetId") and not present(r.props, "launchTemplate"):
            report("no subnetId: the instance launches into the default VPC's default subnet, which assigns "
                   "public IPs; name a private subnet (or set associatePublicIpAddress=False).", r.urn)


def _monitoring(props, report, args):
    if args.resource_type == INSTANCE and flag(props, "monitoring") is not True:
        report("monitoring must be true (1-minute CloudWatch metrics).")
    elif args.resource_type == LAUNCH_TEMPLATE and flag(props, "monitoring.enabled") is not True:
        report("monitoring.enabled must be true.")
    elif args.resource_type == LAUNCH_CONFIGURATION and flag(props, "enableMonitoring", True) is not True:
        report("enableMonitoring must not be false.")


def _volume_inuse(props, report, args):
    """awsguard ec2-volume-inuse: volumes must go away with the instance (no orphaned, billed volumes).
    The provider defaults deleteOnTermination to true, so only an explicit false fails."""
    if not (args.get_config() or {}).get("checkDeletion", True):
        return
    if flag(props, "rootBlockDevice.deleteOnTermination", True) is not True:
        report("rootBlockDevice.deleteOnTermination must not be false.")
    for i, dev in enumerate(items(get(props, "ebsBlockDevices"))):
        if flag(dev, "deleteOnTermination", True) is not True:
            report(f"ebsBlockDevices[{i}].deleteOnTermination must not be false.")


def _type_allowed(value: str, allowed: list) -> bool:
    value = str(value)
    if "." not in value:  # a family (Batch): allowed when its patterns allow the whole family
        return any(pattern == f"{value}.*" for pattern in allowed)
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in allowed)


def _instance_type(props, report, args):
    allowed = list((args.get_config() or {}).get("allowedInstanceTypes", DEFAULT_INSTANCE_TYPES))
    if not allowed:
        args.not_applicable("allowedInstanceTypes is empty: every instance type is allowed")
    if args.resource_type == NODE_GROUP:
        values = items(get(props, "instanceTypes"))
    elif args.resource_type == BATCH_COMPUTE:
        values = [v for v in items(get(props, "computeResources.instanceTypes")) if v not in BATCH_CHOICES]
    else:
        values = [get(props, "instanceType")] if get(props, "instanceType") is not None else []
    if not values and args.resource_type == LAUNCH_TEMPLATE:
        args.not_applicable("the launch template leaves the instance type to its user")
    for value in values:
        if not _type_allowed(value, allowed):
            report(f"instance type {value} is not in allowedInstanceTypes ({', '.join(allowed)}).")


POLICIES = [
    resource_policy(
        "ec2-imdsv2-required", "Instances and launch templates must require IMDSv2.", (LAUNCH_TEMPLATE, INSTANCE),
        _imdsv2, severity=Severity.HIGH, framework=fsbp("EC2.8"),
        remediation="metadata_options={http_tokens: 'required', http_put_response_hop_limit: 1 (2 for containers "
                    "that need IMDS)}.", tags=["ec2", "hardening", "checkov:CKV_AWS_79"]),
    resource_policy(
        "ebs-encrypted", "Instance and launch-template volumes must be encrypted.", (LAUNCH_TEMPLATE, INSTANCE),
        _ebs_encrypted, severity=Severity.HIGH, framework=fsbp("EC2.3"),
        remediation="Launch template: block_device_mappings[].ebs.encrypted='true'; instance: root_block_device and "
                    "ebs_block_devices with encrypted=True.",
        tags=["ec2", "encryption", "awsguard:encrypted-volumes", "checkov:CKV_AWS_8",
              "compliance-policies:aws-ec2-instance-disallow-unencrypted-block-device",
              "compliance-policies:aws-ec2-instance-disallow-unencrypted-root-block-device",
              "compliance-policies:aws-ec2-launchtemplate-disallow-unencrypted-block-device"]),
    resource_policy(
        "ebs-volume-encrypted", "EBS volumes must be encrypted at rest.", (VOLUME,), _volume_encrypted,
        severity=Severity.HIGH, framework=cis("2.2.1"),
        remediation="Set encrypted=True and kmsKeyId to a customer managed key.",
        tags=["compliance-policies:aws-ebs-volume-disallow-unencrypted-volume",
              "encryption", "ebs", "awsguard:encrypted-volumes", "checkov:CKV_AWS_3", "cdk-nag:AwsSolutions-EC26"],
        config_schema=PolicyConfigSchema(properties={
            "kmsKeyId": {"type": "string", "default": "",
                         "description": "if set, volumes must use exactly this key (awsguard kmsId)"}})),
    resource_policy(
        "ebs-encryption-by-default", "EBS encryption by default must stay enabled for the account and region.",
        (ENCRYPTION_BY_DEFAULT,), _encryption_by_default, severity=Severity.HIGH, framework=cis("2.2.1"),
        remediation="Declare aws.ebs.EncryptionByDefault(enabled=True) once per account and region.",
        tags=["encryption", "ebs", "fsbp:EC2.7"]),
    resource_policy(
        "ebs-snapshot-not-public", "EBS snapshots must not be shared publicly or with unapproved accounts.",
        (SNAPSHOT_BLOCK_PUBLIC, SNAPSHOT_PERMISSION), _snapshot_public, severity=Severity.CRITICAL,
        framework=fsbp("EC2.1"),
        remediation="Keep snapshot block-public-access at block-all-sharing; share only with listed accounts.",
        tags=["exposure", "ebs", "fsbp:EC2.182"],
        config_schema=PolicyConfigSchema(properties={
            "allowedAccountIds": {"type": "array", "items": {"type": "string"}, "default": [],
                                  "description": "accounts snapshots may be shared with (empty: any but 'all')"}})),
    resource_policy(
        "ec2-ami-not-public", "AMIs must not be launchable by everyone.", (AMI_PERMISSION,), _ami_public,
        severity=Severity.HIGH, framework=nist("AC-3"),
        remediation="Share AMIs with specific accounts, organizations or OUs, never group 'all'.",
        tags=["exposure", "ec2"],
        config_schema=PolicyConfigSchema(properties={
            "allowedAccountIds": {"type": "array", "items": {"type": "string"}, "default": []}})),
    stack_policy(
        "ec2-instance-no-public-ip", "EC2 instances, launch templates and launch configurations must not "
        "assign public IP addresses.", _no_public_ip, types=(INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, SUBNET),
        severity=Severity.HIGH, framework=fsbp("EC2.9"),
        remediation="Launch into private subnets with associatePublicIpAddress=False; expose through a load "
                    "balancer, use SSM Session Manager for access.",
        tags=["compliance-policies:aws-ec2-instance-disallow-public-ip",
              "compliance-policies:aws-ec2-launchconfiguration-disallow-public-ip",
              "compliance-policies:aws-ec2-launchtemplate-disallow-public-ip",
              "exposure", "ec2", "awsguard:ec2-instance-no-public-ip"]),
    resource_policy(
        "ec2-instance-detailed-monitoring-enabled", "EC2 instances and launch templates must enable detailed "
        "monitoring.", (INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION), _monitoring, severity=Severity.LOW,
        framework=nist("SI-4"),
        remediation="Set monitoring=True (instances), monitoring={'enabled': True} (launch templates).",
        tags=["monitoring", "ec2", "awsguard:ec2-instance-detailed-monitoring-enabled", "cdk-nag:AwsSolutions-EC28",
              "checkov:CKV_AWS_126"]),
    resource_policy(
        "ec2-volume-inuse", "EBS volumes of an instance must be deleted when it terminates (no orphaned volumes).",
        (INSTANCE, LAUNCH_CONFIGURATION), _volume_inuse, severity=Severity.LOW, framework=nist("CM-8"),
        remediation="Leave deleteOnTermination at its default (true) on root and EBS block devices; keep data "
                    "that must outlive the instance on separate aws.ebs.Volume resources or snapshots.",
        tags=["cost", "ec2", "awsguard:ec2-volume-inuse"],
        config_schema=PolicyConfigSchema(properties={"checkDeletion": {"type": "boolean", "default": True}})),
    resource_policy(
        "ec2-instance-type-allowed", "EC2 instances, launch templates, EKS node groups and Batch compute "
        "environments must use allowed instance types.",
        (INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, NODE_GROUP, BATCH_COMPUTE), _instance_type, severity=Severity.LOW,
        remediation="Pick a type matching allowedInstanceTypes (current generation by default).",
        tags=["cost", "ec2"],
        config_schema=PolicyConfigSchema(properties={
            "allowedInstanceTypes": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_INSTANCE_TYPES,
                                     "description": "glob patterns, e.g. 'm7i.*'"}})),
]
