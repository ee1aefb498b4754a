"""policies/rules/ml.py, each rule three ways: violating, passing, and passing as a new stack's preview shows it
(values that come from other resources are UNKNOWN)."""
from __future__ import annotations

import json

from policy_harness import UNKNOWN, check, rec, skipped, violations

TAGS = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}
REPO = "aws:ecr/repository:Repository"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"


def repo(**over):
    props = {"name": "ai-platform/prod/ocr", "imageTagMutability": "IMMUTABLE",
             "imageScanningConfiguration": {"scanOnPush": True},
             "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}], "tags": TAGS}
    props.update(over)
    return rec(REPO, "repo", props)


def names(result, policy):
    return [v.urn.split("::")[-1] for v in violations(result, policy)]


# --- ecr-scan-on-push ----------------------------------------------------------------------------
def test_ecr_scan_on_push_violation():
    r = check([repo(imageScanningConfiguration={"scanOnPush": False}), rec(REPO, "bare", {"tags": TAGS})])
    assert sorted(names(r, "ecr-scan-on-push")) == ["bare", "repo"]


def test_ecr_scan_on_push_pass():
    assert violations(check([repo()]), "ecr-scan-on-push") == []


def test_ecr_scan_on_push_pass_in_preview():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])])
    assert violations(r, "ecr-scan-on-push") == [] and not skipped(r, "ecr-scan-on-push")


# --- ecr-kms-encryption --------------------------------------------------------------------------
def test_ecr_kms_violation():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "AES256"}]),
               rec(REPO, "default", {"tags": TAGS}),
               rec(REPO, "aws-managed", {"encryptionConfigurations": [{"encryptionType": "KMS"}], "tags": TAGS})])
    assert sorted(names(r, "ecr-kms-encryption")) == ["aws-managed", "default", "repo"]


def test_ecr_kms_pass():
    assert violations(check([repo()]), "ecr-kms-encryption") == []


def test_ecr_kms_pass_in_preview_with_unknown_key():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])])
    assert violations(r, "ecr-kms-encryption") == [] and not skipped(r, "ecr-kms-encryption")


# --- ecr-immutable-tags --------------------------------------------------------------------------
def test_ecr_immutable_violation_including_default():
    r = check([repo(imageTagMutability="MUTABLE"), rec(REPO, "default", {"tags": TAGS})])
    assert sorted(names(r, "ecr-immutable-tags")) == ["default", "repo"]
    assert all(v.level == "mandatory" for v in violations(r, "ecr-immutable-tags"))


def test_ecr_immutable_pass():
    assert violations(check([repo()]), "ecr-immutable-tags") == []


def test_ecr_immutable_pass_in_preview():
    r = check([repo(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])])
    assert violations(r, "ecr-immutable-tags") == [] and not skipped(r, "ecr-immutable-tags")


def test_ecr_immutable_is_advisory_where_configured_so():
    r = check([repo(imageTagMutability="MUTABLE")], config={"ecr-immutable-tags": "advisory"})
    assert [v.level for v in violations(r, "ecr-immutable-tags")] == ["advisory"]


# --- sagemaker-endpoint-encryption ---------------------------------------------------------------
def endpoint_config(**over):
    props = {"productionVariants": [{"variantName": "primary", "modelName": "m", "instanceType": "ml.m5.large"}],
             "kmsKeyArn": KEY, "dataCaptureConfig": {"enableCapture": True, "kmsKeyId": KEY,
                                                     "destinationS3Uri": "s3://b/data-capture/x/",
                                                     "initialSamplingPercentage": 20,
                                                     "captureOptions": [{"captureMode": "Input"}]},
             "tags": TAGS}
    props.update(over)
    return rec(CONFIG, "cfg", props)


def test_endpoint_encryption_violation():
    no_capture_key = endpoint_config(dataCaptureConfig={"enableCapture": True, "destinationS3Uri": "s3://b/x/",
                                                        "initialSamplingPercentage": 5,
                                                        "captureOptions": [{"captureMode": "Input"}]})
    no_capture_key["name"] = "capture"
    no_key = endpoint_config()
    del no_key["props"]["kmsKeyArn"]
    r = check([no_key, no_capture_key])
    msgs = {v.urn.split("::")[-1]: v.message for v in violations(r, "sagemaker-endpoint-encryption")}
    assert "kmsKeyArn must be set" in msgs["cfg"] and "dataCaptureConfig.kmsKeyId" in msgs["capture"]


def test_endpoint_encryption_pass():
    assert violations(check([endpoint_config()]), "sagemaker-endpoint-encryption") == []


def test_endpoint_encryption_pass_in_preview_with_unknown_keys():
    r = check([endpoint_config(kmsKeyArn=UNKNOWN, dataCaptureConfig={
        "enableCapture": True, "kmsKeyId": UNKNOWN, "destinationS3Uri": UNKNOWN, "initialSamplingPercentage": 20,
        "captureOptions": [{"captureMode": "Input"}]})])
    assert violations(r, "sagemaker-endpoint-encryption") == [] and not skipped(r, "sagemaker-endpoint-encryption")


