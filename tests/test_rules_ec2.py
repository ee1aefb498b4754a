"""EC2/EBS rules (policies/rules/ec2.py), each three ways: violating, passing, and passing as a preview of a
new stack shows it (other resources' outputs UNKNOWN). One pack run evaluates every record of the table."""
from __future__ import annotations


import pytest

from policy_harness import UNKNOWN, check, not_applicable, rec, skipped, violations, case_table, names

I, LT, LC = "aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/launchConfiguration:LaunchConfiguration"
VOL = "aws:ebs/volume:Volume"

# (policy, record name, type, props, expected: "violation" | "pass" | "skipped")
CASES = [
    ("ebs-volume-encrypted", "vol-bad", VOL, {"size": 10, "availabilityZone": "us-east-1a"}, "violation"),
    ("ebs-volume-encrypted", "vol-false", VOL, {"encrypted": False, "availabilityZone": "us-east-1a"}, "violation"),
    ("ebs-volume-encrypted", "vol-ok", VOL, {"encrypted": True, "kmsKeyId": "arn:aws:kms:us-east-1:1:key/k",
                                             "availabilityZone": "us-east-1a"}, "pass"),
    ("ebs-volume-encrypted", "vol-preview", VOL, {"encrypted": True, "kmsKeyId": UNKNOWN,
                                                  "availabilityZone": UNKNOWN}, "pass"),
    ("ebs-encryption-by-default", "ebd-bad", "aws:ebs/encryptionByDefault:EncryptionByDefault", {"enabled": False},
     "violation"),
    ("ebs-encryption-by-default", "ebd-ok", "aws:ebs/encryptionByDefault:EncryptionByDefault", {"enabled": True}, "pass"),
    ("ebs-encryption-by-default", "ebd-preview", "aws:ebs/encryptionByDefault:EncryptionByDefault",
     {"enabled": True, "region": UNKNOWN}, "pass"),
    ("ebs-snapshot-not-public", "sbpa-bad", "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess",
     {"state": "unblocked"}, "violation"),
    ("ebs-snapshot-not-public", "sbpa-ok", "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess",
     {"state": "block-all-sharing"}, "pass"),
    ("ebs-snapshot-not-public", "perm-all", "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",
     {"accountId": "all", "snapshotId": "snap-1"}, "violation"),
    ("ebs-snapshot-not-public", "perm-preview", "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission",
     {"accountId": "111122223333", "snapshotId": UNKNOWN}, "pass"),
    ("ec2-ami-not-public", "ami-bad", "aws:ec2/amiLaunchPermission:AmiLaunchPermission",
     {"group": "all", "imageId": "ami-1"}, "violation"),
    ("ec2-ami-not-public", "ami-ok", "aws:ec2/amiLaunchPermission:AmiLaunchPermission",
     {"accountId": "111122223333", "imageId": "ami-1"}, "pass"),
    ("ec2-ami-not-public", "ami-preview", "aws:ec2/amiLaunchPermission:AmiLaunchPermission",
     {"organizationArn": UNKNOWN, "imageId": UNKNOWN}, "pass"),
    ("ec2-instance-no-public-ip", "i-public", I, {"associatePublicIpAddress": True, "monitoring": True}, "violation"),
    ("ec2-instance-no-public-ip", "lt-public", LT, {"networkInterfaces": [{"associatePublicIpAddress": "true"}],
                                                    "monitoring": {"enabled": True}}, "violation"),
    ("ec2-instance-no-public-ip", "lc-public", LC, {"associatePublicIpAddress": True, "imageId": "ami-1",
                                                    "instanceType": "t3.micro"}, "violation"),
    ("ec2-instance-no-public-ip", "i-private", I, {"associatePublicIpAddress": False, "monitoring": True,
                                                   "instanceType": "t3.micro"}, "pass"),
    ("ec2-instance-no-public-ip", "i-preview", I, {"subnetId": UNKNOWN, "vpcSecurityGroupIds": UNKNOWN,
                                                   "monitoring": True, "instanceType": "t3.micro"}, "pass"),
    ("ec2-instance-no-public-ip", "lt-preview", LT, {"networkInterfaces": [{"subnetId": UNKNOWN,
                                                     "associatePublicIpAddress": "false"}],
                                                     "monitoring": {"enabled": True}}, "pass"),
    ("ec2-instance-detailed-monitoring-enabled", "i-nomon", I, {"instanceType": "t3.micro"}, "violation"),
    ("ec2-instance-detailed-monitoring-enabled", "lt-nomon", LT, {"monitoring": {"enabled": False}}, "violation"),
    ("ec2-instance-detailed-monitoring-enabled", "lc-nomon", LC, {"enableMonitoring": False, "imageId": "ami-1",
                                                                   "instanceType": "t3.micro"}, "violation"),
    ("ec2-instance-detailed-monitoring-enabled", "i-mon", I, {"monitoring": True, "instanceType": "t3.micro"}, "pass"),
    ("ec2-instance-detailed-monitoring-enabled", "i-mon-preview", I, {"monitoring": True, "ami": UNKNOWN,
                                                                       "instanceType": "t3.micro"}, "pass"),
    ("ec2-instance-detailed-monitoring-enabled", "i-mon-unknown", I, {"monitoring": UNKNOWN,
                                                                       "instanceType": "t3.micro"}, "skipped"),
    ("ec2-volume-inuse", "i-orphan", I, {"monitoring": True, "instanceType": "t3.micro", "ebsBlockDevices": [
        {"deviceName": "/dev/sdf", "deleteOnTermination": False, "encrypted": True}]}, "violation"),
    ("ec2-volume-inuse", "i-root-orphan", I, {"monitoring": True, "instanceType": "t3.micro",
                                              "rootBlockDevice": {"deleteOnTermination": False}}, "violation"),
    ("ec2-volume-inuse", "i-cleanup", I, {"monitoring": True, "instanceType": "t3.micro", "ebsBlockDevices": [
        {"deviceName": "/dev/sdf", "encrypted": True}], "rootBlockDevice": {"deleteOnTermination": True}}, "pass"),
    ("ec2-volume-inuse", "i-cleanup-preview", I, {"monitoring": True, "instanceType": "t3.micro", "ebsBlockDevices": [
        {"deviceName": "/dev/sdf", "kmsKeyId": UNKNOWN, "deleteOnTermination": True}]}, "pass"),
    ("ec2-instance-type-allowed", "i-oldgen", I, {"monitoring": True, "instanceType": "m4.large"}, "violation"),
    ("ec2-instance-type-allowed", "lt-oldgen", LT, {"monitoring": {"enabled": True}, "instanceType": "p3.2xlarge"},
     "violation"),
    ("ec2-instance-type-allowed", "i-current", I, {"monitoring": True, "instanceType": "g5.xlarge"}, "pass"),
    ("ec2-instance-type-allowed", "i-type-preview", I, {"monitoring": True, "instanceType": "m7i.large",
                                                        "subnetId": UNKNOWN}, "pass"),
    ("ec2-instance-type-allowed", "i-type-unknown", I, {"monitoring": True, "instanceType": UNKNOWN}, "skipped"),
    ("ec2-instance-type-allowed", "ng-oldgen", "aws:eks/nodeGroup:NodeGroup",
     {"instanceTypes": ["m6i.large", "t2.medium"], "clusterName": "c"}, "violation"),
    ("ec2-instance-type-allowed", "ng-preview", "aws:eks/nodeGroup:NodeGroup",
     {"instanceTypes": ["m6i.large", "m5.large"], "clusterName": UNKNOWN, "subnetIds": UNKNOWN}, "pass"),
    ("ec2-instance-type-allowed", "batch-oldfamily", "aws:batch/computeEnvironment:ComputeEnvironment",
     {"type": "MANAGED", "computeResources": {"instanceTypes": ["c6i", "c4"], "subnets": UNKNOWN}}, "violation"),
    ("ec2-instance-type-allowed", "batch-ok", "aws:batch/computeEnvironment:ComputeEnvironment",
     {"type": "MANAGED", "computeResources": {"instanceTypes": ["c6i", "m5", "optimal"], "subnets": UNKNOWN}}, "pass"),
]


