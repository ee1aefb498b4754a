"""Bedrock model ids and inference-profile ids, and the IAM statements that invoke them the way AWS documents it.

A foundation-model id (`anthropic.claude-3-haiku-20240307-v1:0`) is invoked in the stack's region: the grant is
`arn:aws:bedrock:<region>::foundation-model/<id>`. A cross-Region (system-defined) inference-profile id is the
model id behind a geography prefix (`us.anthropic.claude-3-5-haiku-20241022-v1:0`): the caller needs the
profile's ARN in the source region **and** the foundation model in every destination region the profile routes
to ("Prerequisites for inference profiles", https://docs.aws.amazon.com/bedrock/latest/userguide/
inference-profiles-prereq.html). The model grants carry `bedrock:InferenceProfileArn`, so they are usable only
through the profile, never directly in another region.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

# Destination Regions of the system-defined profiles by geography prefix ("Supported Regions and models for
# inference profiles", https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html, and the
# models' pages, read 2026-12-07). A given model's profile may route to a subset; granting the geography's Regions
# covers every model's. `global` routes to every commercial Region: its model ARN names no Region (the form AWS's
# global cross-Region inference documentation grants).
GEOGRAPHIES: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "ca": ("ca-central-1", "ca-west-1", "us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
           "eu-west-3"),
    "apac": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
             "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7"),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "global": ("*",),
}
# Model providers as Bedrock spells them in model ids ("Supported foundation models in Amazon Bedrock",
# https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html): a misspelt prefix is refused at config
# time instead of becoming a grant on an ARN that does not exist.
PROVIDERS = ("ai21", "amazon", "anthropic", "cohere", "deepseek", "google", "luma", "meta", "minimax", "mistral",
             "moonshot", "nvidia", "openai", "qwen", "stability", "twelvelabs", "writer")
MODEL = rf"({'|'.join(PROVIDERS)})\.[a-zA-Z0-9.:-]+"
ID_PATTERN = rf"(({'|'.join(sorted(GEOGRAPHIES, key=len, reverse=True))})\.)?{MODEL}"
ID_ACCEPTED = ("a Bedrock model id such as 'anthropic.claude-3-haiku-20240307-v1:0' or an inference-profile id "
               f"such as 'us.anthropic.claude-3-5-haiku-20241022-v1:0' (prefix {', '.join(GEOGRAPHIES)})")
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def split(model_id: str) -> tuple[str | None, str]:
    """(geography or None, foundation-model id)."""
    head, _, rest = model_id.partition(".")
    if head in GEOGRAPHIES and re.fullmatch(MODEL, rest):
        return head, rest
    return None, model_id


def source_allowed(model_id: str, region: str) -> bool:
    """A geographic profile is called from a Region of its geography (global: anywhere)."""
    geo, _ = split(model_id)
    return geo is None or geo == "global" or region in GEOGRAPHIES[geo]


def profile_arn(region: str, account: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}:{account}:inference-profile/{model_id}"


def model_arns(region: str, model_id: str) -> list[str]:
    """The foundation-model ARNs a model or profile id invokes."""
    geo, base = split(model_id)
    regions = (region,) if geo is None else GEOGRAPHIES[geo]
    return [f"arn:aws:bedrock:{'' if r == '*' else r}::foundation-model/{base}" for r in regions]


def invoke_statements(region: str, account, models: Sequence[str], sid: str = "InvokeOwnModels",
                      arn_of=profile_arn) -> list[dict]:
    """Plain ids: the model in this Region. Profile ids: the profile, and its models wherever it routes, only
    through that profile. `arn_of(region, account, id)` builds the profile ARN (an Output when the account is)."""
    plain = [m for m in models if split(m)[0] is None]
    out: list[dict] = []
    if plain:
        out.append({"Sid": sid, "Effect": "Allow", "Action": INVOKE,
                    "Resource": [a for m in plain for a in model_arns(region, m)]})
    profiles = [m for m in models if split(m)[0] is not None]
    if profiles:
        out.append({"Sid": f"{sid}Profiles", "Effect": "Allow", "Action": INVOKE,
                    "Resource": [arn_of(region, account, m) for m in profiles]})
        for i, m in enumerate(profiles):
            out.append({"Sid": f"{sid}ThroughProfile{i}", "Effect": "Allow", "Action": INVOKE,
                        "Resource": model_arns(region, m),
                        "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": arn_of(region, account, m)}}})
    return out
