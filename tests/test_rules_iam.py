"""Tests for policies/rules/iam.py: each rule violating, passing and as a preview shows it."""
from __future__ import annotations

import json

from policy_harness import (
    UNKNOWN,
    case_table,
    check,
    names,
    rec,
    skipped,
    violations,
)

# --- iam-no-full-admin -----------------------------------------------------------------------
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

SCOPED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                  "Resource": "arn:aws:s3:::b/*"}]}

ROLE, KEY = "aws:iam/role:Role", "aws:kms/key:Key"

ROLE, KEY = "aws:iam/role:Role", "aws:kms/key:Key"

ADMIN_ROOT = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
              "Resource": "*"}

PUBLIC = {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}

PUBLIC_AWS = {"Sid": "OpenAws", "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "secretsmanager:GetSecretValue",
              "Resource": "*"}

NARROWED = dict(PUBLIC, Sid="Org", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})

NOT_NARROWED = dict(PUBLIC, Sid="TlsOnly", Condition={"Bool": {"aws:SecureTransport": "true"}})


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


TRUST_SERVICE = json.dumps(doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole"}))

TRUST_PUBLIC = json.dumps(doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}))

STRONG = {"minimumPasswordLength": 14, "passwordReusePrevention": 24, "maxPasswordAge": 90,
          "requireLowercaseCharacters": True, "requireUppercaseCharacters": True, "requireNumbers": True,
          "requireSymbols": True}

