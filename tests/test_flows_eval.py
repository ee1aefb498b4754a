"""The flow evaluator against AWS's documented policy evaluation logic (IAM User Guide, "Policy evaluation
logic", "Cross-account policy evaluation logic", "IAM JSON policy elements: Condition operators"; KMS
Developer Guide, "Key policies"). Small hand-written policy sets; both the allow and the deny side."""
from __future__ import annotations

import pytest

from plan.engine import Plan, Resource
from plan.flows import iam
from plan.flows.iam import Request, Unknown, decide
from plan.flows.model import Checker, Model

ACCT = "111122223333"
OTHER = "444455556666"
ROLE = f"arn:aws:iam::{ACCT}:role/app"
OTHER_ROLE = f"arn:aws:iam::{OTHER}:role/partner"
BUCKET = "arn:aws:s3:::docs"
OBJ = BUCKET + "/reports/a.pdf"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCT}:jobs"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def req(action, resource, principal=None, **ctx):
    return Request(principal or iam.role_principal(ROLE), action, resource, ctx)


def run(r, identity=(), resource=(), account=ACCT, **kw):
    return decide(r, identity=[(f"id{i}", d) for i, d in enumerate(identity)] if identity is not None else None,
                  resource=[(f"rp{i}", d) for i, d in enumerate(resource)], resource_account=account, **kw)


# ------------------------------------------------------------------ the basic decision
def test_no_policy_is_an_implicit_deny():
    v = run(req("s3:GetObject", OBJ))
    assert v.allowed is False and "no policy allows" in v.reason


def test_identity_allow_same_account():
    assert run(req("s3:GetObject", OBJ), [doc(allow("s3:GetObject", BUCKET + "/*"))]).allowed is True


def test_identity_allow_for_another_resource_is_not_enough():
    assert run(req("s3:GetObject", OBJ), [doc(allow("s3:GetObject", "arn:aws:s3:::other/*"))]).allowed is False


def test_explicit_deny_in_resource_policy_beats_identity_allow():
    rp = doc(deny("s3:*", [BUCKET, BUCKET + "/*"], Principal="*"))
    v = run(req("s3:GetObject", OBJ), [doc(allow("s3:*", "*"))], [rp])
    assert v.allowed is False and "explicit deny" in v.reason


