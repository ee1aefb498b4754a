"""Stack config: typed, immutable, validated before any resource; bad input is one line naming the key."""
from __future__ import annotations

import dataclasses
import textwrap

import pytest

from components.config import ConfigError, load_settings
from conftest import cli

BASE = {"platform": {"environment": "dev"}}


def settings(**tiers):
    raw = {**BASE, **tiers}
    return load_settings(raw, stack="dev", region="us-east-1")


def error(**tiers) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        settings(**tiers)
    return exc.value


def test_defaults_follow_the_environment_not_the_code_path():
    dev = settings()
    prod = load_settings({"platform": {"environment": "prod"}, "events": {"alertEmails": ["ops@example.com"]}},
                         stack="prod", region="us-east-1")
    assert (dev.network.az_count, dev.network.nat_strategy, dev.platform.protect) == (2, "single", False)
    assert (prod.network.az_count, prod.network.nat_strategy, prod.platform.protect) == (3, "one-per-az", True)
    assert dev.network.interface_endpoints == () and "ecr.dkr" in prod.network.interface_endpoints


def test_settings_are_immutable():
    s = settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.network.az_count = 5  # type: ignore[misc]


@pytest.mark.parametrize("tiers, path, accepted", [
    ({"network": {"cidr": "10.0.0.0/33"}}, "ai-platform:network.cidr", "IPv4 CIDR"),
    ({"network": {"cidr": "10.0.0.1/16"}}, "ai-platform:network.cidr", "IPv4 CIDR"),
    ({"network": {"cidr": "banana"}}, "ai-platform:network.cidr", "IPv4 CIDR"),
    ({"network": {"azCount": 9}}, "ai-platform:network.azCount", "<= 6"),
    ({"network": {"azCount": "two"}}, "ai-platform:network.azCount", "an integer"),
    ({"network": {"azCount": True}}, "ai-platform:network.azCount", "an integer"),
    ({"network": {"natStrategy": "double"}}, "ai-platform:network.natStrategy", "'one-per-az'"),
    ({"network": {"interfaceEndpoints": ["ecr.api", "s4"]}}, "ai-platform:network.interfaceEndpoints[1]", "'sts'"),
    ({"network": {"azCuont": 2}}, "ai-platform:network.azCuont", "did you mean 'azCount'"),
    ({"network": "10.0.0.0/16"}, "ai-platform:network", "an object"),
    ({"platform": {"environment": "qa"}}, "ai-platform:platform.environment", "'prod'"),
    ({"platform": {"environment": "dev", "protect": "yes"}}, "ai-platform:platform.protect", "true or false"),
    ({"network": {"cidr": "10.0.0.0/19"}}, "ai-platform:network.cidr", "addresses"),
    ({"network": {"privateSubnetMask": 16}}, "ai-platform:network.privateSubnetMask", "longer than the VPC"),
    ({"network": {"azCount": 1, "natStrategy": "one-per-az"}}, "ai-platform:network.natStrategy", "'single'"),
    ({"security": {"generatedSecrets": ["nope"]}}, "ai-platform:security.generatedSecrets", "secrets listed"),
    ({"platform": {"environment": "dev", "appLogRetentionDays": 31}}, "ai-platform:platform.appLogRetentionDays", "30"),
])
def test_bad_values_name_the_key_path_the_value_and_what_is_accepted(tiers, path, accepted):
    exc = error(**tiers)
    message = str(exc)
    assert message.startswith(f"config error: {path} = ")
    assert accepted in message
    assert "\n" not in message


def test_missing_environment_is_an_error():
    with pytest.raises(ConfigError, match=r"ai-platform:platform.environment = None .*expected a value"):
        load_settings({}, stack="dev", region="us-east-1")


def test_unknown_top_level_tier_key_is_an_error():
    with pytest.raises(ConfigError, match="ai-platform:netwrok"):
        load_settings({**BASE, "netwrok": {}}, stack="dev", region="us-east-1")


def test_region_is_validated():
    with pytest.raises(ConfigError, match="aws:region = 'mars-1'"):
        load_settings(BASE, stack="dev", region="mars-1")


def run_plan(stack_yaml: str, tmp_path, *extra):
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(textwrap.dedent(stack_yaml))
    return cli("--stack-file", str(path), *extra)  # in-process (conftest.cli): same exit code and output


@pytest.mark.parametrize("yaml_text, expected", [
    ("""
     config:
       aws:region: us-east-1
       ai-platform:platform: {environment: dev}
       ai-platform:network: {cidr: 10.0.0.0/40}
     """, "ai-platform:network.cidr = '10.0.0.0/40'"),
    ("""
     config:
       aws:region: us-east-1
       ai-platform:platform: {environment: dev}
       ai-platform:network: {natStratgy: single}
     """, "did you mean 'natStrategy'"),
    ("""
     config:
       aws:region: us-east-1
       ai-platform:platform: {environment: dev}
       ai-platform:netwrok: {cidr: 10.0.0.0/16}
     """, "did you mean 'ai-platform:network'"),
    ("""
     config:
       aws:region: us-east-1
       ai-platform:platform: {environment: dev}
       ai-platform:network: just-a-string
     """, "configuration key 'ai-platform:network' must be of type 'object'"),
    ("""
     config:
       ai-platform:platform: {environment: dev}
     """, "aws:region"),
    ("config: [", "not valid YAML"),
])
def test_offline_engine_exits_2_with_one_line_and_no_traceback(yaml_text, expected, tmp_path):
    result = run_plan(yaml_text, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


# --- issue 12 -----------------------------------------------------------------------------------------
def test_prod_requires_an_alerts_subscriber():
    with pytest.raises(ConfigError, match=r"ai-platform:events\.alertEmails = \[\]"):
        load_settings({"platform": {"environment": "prod"}}, stack="prod", region="us-east-1")
    ok = load_settings({"platform": {"environment": "prod"}, "events": {"alertEmails": ["ops@example.com"]}},
                       stack="prod", region="us-east-1")
    assert ok.events.alert_emails == ("ops@example.com",)
    assert settings().events.alert_emails == ()   # dev may go without (its stack file sets one anyway)


def test_account_singletons_default_to_one_owner():
    dev = settings()
    prod = load_settings({"platform": {"environment": "prod"}, "events": {"alertEmails": ["ops@example.com"]}},
                         stack="prod", region="us-east-1")
    assert (dev.edge.manage_api_gateway_account, prod.edge.manage_api_gateway_account) == (False, True)
    assert dev.observability.activate_cost_allocation_tags is prod.observability.activate_cost_allocation_tags is False


def test_service_contract_defaults_follow_the_designs():
    cat = {c.name: c.settings.uses for c in settings().application.catalogue()}
    assert cat["document-extraction"].publishes == ("DocumentUploaded",)
    assert dict(cat["document-extraction"].buckets)["documents"] == "read"
    assert cat["conversational"].queues == ("inference-requests",)
    assert cat["document-extraction"].queues == ("document-processing",) and cat["classification"].queues == ()
    assert cat["search"].database == "readonly"
    with pytest.raises(ConfigError, match=r"uses\.database = 'admin'"):
        settings(application={"services": {"search": {"uses": {"database": "admin"}}}})
    with pytest.raises(ConfigError, match=r"uses\.publishes = 'Nope'"):
        settings(application={"services": {"search": {"uses": {"publishes": ["Nope"]}}}})
