"""IAM: full-admin and service-wide wildcard grants (inline, customer and AWS managed policies), users,
access keys, password policy, public trust and resource policies, management conflicts."""
from __future__ import annotations

import fnmatch

from pulumi_policy import PolicyConfigSchema, Severity
from pulumi_policy.proxy import UnknownValueError

from ._compliance import is_set, is_unknown, nist
from ._lib import (
    as_list,
    cis,
    flag,
    get,
    items,
    policy_document,
    resource_policy,
    stack_policy,
    statements,
)
from ._shared import KMS_KEY, KMS_KEY_POLICY

ADMIN_ARNS = ("arn:aws:iam::aws:policy/AdministratorAccess",)

# Resource types carrying a policy document, and the property that holds it.
DOCUMENT_PROPS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}

ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
}


def full_admin_statements(doc) -> list[dict]:
    """Allow statements granting '*' (or NotAction) on '*'."""
    bad = []
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in as_list(st.get("Action"))]
        resources = [str(r) for r in as_list(st.get("Resource"))]
        star_action = "*" in actions or "*:*" in actions or "NotAction" in st
        star_resource = "*" in resources or "NotResource" in st
        if star_action and star_resource:
            bad.append(st)
    return bad


def _documents(props, resource_type):
    if resource_type in DOCUMENT_PROPS:
        yield DOCUMENT_PROPS[resource_type], get(props, DOCUMENT_PROPS[resource_type])
    if resource_type == "aws:iam/role:Role":
        for i, inline in enumerate(items(get(props, "inlinePolicies"))):
            yield f"inlinePolicies[{i}]", get(inline, "policy")


def _no_admin(props, report, args):
    for where, raw in _documents(props, args.resource_type):
        doc = policy_document(raw)
        for st in full_admin_statements(doc):
            report(f"{where}: statement {st.get('Sid', '')!s} allows '*' actions on '*' resources.".replace(
                "statement  ", "a statement "))
    arns = []
    if args.resource_type in ATTACHMENTS:
        arns.append(get(props, ATTACHMENTS[args.resource_type]))
    if args.resource_type == "aws:iam/role:Role":
        arns.extend(items(get(props, "managedPolicyArns")))
    for arn in arns:
        if arn in ADMIN_ARNS:
            report(f"attaches {arn}.")


ROLE = "aws:iam/role:Role"

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"

USER_POLICY = "aws:iam/userPolicy:UserPolicy"

USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"

ACCESS_KEY = "aws:iam/accessKey:AccessKey"

LOGIN_PROFILE = "aws:iam/userLoginProfile:UserLoginProfile"

PASSWORD_POLICY = "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"

LAMBDA_PERMISSION = "aws:lambda/permission:Permission"

IAM_DOCUMENT_PROPS = {"aws:iam/policy:Policy": "policy", ROLE_POLICY: "policy", USER_POLICY: "policy",
                      "aws:iam/groupPolicy:GroupPolicy": "policy"}

# Resource types holding a resource-based policy, and the property with the document (inline on the resource
# or a separate policy resource: both styles).
RESOURCE_POLICY_PROPS = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:ecr/registryPolicy:RegistryPolicy": "policy",
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
    KMS_KEY: "policy",
    KMS_KEY_POLICY: "policy",
    "aws:secretsmanager/secret:Secret": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:efs/fileSystemPolicy:FileSystemPolicy": "policy",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
    "aws:elasticsearch/domain:Domain": "accessPolicies",
    "aws:elasticsearch/domainPolicy:DomainPolicy": "accessPolicies",
    "aws:opensearch/domain:Domain": "accessPolicies",
    "aws:opensearch/domainPolicy:DomainPolicy": "accessPolicies",
    "aws:glacier/vault:Vault": "accessPolicy",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "policy",
}

