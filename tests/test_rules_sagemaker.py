"""Tests for policies/rules/sagemaker.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

from policy_harness import UNKNOWN, check, rec, skipped, violations

TAGS = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"

NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"


def names(result, policy):
    return [v.urn.split("::")[-1] for v in violations(result, policy)]


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


# --- sagemaker-notebook-encryption-and-no-direct-internet ----------------------------------------
NB = "sagemaker-notebook-encryption-and-no-direct-internet"


def notebook(**over):
    props = {"instanceType": "ml.t3.medium", "roleArn": "arn:aws:iam::123456789012:role/r", "kmsKeyId": KEY,
             "directInternetAccess": "Disabled", "rootAccess": "Disabled", "subnetId": "subnet-1",
             "securityGroups": ["sg-1"], "tags": TAGS}
    props.update(over)
    return rec(NOTEBOOK, "nb", props)


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