# --- sagemaker-notebook-encryption-and-no-direct-internet ----------------------------------------
NB = "sagemaker-notebook-encryption-and-no-direct-internet"


def notebook(**over):
    props = {"instanceType": "ml.t3.medium", "roleArn": "arn:aws:iam::123456789012:role/r", "kmsKeyId": KEY,
             "directInternetAccess": "Disabled", "rootAccess": "Disabled", "subnetId": "subnet-1",
             "securityGroups": ["sg-1"], "tags": TAGS}
    props.update(over)
    return rec(NOTEBOOK, "nb", props)


def test_notebook_violation_defaults_are_all_wrong():
    r = check([rec(NOTEBOOK, "nb", {"instanceType": "ml.t3.medium", "roleArn": "r", "tags": TAGS})])
    text = " ".join(v.message for v in violations(r, NB))
    assert "kmsKeyId" in text and "directInternetAccess is Enabled" in text and "rootAccess is Enabled" in text
    r = check([notebook(directInternetAccess="Enabled")])
    assert ["nb"] == sorted(set(names(r, NB)))


def test_notebook_pass():
    assert violations(check([notebook()]), NB) == []


def test_notebook_pass_in_preview():
    r = check([notebook(kmsKeyId=UNKNOWN, subnetId=UNKNOWN, securityGroups=UNKNOWN, roleArn=UNKNOWN)])
    assert violations(r, NB) == [] and not skipped(r, NB)


# --- iam-no-service-wildcards --------------------------------------------------------------------
def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BEDROCK_OK = {"Effect": "Allow", "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
              "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"]}


def test_service_wildcards_violation_in_every_policy_style():
    r = check([
        rec("aws:iam/policy:Policy", "managed", {"policy": doc({"Effect": "Allow", "Action": "bedrock:*",
                                                                "Resource": "*"}), "tags": TAGS}),
        rec("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "r", "policy": doc(
            {"Sid": "All", "Effect": "Allow", "Action": ["s3:GetObject", "SageMaker:*"], "Resource": ["*"]})}),
        rec("aws:iam/role:Role", "role", {"assumeRolePolicy": "{}", "tags": TAGS, "inlinePolicies": [
            {"name": "x", "policy": doc({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})}]}),
    ])
    assert sorted(names(r, "iam-no-service-wildcards")) == ["inline", "managed", "role"]
    assert any("statement All allows sagemaker:*" in v.message for v in violations(r, "iam-no-service-wildcards"))


def test_service_wildcards_pass_scoped_or_denied():
    r = check([
        rec("aws:iam/policy:Policy", "bedrock", {"policy": doc(BEDROCK_OK), "tags": TAGS}),
        rec("aws:iam/rolePolicy:RolePolicy", "scoped", {"role": "r", "policy": doc(
            {"Effect": "Allow", "Action": "sagemaker:*",
             "Resource": "arn:aws:sagemaker:us-east-1:123456789012:training-job/ai-platform-dev-train-*"},
            {"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})}),
    ])
    assert violations(r, "iam-no-service-wildcards") == []


def test_service_wildcards_pass_in_preview_and_skip_unknown_documents():
    r = check([
        rec("aws:iam/policy:Policy", "bedrock", {"policy": doc(BEDROCK_OK), "tags": TAGS}),
        rec("aws:iam/rolePolicy:RolePolicy", "unknown-role", {"role": UNKNOWN, "policy": doc(BEDROCK_OK)}),
    ])
    assert violations(r, "iam-no-service-wildcards") == [] and not skipped(r, "iam-no-service-wildcards")
    # A document that contains another resource's ARN is unknown as a whole in a preview: undecidable.
    r = check([rec("aws:iam/rolePolicy:RolePolicy", "unknown-doc", {"role": "r", "policy": UNKNOWN})])
    assert violations(r, "iam-no-service-wildcards") == [] and skipped(r, "iam-no-service-wildcards")


# --- issue 13: wildcard service actions in inline and managed policies ---------------------------------
def test_service_wildcards_any_service_inline_managed_and_aws_managed_attachments():
    s3_star = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                  "Resource": "*"}]})
    scoped = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                 "Resource": "arn:aws:s3:::b/*"}]})
    r = check([rec("aws:iam/policy:Policy", "managed-s3star", {"policy": s3_star}),
               rec("aws:iam/role:Role", "role-inline", {"assumeRolePolicy": "{}",
                                                        "inlinePolicies": [{"name": "i", "policy": s3_star}]}),
               rec("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach-full",
                   {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}),
               rec("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach-ro",
                   {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}),
               rec("aws:iam/policy:Policy", "scoped", {"policy": scoped}),
               rec("aws:iam/policy:Policy", "preview", {"policy": UNKNOWN})])
    bad = {v.urn.split("::")[-1] for v in violations(r, "iam-no-service-wildcards")}
    assert bad == {"managed-s3star", "role-inline", "attach-full"}
    assert {s.urn.split("::")[-1] for s in skipped(r, "iam-no-service-wildcards")} == {"preview"}