# Condition keys that narrow who can act: with one of these, Principal "*" is not public.
RESTRICTING_KEYS = {
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
    "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:principalorgpaths",
    "aws:sourceorgid", "aws:userid", "aws:username", "kms:calleraccount",
    "aws:principalservicename", "elasticfilesystem:accesspointarn", "aws:vpcsourceip",
    "aws:sourceorgpaths",
}

DEFAULT_DENIED_MANAGED = ["arn:aws:iam::aws:policy/IAMFullAccess", "arn:aws:iam::aws:policy/PowerUserAccess"]


def _is_star_principal(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any("*" in as_list(principal.get(k)) for k in ("AWS", "CanonicalUser", "Federated"))
    return False


def public_statements(doc) -> list[dict]:
    """Allow statements open to any principal with no condition that narrows who (NotPrincipal counts too)."""
    out = []
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        if not (_is_star_principal(st.get("Principal")) or "NotPrincipal" in st):
            continue
        keys = {k.lower() for block in (st.get("Condition") or {}).values() if isinstance(block, dict) for k in block}
        if not keys & RESTRICTING_KEYS:
            out.append(st)
    return out


def _no_public_resource_policy(props, report, args):
    if args.resource_type == LAMBDA_PERMISSION:
        if get(props, "principal") == "*" and not any(is_set(props, k) for k in ("sourceArn", "sourceAccount",
                                                                                "principalOrgId")):
            report("principal '*' with no sourceArn, sourceAccount or principalOrgId: anyone can invoke the function.")
        return
    prop = RESOURCE_POLICY_PROPS[args.resource_type]
    for st in public_statements(policy_document(get(props, prop))):
        report(f"{prop}: statement {st.get('Sid') or '(no Sid)'} allows Principal '*' with no condition on the "
               f"caller's account, organization, source ARN or VPC.")


def _trust_not_public(props, report, args):
    for st in public_statements(policy_document(get(props, "assumeRolePolicy"))):
        report(f"assumeRolePolicy: statement {st.get('Sid') or '(no Sid)'} lets any AWS principal assume the role.")


def _user_policies(props, report, args):
    if args.resource_type == POLICY_ATTACHMENT:
        if items(get(props, "users")):
            report("attaches a policy directly to IAM users; attach it to a group or role.")
    else:
        report("grants a policy directly to an IAM user; grant it to a group (or use roles) instead.")


def _access_keys(props, report, args):
    if get(props, "status", "Active") == "Inactive":
        return
    allowed = list((args.get_config() or {}).get("allowedUsers", []))
    if allowed and get(props, "user") in allowed:
        return
    report("creates an active long-lived access key; use roles (OIDC, IAM Roles Anywhere, instance profiles). "
           "Keys that must exist are rotated out of band within maxKeyAge days.")


def _console_access(props, report, args):
    report("gives an IAM user a console password; prefer IAM Identity Center. MFA cannot be verified in a "
           "preview: enforce it with an IAM policy denying actions without aws:MultiFactorAuthPresent.")


def _password_policy(props, report, args):
    cfg = args.get_config() or {}
    min_len = int(cfg.get("minimumPasswordLength", 14))
    reuse = int(cfg.get("passwordReusePrevention", 24))
    max_age = int(cfg.get("maxPasswordAge", 0))
    problems = []
    if get(props, "minimumPasswordLength", 6) < min_len:
        problems.append(f"minimumPasswordLength < {min_len} (CIS 1.8)")
    if reuse and get(props, "passwordReusePrevention", 0) < reuse:
        problems.append(f"passwordReusePrevention < {reuse} (CIS 1.9)")
    if max_age and not (0 < get(props, "maxPasswordAge", 0) <= max_age):
        problems.append(f"maxPasswordAge not within 1-{max_age}")
    if cfg.get("requireCharacterClasses", True):
        for key in ("requireLowercaseCharacters", "requireUppercaseCharacters", "requireNumbers", "requireSymbols"):
            if flag(props, key) is not True:
                problems.append(f"{key} not true")
    if problems:
        report("weak password policy: " + "; ".join(problems) + ".")


def _privileged_managed(props, report, args):
    denied = set((args.get_config() or {}).get("deniedPolicyArns", DEFAULT_DENIED_MANAGED))
    if args.resource_type != ROLE and is_unknown(props, "policyArn"):
        return  # another resource's output: a customer managed policy of this program, never an AWS managed ARN
    arns = items(get(props, "managedPolicyArns")) if args.resource_type == ROLE else [get(props, "policyArn")]
    for arn in arns:
        if arn in denied:
            report(f"attaches {arn}, which grants broad account-wide privileges.")


def _star_action(props, report, args):
    docs = []
    if args.resource_type in IAM_DOCUMENT_PROPS:
        docs.append((IAM_DOCUMENT_PROPS[args.resource_type], get(props, IAM_DOCUMENT_PROPS[args.resource_type])))
    if args.resource_type == ROLE:
        docs += [(f"inlinePolicies[{i}]", get(p, "policy")) for i, p in enumerate(items(get(props, "inlinePolicies")))]
    for where, raw_doc in docs:
        for st in statements(policy_document(raw_doc)):
            if st.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in as_list(st.get("Action"))]
            resources = [str(r) for r in as_list(st.get("Resource"))]
            if ("*" in actions or "*:*" in actions) and "*" not in resources and "NotResource" not in st:
                report(f"{where}: statement {st.get('Sid') or '(no Sid)'} allows every action on "
                       f"{', '.join(resources)}; list the actions.")


