"""KMS keys: rotation and no policy-lockout bypass."""
from __future__ import annotations

import fnmatch

from pulumi_policy import Severity

from ._compliance import nist
from ._lib import as_list, cis, flag, fsbp, get, items, policy_document, resource_policy, rule, statements
from ._shared import KMS_KEY, KMS_KEY_POLICY

# Identity policies and the property holding each document (a role's inline policies are read separately).
IDENTITY_DOCUMENTS = {"aws:iam/policy:Policy": "policy", "aws:iam/rolePolicy:RolePolicy": "policy",
                      "aws:iam/userPolicy:UserPolicy": "policy", "aws:iam/groupPolicy:GroupPolicy": "policy"}
ROLE = "aws:iam/role:Role"
# What uses a key's plaintext: decrypting, generating data keys, re-encrypting (with or without plaintext).
KEY_USE = ("kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
           "kms:GenerateDataKeyPairWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo")
# Condition keys that tie a key's use to the service path or the exact resource (and therefore not to "any key
# the alias names, any way the caller likes"). kms:ResourceAliases alone names keys, not a path.
SCOPING_KEYS = ("kms:viaservice", "kms:encryptioncontext:", "kms:encryptioncontextkeys")
# Source conditions a service principal's grant must carry (the confused-deputy guard).
SOURCE_KEYS = ("aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths", "kms:viaservice",
               "kms:encryptioncontext:")


def condition_keys(st: dict) -> list[str]:
    """Every condition key of a statement, lower-cased (operators and keys are case-insensitive)."""
    return [k.lower() for block in (st.get("Condition") or {}).values() if isinstance(block, dict) for k in block]


def key_use_actions(st: dict) -> list[str]:
    """The key-use actions (KEY_USE) an Allow statement's Action patterns grant."""
    if st.get("Effect") != "Allow" or "NotAction" in st:
        return []
    patterns = [str(a).lower() for a in as_list(st.get("Action"))]
    return [a for a in KEY_USE if any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns)]


def _identity_documents(props, resource_type):
    if resource_type in IDENTITY_DOCUMENTS:
        yield IDENTITY_DOCUMENTS[resource_type], get(props, IDENTITY_DOCUMENTS[resource_type])
    if resource_type == ROLE:
        for i, inline in enumerate(items(get(props, "inlinePolicies"))):
            yield f"inlinePolicies[{i}]", get(inline, "policy")


@rule("kms-key-use-scoped", "Identity policies must not allow decrypt or data-key use of any key ('*') without "
      "kms:ViaService or an encryption context: the key stays usable only through the service that encrypts the "
      "resource, for that resource.", types=(*IDENTITY_DOCUMENTS, ROLE), severity=Severity.HIGH,
      framework=fsbp("KMS.2"),
      steps="Add Condition StringEquals kms:ViaService '<service>.<region>.amazonaws.com' and the resource's "
            "encryption context (kms:EncryptionContext:aws:s3:arn, ...:aws:sqs:arn, ...:SecretARN); naming the key "
            "by kms:ResourceAliases alone still lets the role decrypt anything under that key, any way it likes.",
      refs={"cdk-nag": "AwsSolutions-IAM5"}, tags=["kms", "least-privilege", "encryption", "fsbp:KMS.1"])
def _key_use_scoped(props, report, args):
    for where, raw in _identity_documents(props, args.resource_type):
        for st in statements(policy_document(raw)):
            granted = key_use_actions(st)
            if not granted or "*" not in [str(r) for r in as_list(st.get("Resource"))]:
                continue
            if any(k.startswith(SCOPING_KEYS) for k in condition_keys(st)):
                continue
            report(f"{where}: statement {st.get('Sid') or '(no Sid)'} allows {', '.join(granted)} on every key "
                   f"without kms:ViaService or an encryption context.")


def _service_principals(st: dict) -> list[str]:
    principal = st.get("Principal")
    if not isinstance(principal, dict):
        return []
    return [str(s) for s in as_list(principal.get("Service"))]


@rule("kms-key-policy-service-source", "Key policies must not grant an AWS service principal without a source "
      "condition (aws:SourceArn, aws:SourceAccount, kms:ViaService or the encryption context of this account's "
      "resources): otherwise the service may use the key on behalf of any account (confused deputy).",
      types=(KMS_KEY, KMS_KEY_POLICY), severity=Severity.HIGH, framework=nist("AC-6"),
      steps="Add Condition StringEquals aws:SourceAccount <account> (or aws:SourceArn <the resource>, or the "
            "encryption context the service sends, e.g. kms:EncryptionContext:aws:sns:topicArn); drop service "
            "principals nothing uses.",
      tags=["kms", "confused-deputy", "access"])
def _service_source(props, report, args):
    for st in statements(policy_document(get(props, "policy"))):
        services = _service_principals(st)
        if st.get("Effect") != "Allow" or not services:
            continue
        if any(k.startswith(SOURCE_KEYS) for k in condition_keys(st)):
            continue
        report(f"statement {st.get('Sid') or '(no Sid)'} grants {', '.join(services)} without a source condition.")


def _no_lockout_bypass(props, report, args):
    if flag(props, "bypassPolicyLockoutSafetyCheck") is True:
        report("bypassPolicyLockoutSafetyCheck must not be true: a policy that locks out its administrators "
               "makes the key unmanageable.")


def _rotation(props, report, args):
    spec = get(props, "customerMasterKeySpec") or get(props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        args.not_applicable(f"automatic rotation is not supported for {spec} keys")
    if flag(props, "enableKeyRotation") is not True:
        report("enableKeyRotation must be true.")


POLICIES = [
    resource_policy(
        "kms-key-no-policy-lockout-bypass", "KMS key policies must not bypass the policy lockout safety check.",
        (KMS_KEY, KMS_KEY_POLICY, "aws:efs/fileSystemPolicy:FileSystemPolicy"), _no_lockout_bypass,
        severity=Severity.CRITICAL, framework=nist("AC-6"),
        remediation="Remove bypassPolicyLockoutSafetyCheck (default false).",
        tags=["kms", "access", "compliance-policies:aws-kms-key-disallow-bypass-policy-lockout-safety-check"]),
    resource_policy("kms-key-rotation-enabled", "KMS customer managed keys must rotate automatically.",
                    ("aws:kms/key:Key",), _rotation, severity=Severity.MEDIUM, framework=cis("3.6"),
                    remediation="Set enableKeyRotation=True (rotationPeriodInDays 90-2560, default 365).",
                    tags=["checkov:CKV_AWS_7", "cdk-nag:AwsSolutions-KMS5",
                          "compliance-policies:aws-kms-key-enable-key-rotation",
                          "awsguard:cmk-backing-key-rotation-enabled", "fsbp:KMS.4",
                          "encryption", "kms"]),
]
