"""SageMaker: endpoint configuration and notebook encryption, no direct internet access."""
from __future__ import annotations

from pulumi_policy import Severity

from ._compliance import is_set
from ._lib import flag, fsbp, get, resource_policy

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"

NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"


def _endpoint_encryption(props, report, args):
    # An unknown kmsKeyArn in a preview is another resource's output (a key the program creates): set.
    if not is_set(props, "kmsKeyArn"):
        report("kmsKeyArn must be set: the ML storage volumes of the endpoint are then encrypted with a "
               "customer managed key.")
    capture = get(props, "dataCaptureConfig")
    if capture is not None and flag(capture, "enableCapture", True) is not False and not is_set(capture, "kmsKeyId"):
        report("dataCaptureConfig.kmsKeyId must be set: captured requests and responses are data.")


def _notebook(props, report, args):
    if not is_set(props, "kmsKeyId"):
        report("kmsKeyId must be set (customer managed key for the notebook's ML storage volume).")
    direct = get(props, "directInternetAccess", "Enabled")
    if direct != "Disabled":
        report(f"directInternetAccess is {direct}: it must be Disabled (with subnetId, traffic goes through the VPC).")
    root = get(props, "rootAccess", "Enabled")
    if root != "Disabled":
        report(f"rootAccess is {root}: it must be Disabled.")


POLICIES = [
    resource_policy(
        "sagemaker-endpoint-encryption", "SageMaker endpoint configurations must encrypt storage (and data capture) "
        "with a KMS key.", (ENDPOINT_CONFIG,), _endpoint_encryption, severity=Severity.HIGH,
        remediation="kms_key_arn=<data key ARN>; data_capture_config.kms_key_id=<data key ARN>.",
        tags=["sagemaker", "encryption", "CKV_AWS_98"]),
    resource_policy(
        "sagemaker-notebook-encryption-and-no-direct-internet", "SageMaker notebook instances must use a KMS key, "
        "no direct internet access and no root access.", (NOTEBOOK,), _notebook, severity=Severity.HIGH,
        framework=fsbp("SageMaker.1"),
        remediation="kms_key_id=<key>, direct_internet_access='Disabled' with subnet_id/security_groups, "
                    "root_access='Disabled'.", tags=["cdk-nag:AwsSolutions-SM2", "cdk-nag:AwsSolutions-SM3",
                                                     "sagemaker", "encryption", "network", "CKV_AWS_22",
                                                     "CKV_AWS_122", "CKV_AWS_307"]),
]