def _role_conflicts(resources, report, args):
    """awsguard iam-role-no-policy-management-conflicts, tolerant of read-back state (a deployed role's
    inlinePolicies/managedPolicyArns outputs list what the separate resources attached)."""
    roles = {r.urn: r for r in resources if r.resource_type == ROLE}
    props_for = {ROLE_ATTACHMENT: "role", ROLE_POLICY: "role", POLICY_ATTACHMENT: "roles"}
    attached: dict = {}
    for r in resources:
        prop = props_for.get(r.resource_type)
        if prop is None:
            continue
        for dep in r.property_dependencies.get(prop, []):
            if dep.urn in roles:
                attached.setdefault(dep.urn, []).append(r)
    for urn, separate in attached.items():
        role = roles[urn]
        managed = [a for a in items(get(role.props, "managedPolicyArns")) if a]
        inline = [p for p in items(get(role.props, "inlinePolicies")) if get(p, "name") or get(p, "policy")]
        if managed and any(r.resource_type != ROLE_POLICY for r in separate):
            arns = {get(r.props, "policyArn") for r in separate if r.resource_type != ROLE_POLICY}
            if not set(managed) <= arns:
                report(f"role {role.name} sets managedPolicyArns and also has policy attachment resources; "
                       f"use one or the other.", urn)
        if inline and any(r.resource_type == ROLE_POLICY for r in separate):
            names = {get(r.props, "name") for r in separate if r.resource_type == ROLE_POLICY}
            if not {get(p, "name") for p in inline} <= names:
                report(f"role {role.name} sets inlinePolicies and also has RolePolicy resources; use one or the "
                       f"other.", urn)


ATTACHMENT_ARN_PROPS = {"aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
                        "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
                        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
                        "aws:iam/policyAttachment:PolicyAttachment": "policyArn"}


