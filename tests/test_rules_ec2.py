"""Tests for policies/rules/ec2.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import (
    UNKNOWN,
    case_table,
    check,
    names,
    not_applicable,
    rec,
    skipped,
    violations,
)

LT = "aws:ec2/launchTemplate:LaunchTemplate"

INSTANCE = "aws:ec2/instance:Instance"


def names_compute(result, policy):
    return sorted(v.urn.split("::")[-1] for v in violations(result, policy))


# --- launch templates and instances ------------------------------------------------------------------
GOOD_LT = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
           "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3"}}]}

GOOD_INSTANCE = {"metadataOptions": {"httpTokens": "required"}, "rootBlockDevice": {"encrypted": True},
                 "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]}

I, LT_ec2, LC = "aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/launchConfiguration:LaunchConfiguration"  # noqa: E741 - I is the instance type token

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
    ("ec2-instance-no-public-ip", "lt-public", LT_ec2, {"networkInterfaces": [{"associatePublicIpAddress": "true"}],
                                                    "monitoring": {"enabled": True}}, "violation"),
    ("ec2-instance-no-public-ip", "lc-public", LC, {"associatePublicIpAddress": True, "imageId": "ami-1",
                                                    "instanceType": "t3.micro"}, "violation"),
    ("ec2-instance-no-public-ip", "i-private", I, {"associatePublicIpAddress": False, "monitoring": True,
                                                   "instanceType": "t3.micro"}, "pass"),
    ("ec2-instance-no-public-ip", "i-preview", I, {"subnetId": UNKNOWN, "vpcSecurityGroupIds": UNKNOWN,
                                                   "monitoring": True, "instanceType": "t3.micro"}, "pass"),
    ("ec2-instance-no-public-ip", "lt-preview", LT_ec2, {"networkInterfaces": [{"subnetId": UNKNOWN,
                                                     "associatePublicIpAddress": "false"}],
                                                     "monitoring": {"enabled": True}}, "pass"),
    ("ec2-instance-detailed-monitoring-enabled", "i-nomon", I, {"instanceType": "t3.micro"}, "violation"),
    ("ec2-instance-detailed-monitoring-enabled", "lt-nomon", LT_ec2, {"monitoring": {"enabled": False}}, "violation"),
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
    ("ec2-instance-type-allowed", "lt-oldgen", LT_ec2, {"monitoring": {"enabled": True}, "instanceType": "p3.2xlarge"},
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

_names = names


def test_imdsv2_violations():
    r = check([rec(LT, "optional", {**GOOD_LT, "metadataOptions": {"httpTokens": "optional"}}),
               rec(LT, "missing", {"blockDeviceMappings": GOOD_LT["blockDeviceMappings"]}),
               rec(LT, "hops", {**GOOD_LT, "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 5}}),
               rec(INSTANCE, "vm", {**GOOD_INSTANCE, "metadataOptions": {}})])
    assert names_compute(r, "ec2-imdsv2-required") == ["hops", "missing", "optional", "vm"]


def test_imdsv2_pass():
    r = check([rec(LT, "lt", GOOD_LT), rec(INSTANCE, "vm", GOOD_INSTANCE)])
    assert names_compute(r, "ec2-imdsv2-required") == []


def test_imdsv2_preview_unknown_ami_still_decides():
    r = check([rec(LT, "lt", {**GOOD_LT, "imageId": UNKNOWN}), rec(INSTANCE, "vm", {**GOOD_INSTANCE, "ami": UNKNOWN})])
    assert names_compute(r, "ec2-imdsv2-required") == [] and not skipped(r, "ec2-imdsv2-required")


def test_ebs_encrypted_violations():
    r = check([rec(LT, "lt-plain", {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                                                         "ebs": {"encrypted": "false"}}]}),
               rec(LT, "lt-none", {"metadataOptions": GOOD_LT["metadataOptions"]}),
               rec(INSTANCE, "vm-root", {**GOOD_INSTANCE, "rootBlockDevice": {"volumeSize": 8}}),
               rec(INSTANCE, "vm-data", {**GOOD_INSTANCE, "ebsBlockDevices": [{"deviceName": "/dev/sdf"}]})])
    assert names_compute(r, "ebs-encrypted") == ["lt-none", "lt-plain", "vm-data", "vm-root"]


def test_ebs_encrypted_pass():
    r = check([rec(LT, "lt", GOOD_LT), rec(INSTANCE, "vm", GOOD_INSTANCE),
               rec(LT, "bool", {**GOOD_LT, "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}]})])
    assert names_compute(r, "ebs-encrypted") == []


def test_ebs_encrypted_preview_unknown_kms_key_still_decides():
    r = check([rec(LT, "lt", {**GOOD_LT, "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": UNKNOWN}}]})])
    assert names_compute(r, "ebs-encrypted") == [] and not skipped(r, "ebs-encrypted")


test_case = case_table(CASES)


def test_every_ec2_rule_has_all_three_kinds_of_case():
    from policies.rules import ec2
    for p in ec2.POLICIES:
        if p.name in ("ebs-encrypted", "ec2-imdsv2-required"):
            continue  # instance/launch-template volume and metadata rules: dedicated tests below
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
    r = check([rec(LT_ec2, "lt", {"monitoring": {"enabled": True}})])
    assert not_applicable(r, "ec2-instance-type-allowed") and violations(r, "ec2-instance-type-allowed") == []


# --- issue 27: the public IP an instance's subnet gives it --------------------------------------------------------
SUBNET = "aws:ec2/subnet:Subnet"


def _in_subnet(name, subnet, extra=None):
    return rec(I, name, {"subnetId": UNKNOWN, "monitoring": True, "instanceType": "t3.micro", **(extra or {})},
               prop_deps={"subnetId": [subnet]})


def test_an_instance_in_a_subnet_that_maps_public_ips_is_reported():
    r = check([rec(SUBNET, "public", {"vpcId": UNKNOWN, "cidrBlock": "10.0.0.0/24", "mapPublicIpOnLaunch": True}),
               rec(SUBNET, "private", {"vpcId": UNKNOWN, "cidrBlock": "10.0.1.0/24"}),
               _in_subnet("web", "public"),
               _in_subnet("web-no-ip", "public", {"associatePublicIpAddress": False}),
               _in_subnet("worker", "private"),
               rec(I, "default-vpc", {"monitoring": True, "instanceType": "t3.micro"}),
               rec(I, "default-vpc-no-ip", {"monitoring": True, "instanceType": "t3.micro",
                                            "associatePublicIpAddress": False})])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "ec2-instance-no-public-ip")}
    assert set(found) == {"web", "default-vpc"}
    assert "subnet public assigns public IPs on launch" in found["web"]
    assert "default VPC's default subnet" in found["default-vpc"]
    assert skipped(r, "ec2-instance-no-public-ip") == []        # decided in a preview (subnet ids unknown)
