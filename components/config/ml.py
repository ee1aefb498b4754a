"""ML tier settings: ECR repositories and their lifecycle, SageMaker data access and endpoints, Bedrock
models, and the operations functions (training orchestrator, off-hours scheduler)."""
from __future__ import annotations

import dataclasses
import re

from .. import bedrock
from .schema import Bool, ConfigError, Enum, EnvDefault, Int, ListOf, MapOf, Section, Str, setting

REPO_NAME = Str(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", "a lowercase image name such as 'ocr-training'", max_len=64)
PREFIX = Str(r"([a-z0-9][a-z0-9_.-]*/)+", "an S3 key prefix such as 'datasets/' (lowercase, ending in '/')",
             max_len=128)
# Foundation-model ids as Bedrock spells them: provider.model-version[:n] (e.g. anthropic.claude-3-haiku-20240307-v1:0).
BEDROCK_MODEL = Str(bedrock.ID_PATTERN, bedrock.ID_ACCEPTED, max_len=128)
TIME_ZONE = Str(r"UTC|[A-Z][A-Za-z_]+(/[A-Z][A-Za-z0-9_+-]+){1,2}",
                "an IANA time zone such as 'Europe/Berlin' or 'UTC'",
                max_len=64)
INSTANCE = Str(r"ml\.[a-z0-9]+\.[a-z0-9]+", "a SageMaker instance type such as 'ml.m5.large'", max_len=32)
# Families with local NVMe instance storage (m5d, c6id, g4dn, p4d... and g5/g6/p5/trn): SageMaker refuses a
# KmsKeyId in CreateEndpointConfig for them, and the platform requires one (sagemaker-endpoint-encryption).
_LOCAL_STORAGE_FAMILY = re.compile(r"[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2")


def has_instance_storage(instance_type: str) -> bool:
    parts = instance_type.split(".")
    return len(parts) == 3 and bool(_LOCAL_STORAGE_FAMILY.fullmatch(parts[1]))


@dataclasses.dataclass(frozen=True)
class EndpointSettings:
    image: str = setting(Str(r"[a-z][a-z0-9-]*:[\w.-]{1,128}", "'<ML image>:<tag>' such as 'ocr-inference:1.4.0'",
                             max_len=200), dataclasses.MISSING, "Inference image: one of ml.images plus a tag.")
    model_data_key: str = setting(Str(r"models/[\w./-]+\.tar\.gz", "a key under models/ ending in .tar.gz",
                                      max_len=512), dataclasses.MISSING,
                                  "Model artifact key in the ML artifacts bucket.")
    instance_type: str = setting(INSTANCE, "ml.m5.large",
                                 "Hosting instance type (none with local NVMe storage: the endpoint uses a KMS key).")
    instance_count: int = setting(Int(1, 10), 1, "Initial instance count of the single production variant.")
    data_capture_percent: int = setting(Int(0, 100), 20,
                                        "Share of requests captured to <artifacts>/data-capture/ (0 disables).")
    network_isolation: bool = setting(Bool(), True, "No outbound network from the model container.")
    off_hours: bool = setting(Bool(), EnvDefault(True, False),
                              "Tag OffHours=true so the off-hours scheduler deletes it at night (non-prod).")

    def validate(self, path: str) -> None:
        if has_instance_storage(self.instance_type):
            raise ConfigError(f"{path}.instanceType", self.instance_type,
                              "an instance type without local NVMe storage such as ml.m5.large (SageMaker rejects the "
                              "endpoint's KMS key on ml.m5d, ml.g4dn, ml.g5, ml.p4d and other instance-store types)")


@dataclasses.dataclass(frozen=True)
class OffHoursSettings:
    enabled: bool = setting(Bool(), EnvDefault(True, False),
                            "Deploy the nightly stop/morning restore schedules (never meant for prod).")
    stop_hour: int = setting(Int(0, 23), 22, "Hour (local) at which tagged resources are stopped.")
    start_hour: int = setting(Int(0, 23), 6, "Hour (local) at which they are restored.")
    days: str = setting(Enum("MON-FRI", "*"), "*", "Days the schedules run: every day or weekdays only.")
    time_zone: str = setting(TIME_ZONE, "UTC", "IANA time zone of the schedules.")
    tag_key: str = setting(Str(r"[A-Za-z][\w.:/=+@-]{0,127}"), "OffHours",
                           "Resources tagged <tagKey>=true are stopped at night.")

    def validate(self, path: str) -> None:
        if self.stop_hour == self.start_hour:
            raise ConfigError(f"{path}.startHour", self.start_hour, f"an hour other than stopHour ({self.stop_hour})")


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """What a training request may ask for (issue 30): the handler refuses anything else, and the orchestrator's
    IAM policy refuses it again (sagemaker:InstanceTypes, sagemaker:MaxRuntimeInSeconds)."""
    request_prefix: str = setting(PREFIX, "training-requests/",
                                  "Data-bucket prefix where a JSON training request object starts a job.")
    # ml.m5.xlarge: a general-purpose type with a non-zero training quota in a new account (GPU types such as
    # ml.p3.2xlarge start at 0 and need a quota increase first; docs/training.md).
    default_instance_type: str = setting(INSTANCE, "ml.m5.xlarge", "Instance type when a request names none "
                                         "(one of allowedInstanceTypes).")
    allowed_instance_types: tuple = setting(
        ListOf(INSTANCE, min_items=1, max_items=30),
        ["ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.2xlarge", "ml.g4dn.xlarge", "ml.g5.xlarge",
         "ml.p3.2xlarge"],
        "Instance types a training request may use (enforced by the handler and by IAM).")
    max_instance_count: int = setting(Int(1, 20), EnvDefault(2, 4), "Most instances one training job may use.")
    default_spot: bool = setting(Bool(), False,
                                 "Managed Spot when a request does not say (Spot training quotas start at 0 in a new "
                                 "account for most types).")
    max_runtime_seconds: int = setting(Int(600, 2419200), 86400, "Default MaxRuntimeInSeconds of a training job.")
    max_wait_seconds: int = setting(Int(600, 2419200), 172800,
                                    "Default MaxWaitTimeInSeconds for managed Spot (>= max runtime).")
    max_runtime_limit_seconds: int = setting(Int(600, 2419200), EnvDefault(86400, 259200),
                                             "Longest MaxRuntimeInSeconds a request may ask for (IAM enforces it too).")
    max_wait_limit_seconds: int = setting(Int(600, 2419200), EnvDefault(172800, 518400),
                                          "Longest MaxWaitTimeInSeconds a Spot request may ask for.")
    failed_jobs_threshold: int = setting(Int(1, 100), 1,
                                         "Training jobs that did not complete (Failed or Stopped) in 5 minutes that "
                                         "raise the alarm.")

    def validate(self, path: str) -> None:
        if self.max_wait_seconds < self.max_runtime_seconds:
            raise ConfigError(f"{path}.maxWaitSeconds", self.max_wait_seconds,
                              f"a value >= maxRuntimeSeconds ({self.max_runtime_seconds})")
        if self.default_instance_type not in self.allowed_instance_types:
            raise ConfigError(f"{path}.defaultInstanceType", self.default_instance_type,
                              f"one of allowedInstanceTypes ({', '.join(self.allowed_instance_types)})")
        if self.max_runtime_seconds > self.max_runtime_limit_seconds:
            raise ConfigError(f"{path}.maxRuntimeSeconds", self.max_runtime_seconds,
                              f"at most maxRuntimeLimitSeconds ({self.max_runtime_limit_seconds})")
        if self.max_wait_seconds > self.max_wait_limit_seconds:
            raise ConfigError(f"{path}.maxWaitSeconds", self.max_wait_seconds,
                              f"at most maxWaitLimitSeconds ({self.max_wait_limit_seconds})")


@dataclasses.dataclass(frozen=True)
class MlSettings:
    images: tuple = setting(ListOf(REPO_NAME, min_items=0, max_items=20), ["ocr-training", "ocr-inference"],
                            "ML images that get an ECR repository besides one per service.")
    immutable_tags: bool = setting(Bool(), EnvDefault(False, True),
                                   "ECR image tags cannot be overwritten (prod: a tag always means one image).")
    keep_tagged_images: int = setting(Int(1, 1000), EnvDefault(10, 30), "Tagged images kept per repository.")
    untagged_expiry_days: int = setting(Int(1, 365), EnvDefault(3, 14), "Days before untagged images expire.")
    dataset_prefix: str = setting(PREFIX, "datasets/", "Data-bucket prefix of training datasets (uploader target).")
    artifact_prefixes: tuple = setting(ListOf(PREFIX, min_items=1, max_items=10),
                                       ["models/", "checkpoints/", "data-capture/"],
                                       "ML-artifacts bucket prefixes SageMaker may read and write.")
    training_log_retention_days: int = setting(
        Enum(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
        EnvDefault(30, 365), "Retention of /aws/sagemaker/TrainingJobs (days; only the accountBaseline stack creates it).")
    bedrock_models: tuple = setting(ListOf(BEDROCK_MODEL, max_items=50),
                                    ["anthropic.claude-3-haiku-20240307-v1:0", "amazon.titan-embed-text-v2:0"],
                                    "Foundation models the application may invoke (empty: no Bedrock policy).")
    manage_invocation_logging: bool = setting(
        Bool(), EnvDefault(False, True),
        "Own this account and Region's Bedrock model invocation logging (one configuration per account and Region; "
        "it records every stack's invocations there): the prod stack by default; a stack in an account of its own "
        "sets it true.")
    invocation_log_retention_days: int = setting(
        Enum(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
        EnvDefault(30, 365), "Retention of model invocation logs (log group and bucket), days.")
    endpoints: dict = setting(MapOf(Section(EndpointSettings), key=Str(r"[a-z][a-z0-9-]{0,30}",
                                                                       "a lowercase endpoint name of 1-31 characters"),
                                    max_items=10), {},
                              "SageMaker real-time endpoints (billed per instance-hour; none by default).")
    training: TrainingSettings = setting(Section(TrainingSettings), {},
                                         "Training orchestrator defaults.")
    off_hours: OffHoursSettings = setting(Section(OffHoursSettings), {},
                                          "Off-hours scheduler.")

    def validate(self, path: str) -> None:
        for name, ep in self.endpoints.items():
            repo = ep.image.split(":", 1)[0]
            if repo not in self.images:
                raise ConfigError(f"{path}.endpoints.{name}.image", ep.image,
                                  f"an image of {path}.images ({', '.join(self.images) or 'none'}) plus ':<tag>'")