def wildcard_resource(resource: str) -> bool:
    """'*', or an ARN whose resource part is only wildcards: every resource of the service, as '*' is
    (arn:aws:s3:::*, arn:aws:s3:::*/*, arn:aws:*:*:*:*, arn:*). A resource type or a name prefix
    (table/*, my-bucket/*) is not."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if parts[0] != "arn":
        return False
    if len(parts) < 6:
        return all(p in ("*", "") for p in parts[1:]) and resource.endswith("*")
    return parts[5] != "" and parts[5].strip("*/:") == ""


def service_wildcard_statements(doc, exempt=()) -> list[tuple[dict, list[str]]]:
    """Allow statements granting a whole service ('<service>:*', e.g. s3:*) or NotAction on '*' or on a
    wildcard ARN (arn:aws:s3:::*)."""
    bad = []
    for st in statements(doc):
        if st.get("Effect") != "Allow":
            continue
        resources = [str(r) for r in as_list(st.get("Resource"))]
        wide = [r for r in resources if wildcard_resource(r)]
        if not wide and "NotResource" not in st:
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
            on = ", ".join(sorted({str(r) for r in as_list(st.get("Resource")) if wildcard_resource(str(r))})) or "*"
            report(f"{where}: statement {sid + ' ' if sid else ''}allows {', '.join(hits)} on '{on}'; "
                   f"name the actions and the model/endpoint/job ARNs.")


# Data-plane writes: they change or remove the data a resource holds, and each of them can name its resource, so
# '*' is never needed (cloudwatch:PutMetricData, xray:Put* and ecr:GetAuthorizationToken have no resource ARN and
# are not data-plane writes to a store).
DATA_PLANE_WRITES = (
    "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete",
    "sqs:SendMessage", "sqs:DeleteMessage", "sqs:PurgeQueue", "sns:Publish",
    "kinesis:PutRecord", "kinesis:PutRecords", "firehose:PutRecord", "firehose:PutRecordBatch",
    "events:PutEvents", "secretsmanager:PutSecretValue", "ssm:PutParameter", "ssm:DeleteParameter",
    "logs:PutLogEvents", "elasticfilesystem:ClientWrite", "es:ESHttpPut", "es:ESHttpPost", "es:ESHttpDelete",
    "aoss:APIAccessAll", "rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement",
    "states:StartExecution", "lambda:InvokeFunction")


def data_plane_writes(st: dict) -> list[str]:
    """The data-plane write actions (DATA_PLANE_WRITES) an Allow statement grants on every resource ('*')."""
    if st.get("Effect") != "Allow" or "NotAction" in st:
        return []
    if "*" not in [str(r) for r in as_list(st.get("Resource"))] and "NotResource" not in st:
        return []
    patterns = [str(a).lower() for a in as_list(st.get("Action"))]
    if "*" in patterns or "*:*" in patterns:
        return []  # every action on everything: iam-no-full-admin's finding, not this one's
    return [a for a in DATA_PLANE_WRITES if any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns)]


def _data_plane_star(props, report, args):
    for where, raw in _documents(props, args.resource_type):
        for st in statements(policy_document(raw)):
            granted = data_plane_writes(st)
            if granted:
                report(f"{where}: statement {st.get('Sid') or '(no Sid)'} allows {', '.join(granted)} on every "
                       f"resource ('*'); name the tables, buckets, queues or streams it writes.")


POLICIES = [
    resource_policy(
        "iam-no-data-plane-write-on-star", "IAM policies must not allow data-plane writes (dynamodb:PutItem/"
        "DeleteItem, s3:PutObject/DeleteObject, sqs:SendMessage, sns:Publish, kinesis:PutRecord ...) on every "
        "resource ('*').", tuple(DOCUMENT_PROPS) + (ROLE,), _data_plane_star, severity=Severity.HIGH,
        framework=nist("AC-6"),
        remediation="Name the resources: the table (and its indexes), the bucket/prefix, the queue, topic or stream "
                    "ARNs (from the owning tier's published outputs or from their explicit names).",
        tags=["iam", "least-privilege", "data"],
        refs={"cdk-nag": "AwsSolutions-IAM5", "checkov": "CKV_AWS_290"}),
    resource_policy(
        "iam-no-full-admin", "IAM policies must not allow all actions on all resources.",
        tuple(DOCUMENT_PROPS) + tuple(ATTACHMENTS) + ("aws:iam/role:Role",), _no_admin,
        severity=Severity.CRITICAL, framework=cis("1.16"),
        remediation="Grant the specific actions on the specific resource ARNs the workload needs.",
        tags=["checkov:CKV_AWS_1", "checkov:CKV_AWS_62", "checkov:CKV_AWS_274", "fsbp:IAM.1",
              "iam", "least-privilege"]),
    stack_policy(
        "iam-role-no-policy-management-conflicts", "A role's policies must be managed either on the Role "
        "(inlinePolicies/managedPolicyArns) or as separate resources, not both.", _role_conflicts,
        severity=Severity.HIGH, framework=nist("CM-3"),
        remediation="Use RolePolicy/RolePolicyAttachment resources only (inlinePolicies/managedPolicyArns are "
                    "deprecated in pulumi-aws 7).",
        tags=["iam", "drift", "awsguard:iam-role-no-policy-management-conflicts"],
        types=('aws:iam/role:Role', 'aws:iam/rolePolicy:RolePolicy',
               'aws:iam/rolePolicyAttachment:RolePolicyAttachment', 'aws:iam/policyAttachment:PolicyAttachment')),
    resource_policy(
        "iam-user-no-policies", "IAM users must receive permissions only through groups.",
        (USER_POLICY, USER_ATTACHMENT, POLICY_ATTACHMENT), _user_policies, severity=Severity.MEDIUM,
        framework=cis("1.15"),
        remediation="Attach the policy to an aws.iam.Group and add the user with GroupMembership.",
        tags=["compliance-policies:aws-iam-policy-attachment-only-attachment-through-groups",
              "iam", "users", "checkov:CKV_AWS_40",
              "compliance-policies:aws-iam-user-policy-attachment-only-attachment-through-groups"]),
    resource_policy(
        "iam-no-user-access-keys", "IAM users must not get active long-lived access keys.", (ACCESS_KEY,),
        _access_keys, severity=Severity.HIGH, framework=cis("1.14"),
        remediation="Use roles; if a key is unavoidable, list its user in allowedUsers and rotate it.",
        tags=["iam", "credentials", "awsguard:access-keys-rotated"],
        config_schema=PolicyConfigSchema(properties={
            "allowedUsers": {"type": "array", "items": {"type": "string"}, "default": []},
            "maxKeyAge": {"type": "integer", "minimum": 1, "maximum": 730, "default": 90,
                          "description": "documented rotation age for allowed keys (awsguard parity)"}})),
    resource_policy(
        "iam-user-no-console-password", "IAM users should not get console passwords (use IAM Identity Center "
        "with MFA).", (LOGIN_PROFILE,), _console_access, severity=Severity.MEDIUM, framework=cis("1.10"),
        remediation="Use IAM Identity Center; if IAM users must log in, enforce MFA with a deny-without-MFA policy.",
        tags=["iam", "users", "awsguard:mfa-enabled-for-iam-console-access", "checkov:CKV_AWS_273"]),
    resource_policy(
        "iam-password-policy-strong", "The account password policy must meet CIS length and reuse requirements "
        "(and, configurably, complexity and maximum age).", (PASSWORD_POLICY,), _password_policy, severity=Severity.HIGH,
        framework=cis("1.8"),
        remediation="minimumPasswordLength>=14, passwordReusePrevention=24, require all four character classes.",
        tags=["compliance-policies:aws-iam-password-policy-minimum-password-length",
              "compliance-policies:aws-iam-password-policy-prevent-reuse",
              "iam", "passwords", "checkov:CKV_AWS_9", "checkov:CKV_AWS_10", "checkov:CKV_AWS_11",
              "checkov:CKV_AWS_12", "checkov:CKV_AWS_13", "checkov:CKV_AWS_14", "checkov:CKV_AWS_15"],
        config_schema=PolicyConfigSchema(properties={
            "minimumPasswordLength": {"type": "integer", "minimum": 6, "maximum": 128, "default": 14},
            "passwordReusePrevention": {"type": "integer", "minimum": 0, "maximum": 24, "default": 24},
            "maxPasswordAge": {"type": "integer", "minimum": 0, "maximum": 1095, "default": 0,
                               "description": "0: no expiry required (CIS 3.0 and NIST 800-63B dropped forced "
                                              "rotation); N: passwords must expire within N days"},
            "requireCharacterClasses": {"type": "boolean", "default": True}})),
    resource_policy(
        "iam-role-trust-not-public", "Role trust policies must not let any AWS principal assume the role.",
        (ROLE,), _trust_not_public, severity=Severity.CRITICAL, framework=nist("AC-3"),
        remediation="Name the trusted account, role or service; for cross-account trust add sts:ExternalId or "
                    "aws:PrincipalOrgID conditions.",
        tags=["iam", "exposure", "checkov:CKV_AWS_60"]),
    resource_policy(
        "resource-policy-not-public", "Resource-based policies (S3, SQS, SNS, ECR, EventBridge, Lambda, KMS, "
        "Secrets Manager, EFS, OpenSearch, Glacier, VPC endpoints, log delivery) must not allow Principal '*' "
        "without a condition narrowing the caller.",
        tuple(RESOURCE_POLICY_PROPS) + (LAMBDA_PERMISSION,), _no_public_resource_policy, severity=Severity.CRITICAL,
        framework=nist("AC-3"),
        remediation="Name principals, or add aws:PrincipalOrgID / aws:SourceAccount / aws:SourceVpce / "
                    "kms:CallerAccount conditions.",
        tags=["exposure", "resource-policy", "checkov:CKV_AWS_33", "checkov:CKV_AWS_70", "checkov:CKV_AWS_168",
              "checkov:CKV_AWS_169", "checkov:CKV_AWS_32", "checkov:CKV_AWS_301", "cdk-nag:AwsSolutions-ECR1",
              "cdk-nag:AwsSolutions-EVB1", "cdk-nag:AwsSolutions-S5"]),
    resource_policy(
        "iam-no-star-action", "IAM policies must not allow every action ('*'), even on named resources.",
        tuple(IAM_DOCUMENT_PROPS) + (ROLE,), _star_action, severity=Severity.HIGH, framework=cis("1.16"),
        remediation="List the actions the workload calls (e.g. s3:GetObject, s3:PutObject) for those resources.",
        tags=["checkov:CKV_AWS_49",
              "iam", "least-privilege", "checkov:CKV_AWS_63", "cdk-nag:AwsSolutions-IAM5"]),
    resource_policy(
        "iam-no-privileged-managed-policies", "Roles, users and groups must not attach broad AWS managed policies "
        "(IAMFullAccess, PowerUserAccess by default).",
        (ROLE, ROLE_ATTACHMENT, USER_ATTACHMENT, POLICY_ATTACHMENT, "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"),
        _privileged_managed, severity=Severity.HIGH, framework=cis("1.16"),
        remediation="Write a customer managed policy with the actions and resources the workload needs.",
        tags=["iam", "least-privilege", "checkov:CKV2_AWS_56"],
        config_schema=PolicyConfigSchema(properties={
            "deniedPolicyArns": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_DENIED_MANAGED}})),
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


# --- IAM depth (issue 31): privilege-escalation combinations on '*' ------------------------------------------
# The documented escalation paths (Rhino Security Labs' list, as checkov CKV_AWS_286 and cloudsplaining use it):
# each is a set of actions that, all allowed on every resource, let the holder gain more privilege than it has.
# (name, actions, the service a passed role goes to: an iam:PassedToService condition can rule a path out)
ESCALATION_PATHS = (
    ("create a new version of a policy it is attached to", ("iam:CreatePolicyVersion",), None),
    ("make an older policy version the default", ("iam:SetDefaultPolicyVersion",), None),
    ("create access keys for another user", ("iam:CreateAccessKey",), None),
    ("set another user's console password", ("iam:CreateLoginProfile",), None),
    ("change another user's console password", ("iam:UpdateLoginProfile",), None),
    ("attach any managed policy to a user", ("iam:AttachUserPolicy",), None),
    ("attach any managed policy to a group", ("iam:AttachGroupPolicy",), None),
    ("attach any managed policy to a role and assume it", ("iam:AttachRolePolicy", "sts:AssumeRole"), None),
    ("write any inline policy on a user", ("iam:PutUserPolicy",), None),
    ("write any inline policy on a group", ("iam:PutGroupPolicy",), None),
    ("write any inline policy on a role and assume it", ("iam:PutRolePolicy", "sts:AssumeRole"), None),
    ("add a user to any group", ("iam:AddUserToGroup",), None),
    ("rewrite a role's trust policy and assume it", ("iam:UpdateAssumeRolePolicy", "sts:AssumeRole"), None),
    ("pass any role to a new EC2 instance", ("iam:PassRole", "ec2:RunInstances"), "ec2.amazonaws.com"),
    ("pass any role to a new Lambda function and invoke it",
     ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"), "lambda.amazonaws.com"),
    ("pass any role to a new Lambda function and trigger it from an event source",
     ("iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"), "lambda.amazonaws.com"),
    ("replace the code of any Lambda function (running as its role)", ("lambda:UpdateFunctionCode",), None),
    ("pass any role to a new Glue development endpoint", ("iam:PassRole", "glue:CreateDevEndpoint"),
     "glue.amazonaws.com"),
    ("take over any Glue development endpoint", ("glue:UpdateDevEndpoint",), None),
    ("pass any role to a new CloudFormation stack", ("iam:PassRole", "cloudformation:CreateStack"),
     "cloudformation.amazonaws.com"),
    ("pass any role to a new Data Pipeline",
     ("iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
     "datapipeline.amazonaws.com"),
    ("pass any role to a new SageMaker notebook and open it",
     ("iam:PassRole", "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"),
     "sagemaker.amazonaws.com"),
    ("pass any role to a new ECS task and run it", ("iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"),
     "ecs-tasks.amazonaws.com"),
    ("pass any role to a new CodeBuild project and start it",
     ("iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"), "codebuild.amazonaws.com"),
)

PRINCIPALS = {ROLE: "role", "aws:iam/user:User": "user", "aws:iam/group:Group": "group"}
# Separate policy resources and the property that names their principal (a URN dependency joins them).
INLINE_FOR = {ROLE_POLICY: "role", USER_POLICY: "user", "aws:iam/groupPolicy:GroupPolicy": "group"}
ATTACH_FOR = {ROLE_ATTACHMENT: ("role",), USER_ATTACHMENT: ("user",),
              "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": ("group",),
              POLICY_ATTACHMENT: ("roles", "users", "groups")}
MANAGED_POLICY = "aws:iam/policy:Policy"


def _matches(pattern: str, action: str) -> bool:
    import fnmatch
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _every_of_a_type(resource: str) -> bool:
    """An ARN naming every resource of one type (arn:aws:iam::123456789012:role/*, ...:function:*): for an
    escalation path that is as good as '*' (iam:PassRole on role/* passes any role)."""
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    rest = parts[5]
    for sep in ("/", ":"):
        kind, found, tail = rest.partition(sep)
        if found and kind and tail.strip("*") == "" and "*" in tail:
            return True
    return False


def _wide(st: dict) -> bool:
    return "NotResource" in st or any(wildcard_resource(str(r)) or _every_of_a_type(str(r))
                                      for r in as_list(st.get("Resource")))


def _passed_to(st: dict):
    """The services an iam:PassedToService condition limits PassRole to (None: any)."""
    for block in (st.get("Condition") or {}).values():
        if isinstance(block, dict):
            for key, value in block.items():
                if key.lower() == "iam:passedtoservice":
                    return {str(v).lower() for v in as_list(value)}
    return None


def _grants(sts: list[dict], action: str, service) -> bool:
    """Is `action` allowed on every resource by these statements (and not denied on every resource)?"""
    def covers(st):
        if "NotAction" in st:
            return not any(_matches(str(p), action) for p in as_list(st.get("NotAction")))
        return any(_matches(str(p), action) for p in as_list(st.get("Action")))
    if any(st.get("Effect") == "Deny" and covers(st) and _wide(st) and not st.get("Condition") for st in sts):
        return False
    for st in sts:
        if st.get("Effect") != "Allow" or not covers(st) or not _wide(st):
            continue
        limited = _passed_to(st) if action.lower() == "iam:passrole" else None
        if limited is None or service is None or service in limited:
            return True
    return False


def escalation_paths(sts: list[dict]) -> list[str]:
    return [f"{name} ({' + '.join(actions)})" for name, actions, service in ESCALATION_PATHS
            if all(_grants(sts, a, service) for a in actions)]


def _document_statements(resource) -> list[dict]:
    docs = []
    if resource.resource_type in (MANAGED_POLICY,) + tuple(INLINE_FOR):
        docs.append(policy_document(get(resource.props, "policy")))
    if resource.resource_type == ROLE:
        docs += [policy_document(get(p, "policy")) for p in items(get(resource.props, "inlinePolicies"))]
    return [st for d in docs for st in statements(d)]


def _privilege_escalation(resources, report, args):
    by_urn = {r.urn: r for r in resources}
    held: dict = {}  # principal urn -> [(source name, statements)]
    joined = set()   # policy resources whose statements were judged with their principal

    def add(principal_urn, source):
        held.setdefault(principal_urn, []).append(source)
        joined.add(source.urn)

    for r in resources:
        if r.resource_type in INLINE_FOR:
            for dep in r.property_dependencies.get(INLINE_FOR[r.resource_type], []):
                if dep.urn in by_urn and by_urn[dep.urn].resource_type in PRINCIPALS:
                    add(dep.urn, r)
        elif r.resource_type in ATTACH_FOR:
            policies = [by_urn[d.urn] for d in r.property_dependencies.get("policyArn", [])
                        if d.urn in by_urn and by_urn[d.urn].resource_type == MANAGED_POLICY]
            for prop in ATTACH_FOR[r.resource_type]:
                for dep in r.property_dependencies.get(prop, []):
                    if dep.urn in by_urn and by_urn[dep.urn].resource_type in PRINCIPALS:
                        for policy in policies:
                            add(dep.urn, policy)
    unknown = None
    for r in resources:
        try:
            if r.resource_type in PRINCIPALS:
                sources = [(r.name, _document_statements(r))] + [(s.name, _document_statements(s))
                                                                  for s in held.get(r.urn, [])]
                paths = escalation_paths([st for _, sts in sources for st in sts])
                if paths:
                    report(f"{PRINCIPALS[r.resource_type]} {r.name} can escalate its privileges: {'; '.join(paths)} "
                           f"(from {', '.join(n for n, sts in sources if sts)}).", r.urn)
            elif r.resource_type in (MANAGED_POLICY,) + tuple(INLINE_FOR) and r.urn not in joined:
                paths = escalation_paths(_document_statements(r))
                if paths:
                    report(f"policy {r.name} allows privilege escalation: {'; '.join(paths)}.", r.urn)
        except UnknownValueError as e:  # judge every principal whose documents are known, then say what was not
            unknown = unknown or e
    if unknown is not None:
        raise unknown


stack_policy(
    "iam-no-privilege-escalation", "IAM principals (with all their inline, separate and attached customer managed "
    "policies) must not hold a privilege-escalation combination of actions on every resource (iam:PassRole + "
    "lambda:CreateFunction + lambda:InvokeFunction, iam:CreatePolicyVersion, ...).", _privilege_escalation,
    types=tuple(PRINCIPALS) + (MANAGED_POLICY,) + tuple(INLINE_FOR) + tuple(ATTACH_FOR), severity=Severity.CRITICAL,
    remediation="Scope iam:PassRole to the role ARNs the workload passes (with an iam:PassedToService condition), and "
                "the create/update actions to the resources it owns; no principal needs the whole path on '*'.",
    refs={"checkov": ["CKV_AWS_286", "CKV_AWS_110"]}, tags=["iam", "least-privilege", "privilege-escalation"])
