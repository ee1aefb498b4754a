"""Policy groups as code (pulumi-pulumiservice 1.5.0 `PolicyGroup`): which stacks run ai-platform-policies, at
which version and with which enforcement config. Run with the org's Pulumi access token:

    cd policies/org && pulumi stack init <org>/policy-groups && pulumi config set packVersion 1.2.3
    pulumi config set --path 'preventativeStacks[0]' ai-platform/prod && pulumi up

- `ai-platform-preventative` (mode preventative): the listed production stacks; policies/config/prod.json
  (mandatory rules block `pulumi up`).
- `ai-platform-audit` (mode audit): advisory findings for the listed and any other stacks added here, with
  policies/config/dev.json (nothing blocks; findings show in Pulumi Cloud). Stacks not in a group fall back to
  the organisation's default group, which is managed in the console.
"""
import json
from pathlib import Path

import pulumi
import pulumi_pulumiservice as ps

PACK = "ai-platform-policies"
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

cfg = pulumi.Config()
org = pulumi.get_organization()
version = cfg.require("packVersion")


def stacks(key: str) -> list:
    refs = []
    for item in cfg.get_object(key) or []:
        project, _, stack = str(item).partition("/")
        if not project or not stack:
            raise ValueError(f"{key}: {item!r} is not 'project/stack'")
        refs.append(ps.PolicyGroupStackReferenceArgs(name=stack, routing_project=project))
    return refs


def pack(config_file: str) -> ps.PolicyGroupPolicyPackReferenceInputArgs:
    return ps.PolicyGroupPolicyPackReferenceInputArgs(
        name=PACK, version_tag=version, config=json.loads((CONFIG_DIR / config_file).read_text()))


preventative = ps.PolicyGroup("preventative", name="ai-platform-preventative", organization_name=org,
                              entity_type="stacks", mode="preventative", stacks=stacks("preventativeStacks"),
                              policy_packs=[pack("prod.json")])
audit = ps.PolicyGroup("audit", name="ai-platform-audit", organization_name=org, entity_type="stacks",
                       mode="audit", stacks=stacks("auditStacks"), policy_packs=[pack("dev.json")])
pulumi.export("groups", [preventative.name, audit.name])
