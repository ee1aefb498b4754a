"""IAM: no statement that allows every action on every resource, in any policy style."""
from __future__ import annotations

from pulumi_policy import Severity

from ._lib import as_list, cis, get, items, policy_document, resource_policy, statements

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


POLICIES = [
    resource_policy(
        "iam-no-full-admin", "IAM policies must not allow all actions on all resources.",
        tuple(DOCUMENT_PROPS) + tuple(ATTACHMENTS) + ("aws:iam/role:Role",), _no_admin,
        severity=Severity.CRITICAL, framework=cis("1.16"),
        remediation="Grant the specific actions on the specific resource ARNs the workload needs.",
        tags=["iam", "least-privilege"]),
]