CASES = [
    ("resource-policy-not-public", "key-public-json", KEY, {"enableKeyRotation": True,
                                                            "policy": json.dumps(doc(ADMIN_ROOT, PUBLIC))}, "violation"),
    ("resource-policy-not-public", "key-public-object", "aws:kms/keyPolicy:KeyPolicy",
     {"keyId": "k", "policy": doc(NOT_NARROWED)}, "violation"),
    ("resource-policy-not-public", "secret-public", "aws:secretsmanager/secretPolicy:SecretPolicy",
     {"secretArn": "arn:s", "policy": json.dumps(doc(PUBLIC_AWS))}, "violation"),
    ("resource-policy-not-public", "key-private", KEY, {"enableKeyRotation": True,
                                                        "policy": json.dumps(doc(ADMIN_ROOT, NARROWED))}, "pass"),
    ("resource-policy-not-public", "efs-policy-ok", "aws:efs/fileSystemPolicy:FileSystemPolicy",
     {"fileSystemId": "fs-1", "policy": doc(dict(NARROWED, Action="elasticfilesystem:ClientMount"))}, "pass"),
    ("resource-policy-not-public", "secret-policy-preview", "aws:secretsmanager/secretPolicy:SecretPolicy",
     {"secretArn": UNKNOWN, "policy": json.dumps(doc(dict(PUBLIC_AWS, Principal={"AWS": "arn:aws:iam::1:root"})))},
     "pass"),
    ("resource-policy-not-public", "key-policy-unknown", KEY, {"enableKeyRotation": True, "policy": UNKNOWN},
     "skipped"),
    ("iam-role-trust-not-public", "role-public", ROLE, {"assumeRolePolicy": TRUST_PUBLIC}, "violation"),
    ("iam-role-trust-not-public", "role-service", ROLE, {"assumeRolePolicy": TRUST_SERVICE}, "pass"),
    ("iam-role-trust-not-public", "role-preview", ROLE, {"assumeRolePolicy": TRUST_SERVICE, "name": UNKNOWN}, "pass"),
    ("iam-user-no-policies", "user-inline", "aws:iam/userPolicy:UserPolicy", {"user": "bob", "policy": "{}"},
     "violation"),
    ("iam-user-no-policies", "user-attach", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
     {"user": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, "violation"),
    ("iam-user-no-policies", "pa-users", "aws:iam/policyAttachment:PolicyAttachment",
     {"users": ["bob"], "policyArn": "arn:p"}, "violation"),
    ("iam-user-no-policies", "pa-groups", "aws:iam/policyAttachment:PolicyAttachment",
     {"groups": ["devs"], "policyArn": "arn:p"}, "pass"),
    ("iam-user-no-policies", "pa-groups-preview", "aws:iam/policyAttachment:PolicyAttachment",
     {"groups": [UNKNOWN], "policyArn": UNKNOWN}, "pass"),
    ("iam-no-user-access-keys", "key-active", "aws:iam/accessKey:AccessKey", {"user": "bob"}, "violation"),
    ("iam-no-user-access-keys", "key-inactive", "aws:iam/accessKey:AccessKey", {"user": "bob", "status": "Inactive"},
     "pass"),
    ("iam-no-user-access-keys", "key-inactive-preview", "aws:iam/accessKey:AccessKey",
     {"user": UNKNOWN, "status": "Inactive"}, "pass"),
    ("iam-user-no-console-password", "login", "aws:iam/userLoginProfile:UserLoginProfile", {"user": "bob"},
     "violation"),
    ("iam-user-no-console-password", "login-preview", "aws:iam/userLoginProfile:UserLoginProfile", {"user": UNKNOWN},
     "violation"),
    ("iam-password-policy-strong", "pw-weak", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
     {"minimumPasswordLength": 8}, "violation"),
    ("iam-password-policy-strong", "pw-reuse", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
     dict(STRONG, passwordReusePrevention=5), "violation"),
    ("iam-password-policy-strong", "pw-strong", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy", STRONG, "pass"),
    ("iam-password-policy-strong", "pw-unknown", "aws:iam/accountPasswordPolicy:AccountPasswordPolicy",
     dict(STRONG, minimumPasswordLength=UNKNOWN), "skipped"),
    ("iam-no-privileged-managed-policies", "attach-iamfull", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}, "violation"),
    ("iam-no-privileged-managed-policies", "role-poweruser", ROLE,
     {"assumeRolePolicy": TRUST_SERVICE, "managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]}, "violation"),
    ("iam-no-privileged-managed-policies", "attach-readonly", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, "pass"),
    ("iam-no-privileged-managed-policies", "attach-preview", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     {"role": UNKNOWN, "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}, "pass"),
    ("iam-no-privileged-managed-policies", "attach-own-policy-preview",
     "aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": UNKNOWN, "policyArn": UNKNOWN}, "pass"),
]

_names = names

TAGS = {"Project": "p", "Environment": "prod", "ManagedBy": "pulumi", "Owner": "o", "CostCenter": "c"}


def names_ml(result, policy):
    return [v.urn.split("::")[-1] for v in violations(result, policy)]


# --- iam-no-service-wildcards --------------------------------------------------------------------
def doc_ml(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BEDROCK_OK = {"Effect": "Allow", "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
              "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"]}


def test_iam_full_admin_in_every_policy_style():
    r = check([
        rec("aws:iam/policy:Policy", "json-string", {"policy": json.dumps(ADMIN)}),
        rec("aws:iam/rolePolicy:RolePolicy", "object", {"policy": ADMIN}),
        rec("aws:iam/role:Role", "inline", {"inlinePolicies": [{"name": "x", "policy": json.dumps(ADMIN)}]}),
        rec("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach",
            {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "r"}),
        rec("aws:iam/policy:Policy", "notaction", {"policy": {"Statement": [
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}}),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "iam-no-full-admin")) == [
        "attach", "inline", "json-string", "notaction", "object"]


def test_iam_scoped_and_deny_statements_pass():
    deny = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    r = check([rec("aws:iam/policy:Policy", "scoped", {"policy": json.dumps(SCOPED)}),
               rec("aws:iam/policy:Policy", "deny", {"policy": deny})])
    assert violations(r, "iam-no-full-admin") == []


def test_iam_policy_unknown_in_preview_is_undecidable():
    r = check([rec("aws:iam/rolePolicy:RolePolicy", "p", {"policy": UNKNOWN, "role": UNKNOWN})])
    assert violations(r, "iam-no-full-admin") == [] and skipped(r, "iam-no-full-admin")


test_case = case_table(CASES)


def test_password_expiry_is_checked_only_when_configured():
    no_expiry = {k: v for k, v in STRONG.items() if k != "maxPasswordAge"}
    r = check([rec("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", "pw", no_expiry)])
    assert violations(r, "iam-password-policy-strong") == []
    r = check([rec("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", "pw", no_expiry)],
              config={"iam-password-policy-strong": {"maxPasswordAge": 90}})
    assert "maxPasswordAge" in violations(r, "iam-password-policy-strong")[0].message


def test_password_policy_thresholds_are_configurable():
    r = check([rec("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", "pw",
                   dict(STRONG, minimumPasswordLength=10, passwordReusePrevention=5))],
              config={"iam-password-policy-strong": {"minimumPasswordLength": 10, "passwordReusePrevention": 5}})
    assert violations(r, "iam-password-policy-strong") == []


def test_allowed_access_key_users():
    r = check([rec("aws:iam/accessKey:AccessKey", "ci", {"user": "ci-bot"})],
              config={"iam-no-user-access-keys": {"allowedUsers": ["ci-bot"]}})
    assert violations(r, "iam-no-user-access-keys") == []


def test_role_policy_management_conflicts():
    r = check([
        rec(ROLE, "both", {"assumeRolePolicy": TRUST_SERVICE,
                           "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
        rec("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "both-attach",
            {"role": UNKNOWN, "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
            prop_deps={"role": ["both"]}),
        rec(ROLE, "inline-both", {"assumeRolePolicy": TRUST_SERVICE,
                                  "inlinePolicies": [{"name": "mine", "policy": "{}"}]}),
        rec("aws:iam/rolePolicy:RolePolicy", "inline-both-rp", {"role": UNKNOWN, "name": "other", "policy": "{}"},
            prop_deps={"role": ["inline-both"]}),
        # read-back state: the role lists exactly what the attachment attached
        rec(ROLE, "readback", {"assumeRolePolicy": TRUST_SERVICE,
                               "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
        rec("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "readback-attach",
            {"role": "readback", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, prop_deps={"role": ["readback"]}),
        # preview of a new stack: separate resources only, role name unknown
        rec(ROLE, "separate", {"assumeRolePolicy": TRUST_SERVICE, "name": UNKNOWN}),
        rec("aws:iam/rolePolicy:RolePolicy", "separate-rp", {"role": UNKNOWN, "policy": UNKNOWN},
            prop_deps={"role": ["separate"]}),
    ])
    assert _names(violations(r, "iam-role-no-policy-management-conflicts")) == {"both", "inline-both"}
    assert not skipped(r, "iam-role-no-policy-management-conflicts")


def test_public_resource_policies_in_every_service_and_style():
    open_doc = json.dumps(doc(dict(PUBLIC, Action="*")))
    r = check([
        rec("aws:s3/bucketPolicy:BucketPolicy", "bp-open", {"bucket": UNKNOWN, "policy": open_doc}),
        # TLS-only deny with Principal '*' is not an allow
        rec("aws:s3/bucketPolicy:BucketPolicy", "bp-tls", {"bucket": UNKNOWN, "policy": doc(
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}})}),
        rec("aws:sqs/queue:Queue", "q-open", {"policy": doc(PUBLIC_AWS)}),
        rec("aws:sqs/queuePolicy:QueuePolicy", "qp-service", {"queueUrl": UNKNOWN, "policy": doc(
            {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": "*", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}}})}),
        rec("aws:sns/topicPolicy:TopicPolicy", "tp-owner", {"arn": UNKNOWN, "policy": doc(
            dict(PUBLIC, Condition={"StringEquals": {"aws:SourceOwner": "111122223333"}}))}),
        rec("aws:ecr/repositoryPolicy:RepositoryPolicy", "repo-open", {"repository": "r", "policy": open_doc}),
        rec("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "bus-open", {"eventBusName": "b", "policy": open_doc}),
        rec("aws:lambda/permission:Permission", "perm-open", {"function": UNKNOWN, "principal": "*",
                                                              "action": "lambda:InvokeFunction"}),
        rec("aws:lambda/permission:Permission", "perm-arn", {"function": UNKNOWN, "principal": "*",
                                                             "action": "lambda:InvokeFunction", "sourceArn": UNKNOWN}),
        rec("aws:lambda/permission:Permission", "perm-service", {"function": UNKNOWN, "principal": "s3.amazonaws.com",
                                                                 "action": "lambda:InvokeFunction"}),
    ])
    assert _names(violations(r, "resource-policy-not-public")) == {"bp-open", "q-open", "repo-open", "bus-open",
                                                                   "perm-open"}
    assert not skipped(r, "resource-policy-not-public")


def test_star_action_on_named_resources():
    star_on_bucket = {"Effect": "Allow", "Action": "*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}
    scoped = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}
    r = check([
        rec("aws:iam/policy:Policy", "star-json", {"policy": json.dumps(doc(star_on_bucket))}),
        rec(ROLE, "star-inline", {"assumeRolePolicy": TRUST_SERVICE, "inlinePolicies": [
            {"name": "x", "policy": json.dumps(doc(dict(star_on_bucket, Action=["*:*"])))}]}),
        rec("aws:iam/rolePolicy:RolePolicy", "scoped", {"role": UNKNOWN, "policy": doc(scoped)}),
        # '*' on '*' is iam-no-full-admin's finding, not repeated here
        rec("aws:iam/rolePolicy:RolePolicy", "admin", {"role": UNKNOWN, "policy": doc(dict(scoped, Action="*",
                                                                                               Resource="*"))}),
        rec("aws:iam/rolePolicy:RolePolicy", "preview", {"role": UNKNOWN, "policy": UNKNOWN}),
    ])
    assert _names(violations(r, "iam-no-star-action")) == {"star-json", "star-inline"}
    assert _names(skipped(r, "iam-no-star-action")) == {"preview"}
    assert "admin" in _names(violations(r, "iam-no-full-admin"))


def test_external_id_alone_does_not_make_a_public_trust_private():
    trust = json.dumps(doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": "shared-secret"}}}))
    org = json.dumps(doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                          "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}}))
    r = check([rec(ROLE, "external-id", {"assumeRolePolicy": trust}), rec(ROLE, "org", {"assumeRolePolicy": org})])
    assert _names(violations(r, "iam-role-trust-not-public")) == {"external-id"}


def test_service_wildcards_violation_in_every_policy_style():
    r = check([
        rec("aws:iam/policy:Policy", "managed", {"policy": doc_ml({"Effect": "Allow", "Action": "bedrock:*",
                                                                "Resource": "*"}), "tags": TAGS}),
        rec("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "r", "policy": doc_ml(
            {"Sid": "All", "Effect": "Allow", "Action": ["s3:GetObject", "SageMaker:*"], "Resource": ["*"]})}),
        rec("aws:iam/role:Role", "role", {"assumeRolePolicy": "{}", "tags": TAGS, "inlinePolicies": [
            {"name": "x", "policy": doc_ml({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})}]}),
    ])
    assert sorted(names_ml(r, "iam-no-service-wildcards")) == ["inline", "managed", "role"]
    assert any("statement All allows sagemaker:*" in v.message for v in violations(r, "iam-no-service-wildcards"))


def test_service_wildcards_pass_scoped_or_denied():
    r = check([
        rec("aws:iam/policy:Policy", "bedrock", {"policy": doc_ml(BEDROCK_OK), "tags": TAGS}),
        rec("aws:iam/rolePolicy:RolePolicy", "scoped", {"role": "r", "policy": doc_ml(
            {"Effect": "Allow", "Action": "sagemaker:*",
             "Resource": "arn:aws:sagemaker:us-east-1:123456789012:training-job/ai-platform-dev-train-*"},
            {"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})}),
    ])
    assert violations(r, "iam-no-service-wildcards") == []


def test_service_wildcards_pass_in_preview_and_skip_unknown_documents():
    r = check([
        rec("aws:iam/policy:Policy", "bedrock", {"policy": doc_ml(BEDROCK_OK), "tags": TAGS}),
        rec("aws:iam/rolePolicy:RolePolicy", "unknown-role", {"role": UNKNOWN, "policy": doc_ml(BEDROCK_OK)}),
    ])
    assert violations(r, "iam-no-service-wildcards") == [] and not skipped(r, "iam-no-service-wildcards")
    # A document that contains another resource's ARN is unknown as a whole in a preview: undecidable.
    r = check([rec("aws:iam/rolePolicy:RolePolicy", "unknown-doc_ml", {"role": "r", "policy": UNKNOWN})])
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


# --- issue 31: service-wide actions on wildcard ARNs; privilege-escalation combinations --------------------------
def test_service_wildcard_on_a_wildcard_arn_is_reported():
    def pol(name, resource, action="s3:*"):
        return rec("aws:iam/policy:Policy", name, {"policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": action, "Resource": resource}]})})
    r = check([pol("all-buckets", "arn:aws:s3:::*"), pol("all-objects", ["arn:aws:s3:::*/*"]),
               pol("any-arn", "arn:aws:*:*:*:*", ["dynamodb:*"]), pol("one-bucket", "arn:aws:s3:::data/*"),
               pol("one-table-type", "arn:aws:dynamodb:*:*:table/*", "dynamodb:*"),
               pol("named", ["arn:aws:s3:::data", "arn:aws:s3:::data/*"], ["s3:GetObject"])])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, "iam-no-service-wildcards")}
    assert set(found) == {"all-buckets", "all-objects", "any-arn"}
    assert "on 'arn:aws:s3:::*'" in found["all-buckets"]


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


ESC = "iam-no-privilege-escalation"


def test_privilege_escalation_combination_across_a_roles_policies():
    """iam:PassRole in one RolePolicy, lambda:CreateFunction and invoke in another: together an escalation path."""
    role = rec("aws:iam/role:Role", "role", {"assumeRolePolicy": "{}"})
    r = check([
        role,
        rec("aws:iam/rolePolicy:RolePolicy", "pass", {"role": UNKNOWN, "policy": _doc(_allow("iam:PassRole"))},
            deps=["role"], prop_deps={"role": ["role"]}),
        rec("aws:iam/rolePolicy:RolePolicy", "lambda", {"role": UNKNOWN, "policy": _doc(
            _allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))}, deps=["role"], prop_deps={"role": ["role"]}),
        # the same actions, PassRole scoped to one role ARN: no path
        rec("aws:iam/role:Role", "scoped", {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "p", "policy": _doc(
            _allow("iam:PassRole", "arn:aws:iam::1:role/fn"), _allow(["lambda:CreateFunction", "lambda:Invoke*"]))}]}),
        # PassRole limited by iam:PassedToService to ECS tasks: the Lambda path is ruled out
        rec("aws:iam/role:Role", "ecs-only", {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "p", "policy": _doc(
            _allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            _allow("lambda:*"))}]}),
    ])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, ESC)}
    assert set(found) == {"role", "ecs-only"}  # ecs-only: lambda:* on '*' includes lambda:UpdateFunctionCode
    assert "iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction" in found["role"]
    assert "from pass, lambda" in found["role"]
    ecs_only = found["ecs-only"].split("can escalate")[1]  # the message after the rule's description
    assert "PassRole" not in ecs_only and "lambda:UpdateFunctionCode" in ecs_only
    assert all(v.level == "mandatory" for v in violations(r, ESC))


def test_privilege_escalation_single_actions_wildcards_and_not_action():
    r = check([
        rec("aws:iam/policy:Policy", "versions", {"policy": _doc(_allow("iam:CreatePolicyVersion"))}),
        rec("aws:iam/policy:Policy", "iam-put", {"policy": _doc(_allow(["iam:Put*", "sts:AssumeRole"]))}),
        rec("aws:iam/policy:Policy", "not-action", {"policy": json.dumps({"Statement": {
            "Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}})}),
        rec("aws:iam/policy:Policy", "denied", {"policy": _doc(_allow("iam:CreateAccessKey"), {
            "Effect": "Deny", "Action": "iam:*", "Resource": "*"})}),
        rec("aws:iam/policy:Policy", "own-user", {"policy": _doc(_allow(
            "iam:CreateAccessKey", "arn:aws:iam::1:user/${aws:username}"))}),
        rec("aws:iam/policy:Policy", "read-only", {"policy": _doc(_allow(["iam:Get*", "iam:List*"]))}),
    ])
    found = {v.urn.split("::")[-1]: v.message for v in violations(r, ESC)}
    assert set(found) == {"versions", "iam-put", "not-action"}
    assert "iam:PutRolePolicy + sts:AssumeRole" in found["iam-put"]


def test_privilege_escalation_policy_attached_to_a_user_is_judged_once_at_the_user():
    r = check([
        rec("aws:iam/user:User", "ci", {"name": "ci"}),
        rec("aws:iam/policy:Policy", "deploy", {"policy": _doc(_allow("iam:AttachUserPolicy"))}),
        rec("aws:iam/userPolicyAttachment:UserPolicyAttachment", "attach", {"user": UNKNOWN, "policyArn": UNKNOWN},
            deps=["ci", "deploy"], prop_deps={"user": ["ci"], "policyArn": ["deploy"]}),
    ])
    assert names(violations(r, ESC)) == {"ci"}


def test_privilege_escalation_in_a_preview_decides_what_is_known_and_says_what_is_not():
    r = check([rec("aws:iam/policy:Policy", "known", {"policy": _doc(_allow("iam:CreateLoginProfile"))}),
               rec("aws:iam/policy:Policy", "computed", {"policy": UNKNOWN})])
    assert names(violations(r, ESC)) == {"known"}
    assert skipped(r, ESC)  # the unknown document is reported as could-not-run, never as a pass

# --- iam-no-data-plane-write-on-star (issue 32, listed in issue 27 too) ------------------------------
def test_data_plane_write_on_star_both_sides():
    def doc(action, resource="*", **extra):
        return json.dumps({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]})
    r = check([
        rec("aws:iam/rolePolicy:RolePolicy", "table-writes", {"role": "r", "policy": doc(
            ["dynamodb:PutItem", "dynamodb:DeleteItem"])}),
        rec("aws:iam/rolePolicy:RolePolicy", "pattern", {"role": "r", "policy": doc("s3:Delete*")}),
        rec("aws:iam/policy:Policy", "managed-send", {"policy": doc(["sqs:SendMessage"], ["*"])}),
        rec("aws:iam/role:Role", "inline-publish", {"assumeRolePolicy": "{}", "inlinePolicies": [
            {"name": "p", "policy": doc("sns:Publish")}]}),
        # passing: named resources, reads on '*', actions that have no resource ARN
        rec("aws:iam/rolePolicy:RolePolicy", "named", {"role": "r", "policy": doc(
            ["dynamodb:PutItem"], "arn:aws:dynamodb:us-east-1:123456789012:table/t")}),
        rec("aws:iam/rolePolicy:RolePolicy", "reads", {"role": "r", "policy": doc(["dynamodb:GetItem", "s3:GetObject"])}),
        rec("aws:iam/rolePolicy:RolePolicy", "metrics", {"role": "r", "policy": doc(
            ["cloudwatch:PutMetricData", "xray:PutTraceSegments", "ecr:GetAuthorizationToken"])}),
    ])
    assert sorted(v.urn.split("::")[-1] for v in violations(r, "iam-no-data-plane-write-on-star")) == [
        "inline-publish", "managed-send", "pattern", "table-writes"]


def test_privilege_escalation_reads_get_policy_document_json():
    """aws.iam.get_policy_document's JSON: Sid "" on every statement, string-or-list Action/Resource, NotResource."""
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": "iam:PassRole", "NotResource": "arn:aws:iam::1:role/admin"},
        {"Sid": "", "Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": ["arn:aws:ec2:*:*:*"]},
        {"Sid": "", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateTags"], "Resource": "*"}]})
    r = check([rec("aws:iam/policy:Policy", "from-data-source", {"policy": doc})])
    [v] = violations(r, ESC)
    assert "pass any role to a new EC2 instance (iam:PassRole + ec2:RunInstances)" in v.message


def test_privilege_escalation_counts_every_resource_of_a_type_as_wide():
    """iam:PassRole on arn:aws:iam::<account>:role/* passes any role: as wide as '*' for an escalation path; a path
    under role/ (role/app/*) or a name prefix is not."""
    def pol(name, pass_resource):
        return rec("aws:iam/policy:Policy", name, {"policy": _doc(
            _allow("iam:PassRole", pass_resource),
            _allow(["lambda:CreateFunction", "lambda:InvokeFunction"], "arn:aws:lambda:us-east-1:1:function:*"))})
    r = check([pol("any-role", "arn:aws:iam::123456789012:role/*"),
               pol("app-roles", "arn:aws:iam::123456789012:role/app/*"),
               pol("named-role", "arn:aws:iam::123456789012:role/fn-runner")])
    assert names(violations(r, ESC)) == {"any-role"}
