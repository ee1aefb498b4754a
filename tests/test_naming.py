"""Names AWS accepts: lengths, charsets, case, autoname headroom, and no collisions when shortened."""
from __future__ import annotations

import re

import pytest

from components.naming import AUTONAME_SUFFIX, RULES, Namer, fit

NAMER = Namer("ai-platform", "production-eu-central")


@pytest.mark.parametrize("kind", sorted(RULES))
def test_every_kind_respects_its_limit_and_charset(kind):
    rule = RULES[kind]
    name = NAMER.physical(kind, "a-very-long-component-name-that-goes-on", "and_on", "UPPER.case")
    assert len(name) <= rule.max_len
    assert re.fullmatch(f"[{rule.allowed}]+", name), name
    if rule.lowercase:
        assert name == name.lower()
    if rule.letter_first:
        assert name[0].isalpha()


def test_alb_and_target_group_names_fit_32():
    assert len(NAMER.physical("alb", "public")) <= 32
    assert len(NAMER.physical("target_group", "document-extraction")) <= 32


def test_shortened_names_stay_distinct():
    a = NAMER.physical("target_group", "document-extraction-service")
    b = NAMER.physical("target_group", "document-extraction-servicf")
    assert a != b and len(a) == len(b) == 32


def test_logical_names_leave_room_for_pulumi_autoname_suffix():
    for kind in ("s3_bucket", "iam_role", "alb", "elasticache"):
        logical = NAMER.logical(kind, "documents-bucket-for-the-platform")
        assert len(logical) + AUTONAME_SUFFIX <= RULES[kind].max_len


def test_s3_bucket_names_are_lowercase_without_underscores():
    assert fit("s3_bucket", "My_Bucket") == "my-bucket"


def test_log_group_and_secret_names_are_paths():
    n = Namer("ai-platform", "dev")
    assert n.physical("log_group", "vpc-flow-logs") == "/ai-platform/dev/vpc-flow-logs"
    assert n.physical("secret", "jwt-signing-secret") == "ai-platform/dev/jwt-signing-secret"
    assert n.physical("kms_alias", "data") == "ai-platform-dev-data"