test_case = case_table(CASES)
_names = names


def test_every_ec2_rule_has_all_three_kinds_of_case():
    from policies.rules import ec2
    for p in ec2.POLICIES:
        kinds = {c[4] for c in CASES if c[0] == p.name}
        assert {"violation", "pass"} <= kinds, p.name
        assert any(c[0] == p.name and UNKNOWN in str(c[3]) for c in CASES), f"{p.name}: no preview case"


def test_configured_values():
    r = check([rec(VOL, "other-key", {"encrypted": True, "kmsKeyId": "arn:other"}),
               rec(I, "allowed-type", {"monitoring": True, "instanceType": "m4.large"}),
               rec(I, "keep-volumes", {"monitoring": True, "instanceType": "t3.micro",
                                       "ebsBlockDevices": [{"deleteOnTermination": False}]}),
               rec("aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission", "stranger",
                   {"accountId": "999999999999", "snapshotId": "s"})],
              config={"ebs-volume-encrypted": {"kmsKeyId": "arn:mine"},
                      "ec2-instance-type-allowed": {"allowedInstanceTypes": ["m4.*", "t3.*"]},
                      "ec2-volume-inuse": {"checkDeletion": False},
                      "ebs-snapshot-not-public": {"allowedAccountIds": ["111122223333"]}})
    assert _names(violations(r, "ebs-volume-encrypted")) == {"other-key"}
    assert violations(r, "ec2-instance-type-allowed") == [] and violations(r, "ec2-volume-inuse") == []
    assert _names(violations(r, "ebs-snapshot-not-public")) == {"stranger"}


def test_launch_template_without_type_is_not_applicable():
    r = check([rec(LT, "lt", {"monitoring": {"enabled": True}})])
    assert not_applicable(r, "ec2-instance-type-allowed") and violations(r, "ec2-instance-type-allowed") == []