def test_explicit_deny_in_identity_beats_resource_allow():
    rp = doc(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": ROLE}))
    v = run(req("s3:GetObject", OBJ), [doc(deny("s3:GetObject", "*"))], [rp])
    assert v.allowed is False


def test_same_account_resource_policy_naming_the_role_suffices():
    rp = doc(allow("sqs:SendMessage", QUEUE, Principal={"AWS": ROLE}))
    assert run(req("sqs:SendMessage", QUEUE), [], [rp]).allowed is True


def test_resource_policy_naming_the_account_only_delegates_to_iam():
    rp = doc(allow("sqs:SendMessage", QUEUE, Principal={"AWS": f"arn:aws:iam::{ACCT}:root"}))
    assert run(req("sqs:SendMessage", QUEUE), [], [rp]).allowed is False
    assert run(req("sqs:SendMessage", QUEUE), [doc(allow("sqs:SendMessage", QUEUE))], [rp]).allowed is True


def test_cross_account_needs_both_sides():
    r = req("s3:GetObject", OBJ, principal=iam.role_principal(OTHER_ROLE))
    ident = [doc(allow("s3:GetObject", "*"))]
    rp = [doc(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": OTHER_ROLE}))]
    assert run(r, ident, []).allowed is False          # identity alone
    assert run(r, [], rp).allowed is False             # resource alone
    assert run(r, ident, rp).allowed is True
    rp_account = [doc(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": OTHER}))]
    assert run(r, ident, rp_account).allowed is True   # naming the other account: its IAM decides


def test_service_principal_needs_the_resource_policy():
    r = req("sqs:SendMessage", QUEUE, principal=iam.service_principal("events.amazonaws.com"))
    assert run(r, None, []).allowed is False
    rp = doc(allow("sqs:SendMessage", QUEUE, Principal={"Service": "events.amazonaws.com"}))
    assert run(r, None, [rp]).allowed is True
    other = doc(allow("sqs:SendMessage", QUEUE, Principal={"Service": "sns.amazonaws.com"}))
    assert run(r, None, [other]).allowed is False


# ------------------------------------------------------------------ KMS and trust: the resource policy is mandatory
def test_kms_identity_allow_without_key_policy_is_denied():
    key_policy = doc(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCT}:role/admin"}))
    v = run(req("kms:Decrypt", KEY), [doc(allow("kms:Decrypt", "*"))], [key_policy], requires_resource_policy=True)
    assert v.allowed is False


def test_kms_key_policy_delegating_to_iam_plus_identity_allow():
    key_policy = doc(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCT}:root"}))
    r = req("kms:Decrypt", KEY, **{"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    assert run(r, [], [key_policy], requires_resource_policy=True).allowed is False
    ident = doc(allow("kms:Decrypt", "*", Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}))
    assert run(r, [ident], [key_policy], requires_resource_policy=True).allowed is True
    r_sqs = req("kms:Decrypt", KEY, **{"kms:ViaService": "sqs.us-east-1.amazonaws.com"})
    assert run(r_sqs, [ident], [key_policy], requires_resource_policy=True).allowed is False


def test_kms_key_policy_naming_the_role_needs_no_identity_policy():
    key_policy = doc(allow(["kms:Decrypt"], "*", Principal={"AWS": ROLE}))
    assert run(req("kms:Decrypt", KEY), [], [key_policy], requires_resource_policy=True).allowed is True


def test_kms_encryption_context_condition():
    stmt = allow("kms:Decrypt", "*", Principal={"AWS": ROLE},
                 Condition={"StringLike": {"kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:app/*"}})
    ok = req("kms:Decrypt", KEY, **{"kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:app/db-Ab12Cd"})
    other = req("kms:Decrypt", KEY, **{"kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:ops/x-Ab12Cd"})
    assert run(ok, [], [doc(stmt)], requires_resource_policy=True).allowed is True
    assert run(other, [], [doc(stmt)], requires_resource_policy=True).allowed is False


def test_trust_policy_with_source_account():
    trust = doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": ACCT}}})
    svc = iam.service_principal("ecs-tasks.amazonaws.com")
    good = Request(svc, "sts:AssumeRole", ROLE, {"aws:SourceAccount": ACCT})
    bad = Request(svc, "sts:AssumeRole", ROLE, {"aws:SourceAccount": OTHER})
    assert decide(good, identity=None, resource=[("trust", trust)], requires_resource_policy=True).allowed is True
    assert decide(bad, identity=None, resource=[("trust", trust)], requires_resource_policy=True).allowed is False
    lam = Request(iam.service_principal("lambda.amazonaws.com"), "sts:AssumeRole", ROLE, {"aws:SourceAccount": ACCT})
    assert decide(lam, identity=None, resource=[("trust", trust)], requires_resource_policy=True).allowed is False


# ------------------------------------------------------------------ conditions
SVC = iam.service_principal("sns.amazonaws.com")


def sns_to_queue(condition, **ctx):
    rp = doc(allow("sqs:SendMessage", QUEUE, Principal={"Service": "sns.amazonaws.com"}, Condition=condition))
    return run(Request(SVC, "sqs:SendMessage", QUEUE, ctx), None, [rp]).allowed


def test_arn_equals_and_arn_like_source_arn():
    topic = f"arn:aws:sns:us-east-1:{ACCT}:events"
    assert sns_to_queue({"ArnEquals": {"aws:SourceArn": topic}}, **{"aws:SourceArn": topic}) is True
    assert sns_to_queue({"ArnEquals": {"aws:SourceArn": topic}}, **{"aws:SourceArn": topic + "-x"}) is False
    assert sns_to_queue({"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{ACCT}:ev*"}}, **{"aws:SourceArn": topic}) is True
    assert sns_to_queue({"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{OTHER}:*"}}, **{"aws:SourceArn": topic}) is False
    # a missing key does not match a positive operator
    assert sns_to_queue({"ArnEquals": {"aws:SourceArn": topic}}) is False


def test_condition_keys_are_case_insensitive_values_are_not():
    assert sns_to_queue({"StringEquals": {"AWS:SourceAccount": ACCT}}, **{"aws:sourceaccount": ACCT}) is True
    assert sns_to_queue({"StringEquals": {"aws:PrincipalServiceName": "SNS.amazonaws.com"}}) is False
    assert sns_to_queue({"StringEqualsIgnoreCase": {"aws:PrincipalServiceName": "SNS.amazonaws.com"}}) is True


def test_string_like_wildcards():
    assert sns_to_queue({"StringLike": {"s3:prefix": "datasets/*"}}, **{"s3:prefix": "datasets/2026/x"}) is True
    assert sns_to_queue({"StringLike": {"s3:prefix": "datasets/?"}}, **{"s3:prefix": "datasets/ab"}) is False


def test_multiple_values_or_multiple_keys_and():
    cond = {"StringEquals": {"aws:SourceAccount": [OTHER, ACCT], "aws:SourceArn": "a"}}
    assert sns_to_queue(cond, **{"aws:SourceAccount": ACCT, "aws:SourceArn": "a"}) is True
    assert sns_to_queue(cond, **{"aws:SourceAccount": ACCT, "aws:SourceArn": "b"}) is False


def test_if_exists_and_negated_operators_on_a_missing_key():
    assert sns_to_queue({"StringEqualsIfExists": {"aws:SourceAccount": ACCT}}) is True
    assert sns_to_queue({"StringEqualsIfExists": {"aws:SourceAccount": ACCT}}, **{"aws:SourceAccount": OTHER}) is False
    assert sns_to_queue({"StringNotEquals": {"aws:SourceAccount": OTHER}}) is True
    assert sns_to_queue({"StringNotEquals": {"aws:SourceAccount": OTHER}}, **{"aws:SourceAccount": OTHER}) is False


def test_null_operator():
    assert sns_to_queue({"Null": {"aws:SourceArn": "true"}}) is True
    assert sns_to_queue({"Null": {"aws:SourceArn": "false"}}) is False
    assert sns_to_queue({"Null": {"aws:SourceArn": "false"}}, **{"aws:SourceArn": "x"}) is True


def test_for_any_value_and_for_all_values():
    any_alias = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/data"}}
    assert sns_to_queue(any_alias, **{"kms:ResourceAliases": ["alias/other", "alias/data"]}) is True
    assert sns_to_queue(any_alias, **{"kms:ResourceAliases": ["alias/other"]}) is False
    assert sns_to_queue(any_alias) is False
    all_tags = {"ForAllValues:StringEquals": {"aws:TagKeys": ["Project", "Owner"]}}
    assert sns_to_queue(all_tags, **{"aws:TagKeys": ["Project"]}) is True
    assert sns_to_queue(all_tags, **{"aws:TagKeys": ["Project", "Secret"]}) is False
    assert sns_to_queue(all_tags) is True  # AWS: ForAllValues on a missing key is true


def test_bool_secure_transport_deny():
    rp = doc(allow("sqs:SendMessage", QUEUE, Principal={"Service": "sns.amazonaws.com"}),
             deny("sqs:*", QUEUE, Principal="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    tls = Request(SVC, "sqs:SendMessage", QUEUE, {})
    plain = Request(SVC, "sqs:SendMessage", QUEUE, {"aws:SecureTransport": False})
    assert run(tls, None, [rp]).allowed is True
    assert run(plain, None, [rp]).allowed is False


def test_principal_tag_condition():
    ident = doc(allow("s3:GetObject", BUCKET + "/*", Condition={"StringEquals": {"aws:PrincipalTag/Service": "search"}}))
    tagged = Request(iam.role_principal(ROLE, {"Service": "search"}), "s3:GetObject", OBJ, {})
    other = Request(iam.role_principal(ROLE, {"Service": "code"}), "s3:GetObject", OBJ, {})
    assert run(tagged, [ident]).allowed is True
    assert run(other, [ident]).allowed is False


def test_numeric_and_ip_operators():
    assert sns_to_queue({"NumericLessThanEquals": {"s3:max-keys": "10"}}, **{"s3:max-keys": "5"}) is True
    assert sns_to_queue({"NumericLessThanEquals": {"s3:max-keys": "10"}}, **{"s3:max-keys": "50"}) is False
    assert sns_to_queue({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, **{"aws:SourceIp": "10.1.2.3"}) is True
    assert sns_to_queue({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, **{"aws:SourceIp": "10.1.2.3"}) is False


# ------------------------------------------------------------------ Not* elements
def test_not_action_and_not_resource():
    everything_but_delete = doc({"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": BUCKET + "/*"})
    assert run(req("s3:GetObject", OBJ), [everything_but_delete]).allowed is True
    assert run(req("s3:DeleteObject", OBJ), [everything_but_delete]).allowed is False
    not_secret = doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": BUCKET + "/secret/*"})
    assert run(req("s3:GetObject", OBJ), [not_secret]).allowed is True
    assert run(req("s3:GetObject", BUCKET + "/secret/k"), [not_secret]).allowed is False


def test_not_principal_deny():
    rp = doc({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": BUCKET + "/*"})
    ident = [doc(allow("s3:GetObject", "*"))]
    assert run(req("s3:GetObject", OBJ), ident, [rp]).allowed is True
    other = req("s3:GetObject", OBJ, principal=iam.role_principal(f"arn:aws:iam::{ACCT}:role/intruder"))
    assert run(other, ident, [rp]).allowed is False


def test_action_wildcards_are_case_insensitive():
    assert run(req("s3:GetObject", OBJ), [doc(allow("S3:Get*", "*"))]).allowed is True
    assert run(req("s3:PutObject", OBJ), [doc(allow("s3:Get*", "*"))]).allowed is False


# ------------------------------------------------------------------ unknowns: undecidable, never allowed
def test_unknown_policy_document_is_undecidable():
    v = run(req("s3:GetObject", OBJ), [Unknown])
    assert v.allowed is None and v.undecidable


def test_unknown_deny_with_known_allow_is_undecidable():
    rp = doc(deny("s3:*", BUCKET + "/*", Principal="*", Condition={"StringNotEquals": {"aws:SourceVpce": iam.UNKNOWN_SENTINEL}}))
    v = run(req("s3:GetObject", OBJ, **{"aws:SourceVpce": "vpce-1"}), [doc(allow("s3:*", "*"))], [rp])
    assert v.allowed is None


def test_unknown_context_value_is_undecidable_but_a_known_deny_still_denies():
    ident = doc(allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:SourceArn": "x"}}))
    assert run(req("s3:GetObject", OBJ, **{"aws:SourceArn": Unknown}), [ident]).allowed is None
    assert run(req("s3:GetObject", OBJ, **{"aws:SourceArn": Unknown}), [ident, doc(deny("s3:*"))]).allowed is False


def test_unmodelled_managed_policy_makes_a_deny_undecidable():
    v = run(req("s3:GetObject", OBJ), [], identity_unmodelled=["SomeAwsManagedPolicy"])
    assert v.allowed is None and "SomeAwsManagedPolicy" in v.reason


# ------------------------------------------------------------------ security-group path
def _res(token, name, inputs, outputs=None):
    return Resource(urn=f"urn:pulumi:t::p::{token}::{name}", type=token, name=name, parent="", provider="", custom=True,
                    remote=False, options={}, inputs=inputs, dependencies=[], propertyDependencies={},
                    id=(outputs or {}).get("id", name), outputs=outputs or {})


def _sg_model(*rules):
    res = [_res("aws:ec2/securityGroup:SecurityGroup", n, {}, {"id": n}) for n in ("sg-a", "sg-b")]
    for i, (kind, sg, peer, lo, hi) in enumerate(rules):
        token = f"aws:vpc/securityGroup{'Ingress' if kind == 'in' else 'Egress'}Rule:SecurityGroup" \
                f"{'Ingress' if kind == 'in' else 'Egress'}Rule"
        p = {"referencedSecurityGroupId": peer} if peer.startswith("sg-") else {"cidrIpv4": peer}
        res.append(_res(token, f"r{i}", {"securityGroupId": sg, "ipProtocol": "tcp", "fromPort": lo, "toPort": hi, **p}))
    return Checker(Model(Plan("t", "p", "us-east-1", False, {}, res, {})))


def test_sg_path_needs_egress_and_ingress_on_the_port():
    both = _sg_model(("out", "sg-a", "sg-b", 5432, 5432), ("in", "sg-b", "sg-a", 5432, 5432))
    assert both.sg_path(["sg-a"], ["sg-b"], 5432).allowed is True
    assert both.sg_path(["sg-a"], ["sg-b"], 6379).allowed is False
    no_egress = _sg_model(("in", "sg-b", "sg-a", 5432, 5432))
    assert no_egress.sg_path(["sg-a"], ["sg-b"], 5432).allowed is False
    no_ingress = _sg_model(("out", "sg-a", "sg-b", 5432, 5432))
    assert no_ingress.sg_path(["sg-a"], ["sg-b"], 5432).allowed is False


def test_sg_path_from_the_internet_by_cidr():
    ck = _sg_model(("in", "sg-b", "0.0.0.0/0", 443, 443), ("in", "sg-a", "10.0.0.0/16", 443, 443))
    assert ck.sg_path([], ["sg-b"], 443, src_cidr="0.0.0.0/0").allowed is True
    assert ck.sg_path([], ["sg-a"], 443, src_cidr="0.0.0.0/0").allowed is False


def test_sg_path_with_unknown_ids_is_undecidable():
    ck = _sg_model()
    assert ck.sg_path([iam.UNKNOWN_SENTINEL], ["sg-b"], 443).allowed is None


@pytest.mark.parametrize("glob_pattern,value,expected", [
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", True),
    ("arn:aws:s3:::b/?", "arn:aws:s3:::b/xy", False),
    ("*", "anything", True),
])
def test_glob(glob_pattern, value, expected):
    assert iam.glob(glob_pattern, value) is expected
