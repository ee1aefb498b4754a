"""ML: ECR repositories (scan on push, KMS, immutable tags), SageMaker endpoint and notebook encryption and
network exposure, and no IAM statement granting all of Bedrock or SageMaker on every resource."""
from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, Severity

from ._compliance import is_set
from ._lib import (
    as_list,
    flag,
    fsbp,
    get,
    items,
    policy_document,
    resource_policy,
    statements,
)
from .iam import _documents

ECR_REPOSITORY = "aws:ecr/repository:Repository"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
DOCUMENT_PROPS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
ATTACHMENT_ARN_PROPS = {"aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
                        "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
                        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
                        "aws:iam/policyAttachment:PolicyAttachment": "policyArn"}


def _scan_on_push(props, report, args):
    if flag(props, "imageScanningConfiguration.scanOnPush") is not True:
        report("imageScanningConfiguration.scanOnPush must be true (or use registry-level enhanced scanning).")


def _ecr_kms(props, report, args):
    configs = items(get(props, "encryptionConfigurations"))
    if not configs or get(configs[0], "encryptionType") != "KMS":
        report("encryptionConfigurations[0].encryptionType must be 'KMS' "
               "(the default is AES256 with an AWS-owned key).")
    elif not is_set(configs[0], "kmsKey"):
        report("encryptionConfigurations[0].kmsKey must name a customer managed key (without it ECR uses the AWS "
               "managed key aws/ecr, whose policy cannot restrict who decrypts).")


def _ecr_immutable(props, report, args):
    mutability = get(props, "imageTagMutability", "MUTABLE")
    if mutability != "IMMUTABLE":
        report(f"imageTagMutability is {mutability}: a tag must always mean the same image (IMMUTABLE).")


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


def service_wildcard_statements(doc, exempt=()) -> list[tuple[dict, list[str]]]:
    """Allow statements granting a whole service ('<service>:*', e.g. s3:*) or NotAction on '*'."""
    bad = []
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        resources = [str(r) for r in as_list(st.get("Resource"))]
        if "*" not in resources and "NotResource" not in st:
            continue
        actions = [str(a).lower() for a in as_list(st.get("Action"))]
        hits = [a for a in actions if a.endswith(":*") and a.split(":", 1)[0] not in exempt]
        if "NotAction" in st:
            hits.append("NotAction")
        if hits:
            bad.append((st, hits))
    return bad


def _no_service_wildcards(props, report, args):
    exempt = {str(x).lower() for x in (args.get_config() or {}).get("exemptServices", [])}
    if args.resource_type in ATTACHMENT_ARN_PROPS or args.resource_type == ROLE:
        arns = (items(get(props, "managedPolicyArns")) if args.resource_type == ROLE
                else [get(props, ATTACHMENT_ARN_PROPS[args.resource_type])])
        for arn in arns:
            name = arn.rsplit("/", 1)[-1] if isinstance(arn, str) and ":aws:policy/" in arn else ""
            if name.endswith("FullAccess"):
                report(f"attaches the AWS managed policy {name}, which allows a whole service on '*'; write a "
                       f"scoped policy.")
    for where, raw_doc in _documents(props, args.resource_type):
        for st, hits in service_wildcard_statements(policy_document(raw_doc), exempt):
            sid = st.get("Sid")
            report(f"{where}: statement {sid + ' ' if sid else ''}allows {', '.join(hits)} on '*'; "
                   f"name the actions and the model/endpoint/job ARNs.")


POLICIES = [
    resource_policy(
        "ecr-scan-on-push", "ECR repositories must scan images for vulnerabilities on push.", (ECR_REPOSITORY,),
        _scan_on_push, severity=Severity.MEDIUM, framework=fsbp("ECR.1"),
        remediation="image_scanning_configuration={'scan_on_push': True}.",
        tags=["ecr", "vulnerability", "CKV_AWS_163"]),
    resource_policy(
        "ecr-kms-encryption", "ECR repositories must be encrypted with a customer managed KMS key.", (ECR_REPOSITORY,),
        _ecr_kms, severity=Severity.MEDIUM,
        remediation="encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': <key ARN>}] (set at creation: "
                    "changing it replaces the repository).", tags=["ecr", "encryption", "CKV_AWS_136"]),
    resource_policy(
        "ecr-immutable-tags", "ECR image tags must be immutable (a deployed tag always names the same image).",
        (ECR_REPOSITORY,), _ecr_immutable, severity=Severity.HIGH, framework=fsbp("ECR.2"),
        remediation="image_tag_mutability='IMMUTABLE' (ai-platform:ml.immutableTags, true by default in prod).",
        tags=["ecr", "supply-chain", "CKV_AWS_51"]),
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
                    "root_access='Disabled'.", tags=["sagemaker", "encryption", "network", "CKV_AWS_22",
                                                     "CKV_AWS_122", "CKV_AWS_307"]),
    resource_policy(
        "iam-no-service-wildcards", "IAM policies (inline, customer managed, or AWS managed *FullAccess "
        "attachments) must not allow a whole service (s3:*, bedrock:* ...) on every resource.",
        tuple(DOCUMENT_PROPS) + (ROLE,) + tuple(ATTACHMENT_ARN_PROPS), _no_service_wildcards, severity=Severity.HIGH,
        remediation="Grant the specific actions (e.g. s3:GetObject, bedrock:InvokeModel) on the ARNs they need "
                    "(bucket/prefix, arn:aws:bedrock:<region>::foundation-model/<id>, the stack's job ARNs).",
        tags=["iam", "least-privilege", "bedrock", "sagemaker"],
        refs={"cdk-nag": "AwsSolutions-IAM5", "checkov": "CKV_AWS_290", "pulumi": []},
        config_schema=PolicyConfigSchema(properties={
            "exemptServices": {"type": "array", "items": {"type": "string"}, "default": [],
                               "description": "services whose '<service>:*' on '*' is accepted (e.g. xray)"}})),
]
