"""Application tier settings: the ECS cluster and its service catalogue, the ALB, EKS and Batch.

The catalogue is `components/catalog.DEFAULT_SERVICES` merged with `services` from the stack file:
an entry for a catalogue service overrides only the keys it gives, a new name adds a service (its
`port` is then required), `enabled: false` drops one. dev and prod differ only in default values.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from functions.db_bootstrap.names import ACCEPTED, role_name, role_problem

from .. import bedrock
from ..catalog import DEFAULT_CONTRACTS, DEFAULT_ROUTES, DEFAULT_SERVICES
from .schema import (
    DOMAIN,
    HOSTED_ZONE_ID,
    Bool,
    Cidr,
    ConfigError,
    Enum,
    EnvDefault,
    Int,
    ListOf,
    MapOf,
    Maybe,
    Num,
    Section,
    Str,
    setting,
)
from .security import SECRET_NAME


class Catalogue(MapOf):
    """The default catalogue's names with the stack's entries merged on top, each parsed in full. A catalogue
    service's `uses` starts from its default contract; the stack's `uses` adds to it (lists and bucket modes are
    merged, `database` and `cache` are replaced)."""

    def parse(self, value, path, env):
        if not isinstance(value, dict):
            raise self.fail(path, value)
        merged: dict[str, Any] = {name: {} for name in DEFAULT_SERVICES}
        merged.update({k: ({} if v is None else v) for k, v in value.items()})
        for name, entry in list(merged.items()):
            if name in DEFAULT_CONTRACTS and isinstance(entry, dict):
                merged[name] = {**entry, "uses": merge_uses(DEFAULT_CONTRACTS[name], entry.get("uses"))}
            if name in DEFAULT_ROUTES and isinstance(merged[name], dict):
                route = merged[name].get("route")
                merged[name] = {**merged[name], "route": {**DEFAULT_ROUTES[name], **route}
                                if isinstance(route, dict) else DEFAULT_ROUTES[name] if route is None else route}
        return super().parse(merged, path, env)


def merge_uses(default: dict, extra: Any) -> Any:
    if extra is None:
        return dict(default)
    if not isinstance(extra, dict):
        return extra   # parsed (and rejected) by UsesSettings
    out = dict(default)
    for key, value in extra.items():
        base = out.get(key)
        if isinstance(base, list) and isinstance(value, list):
            out[key] = list(dict.fromkeys([*base, *value]))
        elif isinstance(base, dict) and isinstance(value, dict):
            out[key] = {**base, **value}
        else:
            out[key] = value
    return out


# Fargate's valid task sizes: cpu units -> (min MiB, max MiB, step MiB). 256 CPU units take only 512,
# 1024 or 2048 MiB (1536 is rejected by RegisterTaskDefinition): see fargate_memory_sizes().
FARGATE_SIZES = {256: (512, 2048, 512), 512: (1024, 4096, 1024), 1024: (2048, 8192, 1024),
                 2048: (4096, 16384, 1024), 4096: (8192, 30720, 1024), 8192: (16384, 61440, 4096),
                 16384: (32768, 122880, 8192)}
MODERN_SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")


def fargate_memory_sizes(cpu: int) -> tuple:
    """The memory sizes (MiB) Fargate accepts for a task of `cpu` units."""
    if cpu == 256:
        return (512, 1024, 2048)
    lo, hi, step = FARGATE_SIZES[cpu]
    return tuple(range(lo, hi + 1, step))


# Graviton families (a 'g' among the letters after the generation digit: m6g, c7gn, r8gd, x2gd, is4gen...)
# cannot boot the x86_64 node AMI.
GRAVITON = re.compile(r"[a-z]+\d+[a-z-]*g[a-z-]*")
CERTIFICATE_ARN = Str(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
                      "an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/<uuid>")
IMAGE = Str(r"[a-z0-9][a-z0-9._/:@-]*", "a container image reference (registry/repository:tag or @sha256:...)",
            max_len=512)
TAG = Str(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag (letters, digits, _ . -, at most 128)")
ENV_NAME = Str(r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name")
DEPLOYMENT_STRATEGIES = ("rolling", "blue_green", "canary", "linear")
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


SHORT_NAME = Str(r"[a-z][a-z0-9-]{0,39}", "a lowercase name of letters, digits and -, starting with a letter")
DETAIL_TYPE = Str(r"[A-Za-z][A-Za-z0-9 ._-]{0,127}", "an event detail-type such as 'DocumentUploaded'")
MODEL_ID = Str(bedrock.ID_PATTERN, bedrock.ID_ACCEPTED, max_len=200)


@dataclasses.dataclass(frozen=True)
class UsesSettings:
    """A service's contract: what it may use. Each entry becomes an exact grant on the service's own task role."""
    database: str = setting(Enum("none", "readonly", "readwrite"), "none",
                            "PostgreSQL through IAM authentication as the service's own (non-master) DB user; "
                            "readonly connects to the replica where there is one.")
    schemas: tuple = setting(ListOf(SHORT_NAME, max_items=20), [],
                             "Other services' database schemas it reads (SELECT; each one a readwrite service's: "
                             "a readwrite service owns the schema of its own name). The database bootstrap grants "
                             "exactly this (docs/database-users.md).")
    cache: bool = setting(Bool(), False, "Redis over TLS; the AUTH token secret is injected (REDIS_AUTH_TOKEN).")
    queues: tuple = setting(ListOf(SHORT_NAME, max_items=20), [], "Events-tier queues it consumes.")
    publishes: tuple = setting(ListOf(DETAIL_TYPE, max_items=20), [],
                               "Event detail-types it may put on the platform bus (each one a bus rule matches).")
    buckets: Any = setting(MapOf(Enum("read", "write", "readwrite"), key=SHORT_NAME, max_items=10), {},
                           "Data-tier buckets by key -> read, write or readwrite.")
    tables: tuple = setting(ListOf(SHORT_NAME, max_items=20), [], "Data-tier DynamoDB tables by key.")
    uploads: tuple = setting(ListOf(SHORT_NAME, max_items=5), [],
                             "Data-tier buckets the service lets the SPA upload into directly (presigned multipart "
                             "PUTs under uploads/, issued and completed by the service): the grants, the bucket's CORS "
                             "for the site's origin and the CSP follow.")
    models: tuple = setting(ListOf(MODEL_ID, max_items=20), [],
                            "Bedrock models it may invoke: foundation-model ids (this Region) or cross-Region "
                            "inference-profile ids (us., eu., apac., global. ...: the profile and its models in "
                            "every Region it routes to).")
    secrets: tuple = setting(ListOf(SECRET_NAME, max_items=20), [], "Extra security-tier secrets injected.")
    guardrail: str | None = setting(
        Maybe(Str(r"[a-z0-9]{12}(:([1-9][0-9]{0,7}|DRAFT))?", "a Bedrock guardrail id, optionally :<version> (e.g. "
                  "'abc123def456:1')", max_len=21)), None,
        "A Bedrock guardrail its model calls apply: bedrock:ApplyGuardrail on it, BEDROCK_GUARDRAIL_ID/VERSION in the "
        "environment (none: no guardrail).")


# API Gateway REST integration timeouts (pulumi-aws `aws.apigateway.Integration.timeoutMilliseconds`, after
# "Quotas for configuring and running a REST API in API Gateway" and "Stream the integration response for your
# proxy integrations in API Gateway"): 29 s buffered without a quota increase (which may cut the account's
# throttle), up to 15 minutes streamed.
BUFFERED_MAX_SECONDS = 29
STREAM_MAX_SECONDS = 900
MEDIA_TYPE = Str(r"[a-z*]+/[A-Za-z0-9*.+-]+", "a media type such as 'application/pdf' or 'image/*'", max_len=100)


@dataclasses.dataclass(frozen=True)
class RouteSettings:
    """How the API serves one service (its /<service> and /<service>/* paths)."""
    response: str = setting(Enum("BUFFERED", "STREAM"), "BUFFERED",
                            "BUFFERED (the whole answer, at most 10 MB and 29 s) or STREAM (sent as it is produced: "
                            "up to 15 minutes, past 10 MB; the container must flush at least every 5 minutes).")
    timeout_seconds: int = setting(Int(1, STREAM_MAX_SECONDS), BUFFERED_MAX_SECONDS,
                                   "Integration timeout (s): at most 29 buffered, 900 streamed. The load balancer's "
                                   "idle timeout is kept above the longest one.")
    binary_media_types: tuple = setting(ListOf(MEDIA_TYPE, max_items=20), [],
                                        "Content types passed through as bytes (the API's binaryMediaTypes).")
    prompts: bool = setting(Bool(), False,
                            "The route takes free text (prompts, code): the WAF's body rules (XSS, LFI, RFI, SSRF) "
                            "count there instead of block; maxBodyKb and the per-user rate limit compensate.")
    max_body_kb: int = setting(Int(1, 64), 64, "Largest request body (KB) the WAF admits on a prompts route (larger "
                                               "bodies: documents through the direct-to-S3 upload).")

    def validate(self, path: str) -> None:
        if self.response == "BUFFERED" and self.timeout_seconds > BUFFERED_MAX_SECONDS:
            raise ConfigError(f"{path}.timeoutSeconds", self.timeout_seconds,
                              f"at most {BUFFERED_MAX_SECONDS} with response BUFFERED (API Gateway's quota; longer "
                              f"answers: response STREAM, up to {STREAM_MAX_SECONDS})")


@dataclasses.dataclass(frozen=True)
class ServiceSettings:
    enabled: bool = setting(Bool(), True, "false drops a catalogue service.")
    port: int | None = setting(Maybe(Int(1024, 65535)), None,
                                  "Container port (default: the catalogue's); must lie in the network tier's app port range.")
    cpu: int = setting(Enum(*FARGATE_SIZES), 512, "Fargate task CPU units.")
    memory: int = setting(Int(512, 122880), 1024, "Fargate task memory (MiB); must suit cpu.")
    desired_count: int = setting(Int(0, 1000), EnvDefault(1, 2), "Tasks at first deploy (autoscaling owns it after).")
    min_count: int = setting(Int(0, 1000), EnvDefault(1, 2), "Autoscaling minimum tasks.")
    max_count: int = setting(Int(1, 1000), EnvDefault(2, 10), "Autoscaling maximum tasks.")
    image: str | None = setting(Maybe(IMAGE), None,
                                   "Full image reference; default: the ML tier's ECR repository (or the platform's "
                                   "ECR naming convention) with imageTag.")
    image_tag: str | None = setting(Maybe(TAG), None, "Image tag for this service (default: the tier's imageTag).")
    environment: Any = setting(MapOf(Str(max_len=4096, min_len=0), key=ENV_NAME), {}, "Extra environment variables.")
    secrets: tuple = setting(ListOf(SECRET_NAME, max_items=20), ["jwt-signing-secret"],
                             "Security-tier secrets injected as env vars (NAME_IN_CAPS). A secret whose value is set "
                             "out of band must have one before the service deploys, or tasks fail to start.")
    health_check_path: str = setting(Str(r"/[A-Za-z0-9._~/-]*", "a URL path starting with /"), "/health",
                                     "Target group and container health check path.")
    path_pattern: str | None = setting(Maybe(Str(r"/[A-Za-z0-9._~/*?-]*", "an ALB path pattern", max_len=128)),
                                          None, "ALB path pattern (default /<service>/*; /<service> is also routed).")
    priority: int | None = setting(Maybe(Int(1, 50000)), None,
                                      "Listener rule priority (default: the port, stable and unique per service).")
    interruptible: bool = setting(Bool(), EnvDefault(True, False),
                                  "Run on FARGATE_SPOT (tasks can be stopped with 2 minutes' notice).")
    read_only_root_filesystem: bool = setting(Bool(), True, "Read-only root filesystem (/tmp is a writable volume).")
    user: str = setting(Str(r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?", "uid[:gid] or user[:group]", max_len=64),
                        "1000:1000", "User the container runs as (non-root by default).")
    deployment: str | None = setting(Maybe(Enum(*DEPLOYMENT_STRATEGIES)), None,
                                        "ECS deployment strategy: rolling, blue_green, canary or linear (default: "
                                        "blue_green for releases.blueGreenServices, else rolling).")
    test_priority: int | None = setting(Maybe(Int(1, 50000)), None,
                                           "Priority of the blue/green test listener rule (default: priority - 1000; "
                                           "must be below the production rule's).")
    route: RouteSettings = setting(Section(RouteSettings), {},
                                   "How the API serves it: streamed or buffered, timeout, binary types, prompts "
                                   "(defaults per catalogue service in components/catalog.py).")
    uses: UsesSettings = setting(Section(UsesSettings), {},
                                 "The service's contract (defaults per catalogue service in components/catalog.py; "
                                 "entries here add to them).")
    off_hours: bool = setting(Bool(), EnvDefault(True, False),
                              "Tag the service for the off-hours scheduler (stopped at night; autoscaling minimum 0).")
    health_check_command: tuple | None = setting(
        Maybe(ListOf(Str(max_len=1024), min_items=1, max_items=10, unique=False)), None,
        "Container health check command (default: CMD-SHELL curl -fsS http://localhost:<port><path>; "
        "the image must contain curl or set this).")

    def validate(self, path: str) -> None:
        lo, hi, step = FARGATE_SIZES[self.cpu]
        if self.memory not in fargate_memory_sizes(self.cpu):
            accepted = ("512, 1024 or 2048 MiB" if self.cpu == 256 else f"{lo} to {hi} MiB in steps of {step}")
            raise ConfigError(f"{path}.memory", self.memory, f"a Fargate memory size for cpu {self.cpu}: {accepted}")
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ConfigError(f"{path}.desiredCount", self.desired_count,
                              f"a count from minCount ({self.min_count}) to maxCount ({self.max_count})")


@dataclasses.dataclass(frozen=True)
class AlbSettings:
    certificate_arn: str | None = setting(Maybe(CERTIFICATE_ARN), None,
                                             "ACM certificate for the HTTPS listener; none: HTTP only (the policy "
                                             "alb-https-or-redirect reports it).")
    domain_name: str | None = setting(Maybe(DOMAIN), None,
                                         "DNS name the certificate covers, by which API Gateway calls the ALB "
                                         "(it verifies the certificate against it); required with certificateArn.")
    hosted_zone_id: str | None = setting(Maybe(HOSTED_ZONE_ID), None,
                                            "Route 53 zone in which to create domainName as an alias of the ALB; "
                                            "none: the record is managed outside this stack.")
    ssl_policy: str = setting(Enum(*MODERN_SSL_POLICIES), "ELBSecurityPolicy-TLS13-1-2-2021-06",
                              "TLS policy of the HTTPS listener (TLS 1.2+ with TLS 1.3).")
    idle_timeout: int | None = setting(Maybe(Int(1, 4000)), None,
                                       "Idle connection timeout (s); default: 60, or the longest route timeout + 30 "
                                       "when that is longer. Never below a route's timeout.")
    access_log_prefix: str = setting(Str(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*",
                                         "an S3 key prefix without leading, trailing or double /", max_len=200),
                                     "alb", "Prefix of ALB access logs in the log bucket.")

    def validate(self, path: str) -> None:
        if self.certificate_arn and not self.domain_name:
            raise ConfigError(f"{path}.domainName", None, "the DNS name the certificate covers (API Gateway verifies "
                                                          "the ALB's certificate against the name it calls)")
        if self.hosted_zone_id and not self.domain_name:
            raise ConfigError(f"{path}.hostedZoneId", self.hosted_zone_id, "null unless domainName is set")
        # ELB rejects the attribute (ValidationError: prefix cannot contain 'AWSLogs'): it adds AWSLogs itself.
        if "awslogs" in self.access_log_prefix.lower():
            raise ConfigError(f"{path}.accessLogPrefix", self.access_log_prefix, "a prefix without 'AWSLogs'")


# The services a user waits on (the SPA calls them synchronously through API Gateway and the ALB): a failed
# release must never reach them, and a long-lived chat stream must not be cut by a task replacement. The others
# (format-conversion, classification, workflow, quality) are steps of queued workflows that retry, so a
# rolling release with the circuit breaker is enough and costs no second fleet during the bake.
USER_FACING = ("conversational", "search", "document-extraction", "personalization", "code")
TEST_PRIORITY_OFFSET = 1000


@dataclasses.dataclass(frozen=True)
class ReleaseSettings:
    blue_green_services: tuple = setting(ListOf(Str(r"[a-z][a-z0-9-]{1,30}", "a service name")),
                                         EnvDefault([], list(USER_FACING)),
                                         "Services deployed blue/green unless their own `deployment` says otherwise.")
    bake_time_minutes: int = setting(Int(0, 1440), EnvDefault(2, 10),
                                     "Minutes blue and green both run after the production traffic shift, before "
                                     "blue is stopped (a rollback within it is instant).")
    test_header: str = setting(Str(r"[A-Za-z0-9-]{1,40}", "an HTTP header name"), "X-Release-Test",
                               "Requests carrying this header (value `green`) reach the new revision during a "
                               "blue/green deployment, before production traffic does.")
    canary_percent: float = setting(Num(0.1, 100.0), 10.0, "Traffic share of the canary step (strategy canary).")
    canary_bake_minutes: int = setting(Int(0, 1440), 5, "Minutes at the canary share before shifting the rest.")
    linear_step_percent: float = setting(Num(3.0, 100.0), 25.0, "Traffic share per step (strategy linear).")
    linear_step_bake_minutes: int = setting(Int(0, 1440), 2, "Minutes between linear steps.")
    rollback_5xx_threshold: int = setting(Int(1, 100000), 10,
                                          "Target 5xx responses per minute (two minutes in a row) that roll a "
                                          "blue/green, canary or linear deployment back.")


@dataclasses.dataclass(frozen=True)
class AutoscalingSettings:
    cpu_target: int = setting(Int(10, 95), 60, "Target average CPU utilisation (%).")
    memory_target: int = setting(Int(10, 95), 75, "Target average memory utilisation (%).")
    scale_in_cooldown: int = setting(Int(0, 3600), 300, "Seconds between scale-in activities.")
    scale_out_cooldown: int = setting(Int(0, 3600), 60, "Seconds between scale-out activities.")
    requests_per_target: int = setting(Int(1, 100000), 1000,
                                       "Target requests per task per minute (ALBRequestCountPerTarget) of a buffered "
                                       "route: a service waiting on a model saturates at low CPU.")
    streamed_requests_per_target: int = setting(Int(1, 100000), 20,
                                                "The same for a streamed route (each answer holds its connection for "
                                                "minutes: 20 a minute of 3-minute answers is ~60 open per task).")
    queue_backlog_per_task: int = setting(Int(1, 100000), 10,
                                          "Target visible messages per running task of a queue consumer "
                                          "(ApproximateNumberOfMessagesVisible / RunningTaskCount).")


@dataclasses.dataclass(frozen=True)
class EksSettings:
    enabled: bool = setting(Bool(), False,
                            "Create the EKS cluster (opt-in in every environment: docs/eks.md says what a team "
                            "must add before anything can run on it).")
    version: str = setting(Str(r"1\.\d{2}", "a Kubernetes minor version such as '1.35'", max_len=5), "1.35",
                           "Kubernetes version.")
    support_type: str = setting(Enum("STANDARD", "EXTENDED"), "STANDARD",
                                "STANDARD auto-upgrades at end of standard support (extended support costs 6x).")
    public_access_cidrs: tuple = setting(ListOf(Cidr(8, 32), max_items=40), [],
                                         "CIDRs allowed to the public API endpoint; empty: public endpoint off.")
    instance_types: tuple = setting(ListOf(Str(r"[a-z0-9]+\.[a-z0-9]+", "an instance type such as m6i.large"),
                                           min_items=1, max_items=20), EnvDefault(["t3.large"], ["m6i.large", "m5.large"]),
                                    "Node instance types (x86_64: the node AMI is AL2023_x86_64_STANDARD).")
    capacity_type: str = setting(Enum("ON_DEMAND", "SPOT"), EnvDefault("SPOT", "ON_DEMAND"), "Node capacity type.")
    min_size: int = setting(Int(1, 100), 1, "Node group minimum size.")
    max_size: int = setting(Int(1, 450), 10, "Node group maximum size.")
    desired_size: int = setting(Int(1, 450), EnvDefault(1, 2), "Node group desired size at creation.")
    disk_size: int = setting(Int(20, 16384), 50, "Node root volume size (GiB, gp3, encrypted).")
    oidc_thumbprint: str = setting(Str(r"[0-9a-f]{40}", "a 40-character hex SHA-1 thumbprint"),
                                   "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
                                   "Thumbprint of the OIDC issuer's root CA (IAM verifies EKS issuers against its own "
                                   "trusted CAs; the API still stores one).")
    log_types: tuple = setting(ListOf(Enum(*LOG_TYPES), min_items=1, max_items=5), list(LOG_TYPES),
                               "Control-plane log types sent to CloudWatch Logs.")

    def validate(self, path: str) -> None:
        for i, itype in enumerate(self.instance_types):
            if GRAVITON.fullmatch(itype.split(".")[0]):
                raise ConfigError(f"{path}.instanceTypes[{i}]", itype,
                                  "an x86_64 instance type (the node group's AMI is AL2023_x86_64_STANDARD)")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ConfigError(f"{path}.desiredSize", self.desired_size,
                              f"a size from minSize ({self.min_size}) to maxSize ({self.max_size})")


@dataclasses.dataclass(frozen=True)
class BatchSettings:
    enabled: bool = setting(Bool(), EnvDefault(False, True), "Create the Batch compute environment and job queue.")
    min_vcpus: int = setting(Int(0, 10000), 0, "Minimum vCPUs kept running (0: scale to zero).")
    max_vcpus: int = setting(Int(1, 10000), 256, "Maximum vCPUs.")
    instance_types: tuple = setting(ListOf(Str(r"[a-z0-9]+(\.[a-z0-9]+)?", "an instance type or family"),
                                           min_items=1, max_items=20), ["c6i", "m6i", "r6i", "c5", "m5"],
                                    "Instance types or families (diverse families make Spot more available).")
    queue_priority: int = setting(Int(0, 1000), 10, "Job queue priority (higher runs first).")
    job_image: str = setting(IMAGE, "public.ecr.aws/amazonlinux/amazonlinux:2023", "Image of the job definition template.")
    job_vcpus: int = setting(Int(1, 256), 1, "vCPUs of the job definition template.")
    job_memory: int = setting(Int(128, 1048576), 2048, "Memory (MiB) of the job definition template.")
    job_timeout: int = setting(Int(60, 1209600), 3600, "Attempt timeout (s) of the job definition template.")
    job_attempts: int = setting(Int(1, 10), 3, "Retry attempts (Spot reclaims count as failures).")
    uses: UsesSettings = setting(Section(UsesSettings), {"buckets": {"data-lake": "readwrite"}},
                                 "The jobs' contract: queues, publishes, buckets, tables, models; each becomes an exact "
                                 "grant on the job role, as a service's does (no database, cache, secrets or uploads: "
                                 "the jobs' own security group has no path to the data tier).")

    def validate(self, path: str) -> None:
        if self.max_vcpus < self.min_vcpus:
            raise ConfigError(f"{path}.maxVcpus", self.max_vcpus, f"at least minVcpus ({self.min_vcpus})")
        u = self.uses
        for key, value in (("database", u.database != "none"), ("cache", u.cache), ("secrets", bool(u.secrets)),
                           ("uploads", bool(u.uploads)), ("schemas", bool(u.schemas))):
            if value:
                raise ConfigError(f"{path}.uses.{key}", getattr(u, key),
                                  "nothing: Batch jobs get queues, publishes, buckets, tables and models only (their "
                                  "security group has no path to the data tier)")


@dataclasses.dataclass(frozen=True)
class ResolvedService:
    """One catalogue entry after merging: everything the tier needs, the port always known."""
    name: str
    port: int
    priority: int
    path_patterns: tuple
    settings: ServiceSettings
    deployment: str = "rolling"
    test_priority: int | None = None   # blue/green, canary, linear: the test listener rule's priority


IDLE_MARGIN_SECONDS = 30


def route_path(svc: ResolvedService) -> str | None:
    """The first path segment the service is served under (its API resource), None when its pattern has none."""
    m = re.fullmatch(r"/([A-Za-z0-9._~-]+)(/\*)?", svc.path_patterns[-1])
    return m.group(1) if m else None


@dataclasses.dataclass(frozen=True)
class ApplicationSettings:
    container_insights: str = setting(Enum("enabled", "enhanced"), EnvDefault("enabled", "enhanced"),
                                      "ECS Container Insights level (enhanced adds task/container metrics, costs more).")
    default_capacity_strategy: Any = setting(MapOf(Int(0, 1000), key=Enum("FARGATE", "FARGATE_SPOT")),
                                             EnvDefault({"FARGATE_SPOT": 1}, {"FARGATE": 1}),
                                             "Cluster default capacity provider weights (tasks started without a "
                                             "strategy, e.g. one-off tasks).")
    spot_on_demand_base: int = setting(Int(0, 100), EnvDefault(0, 1),
                                       "On-demand tasks kept under each interruptible service (the rest on Spot).")
    cpu_architecture: str = setting(Enum("X86_64", "ARM64"), "X86_64",
                                    "Task CPU architecture; must match the images (ARM64 needs arm64/multi-arch images).")
    image_tag: str = setting(TAG, "latest", "Default image tag of every service (pin a release or digest in prod).")
    tracing: bool = setting(Bool(), True,
                            "An X-Ray daemon beside every service (UDP 127.0.0.1:2000, AWS_XRAY_DAEMON_ADDRESS) and the "
                            "task roles' xray:Put*/GetSampling* grants: traces continue from API Gateway into the services.")
    xray_daemon_image: str = setting(IMAGE, "public.ecr.aws/xray/aws-xray-daemon:3.x",
                                     "Image of the X-Ray daemon sidecar (AWS's public image; pin a version or mirror it).")
    services: Any = setting(Catalogue(Section(ServiceSettings), key=Str(r"[a-z][a-z0-9-]{1,30}",
                                                                         "a lowercase service name of 2-31 characters")),
                            {}, "Per-service settings merged onto the default catalogue (components/catalog.py).")
    alb: AlbSettings = setting(Section(AlbSettings), {}, "The Application Load Balancer.")
    autoscaling: AutoscalingSettings = setting(Section(AutoscalingSettings), {}, "Service target tracking.")
    releases: ReleaseSettings = setting(Section(ReleaseSettings), {}, "Deployment strategies of the services.")
    eks: EksSettings = setting(Section(EksSettings), {}, "The EKS cluster.")
    batch: BatchSettings = setting(Section(BatchSettings), {}, "AWS Batch.")

    def validate(self, path: str) -> None:
        if not any(self.default_capacity_strategy.values()):
            raise ConfigError(f"{path}.defaultCapacityStrategy", dict(self.default_capacity_strategy),
                              "at least one provider with a weight above 0")
        # Fargate Spot runs X86_64 Linux tasks only: an ARM64 task would never be placed on it.
        if self.cpu_architecture == "ARM64":
            if self.default_capacity_strategy.get("FARGATE_SPOT"):
                raise ConfigError(f"{path}.defaultCapacityStrategy", dict(self.default_capacity_strategy),
                                  "no FARGATE_SPOT weight with cpuArchitecture ARM64 (Fargate Spot is X86_64 only)")
            for name, svc in self.services.items():
                if svc.enabled and svc.interruptible:
                    raise ConfigError(f"{path}.services.{name}.interruptible", True,
                                      "false with cpuArchitecture ARM64 (Fargate Spot is X86_64 only)")
        for name, svc in self.services.items():
            if name not in DEFAULT_SERVICES and svc.port is None and svc.enabled:
                raise ConfigError(f"{path}.services.{name}.port", None, "a port (the service is not in the catalogue)")
        self._validate_database_users(path)
        for i, name in enumerate(self.releases.blue_green_services):
            if name not in self.services:
                raise ConfigError(f"{path}.releases.blueGreenServices[{i}]", name,
                                  f"a service of the catalogue ({', '.join(self.services)})")
        if self.alb.idle_timeout is not None:
            for svc in self.catalogue():
                if self.alb.idle_timeout < svc.settings.route.timeout_seconds:
                    raise ConfigError(f"{path}.alb.idleTimeout", self.alb.idle_timeout,
                                      f"at least the route timeout of service {svc.name} "
                                      f"({svc.settings.route.timeout_seconds} s), or unset (derived)")
        for svc in self.catalogue():
            r = svc.settings.route
            if (r.response != "BUFFERED" or r.timeout_seconds != BUFFERED_MAX_SECONDS or r.prompts) \
                    and route_path(svc) is None:
                raise ConfigError(f"{path}.services.{svc.name}.pathPattern", svc.settings.path_pattern,
                                  "a pattern /<segment>/* (a route of its own on the API needs a literal first "
                                  "path segment)")
        seen_ports: dict[int, str] = {}
        seen_prio: dict[int, str] = {}
        for svc in self.catalogue():
            if svc.test_priority is not None:
                if svc.test_priority >= svc.priority:
                    raise ConfigError(f"{path}.services.{svc.name}.testPriority", svc.test_priority,
                                      f"a priority below the service's production rule ({svc.priority}): the test "
                                      "rule must be evaluated first (set testPriority)")
                if svc.test_priority in seen_prio:
                    raise ConfigError(f"{path}.services.{svc.name}.testPriority", svc.test_priority,
                                      f"a priority not already used by service {seen_prio[svc.test_priority]}")
                seen_prio[svc.test_priority] = f"{svc.name} (test rule)"
            # The default priority is the port; ALB listener rule priorities stop at 50000.
            if svc.priority > 50000:
                raise ConfigError(f"{path}.services.{svc.name}.priority", svc.priority,
                                  "a listener rule priority from 1 to 50000 (set priority: the port is above 50000)")
            for value, seen, key in ((svc.port, seen_ports, "port"), (svc.priority, seen_prio, "priority")):
                if value in seen:
                    raise ConfigError(f"{path}.services.{svc.name}.{key}", value,
                                      f"a {key} not already used by service {seen[value]}")
                seen[value] = svc.name

    def longest_route_seconds(self) -> int:
        return max((svc.settings.route.timeout_seconds for svc in self.catalogue()), default=BUFFERED_MAX_SECONDS)

    def alb_idle_timeout(self) -> int:
        """The load balancer's idle timeout: the configured one, else above the longest route's timeout (an idle
        timeout below it cuts a long answer with a 504 before API Gateway gives up)."""
        return self.alb.idle_timeout or max(60, self.longest_route_seconds() + IDLE_MARGIN_SECONDS)

    def _validate_database_users(self, path: str) -> None:
        """The database bootstrap's input is valid before anything runs: every service with a database has a login
        role PostgreSQL and RDS accept, and every schema it reads belongs to a readwrite service."""
        enabled = {name: svc for name, svc in self.services.items() if svc.enabled}
        # A disabled owner's schema stays (its data is never dropped); the bootstrap then grants nothing on it.
        owners = sorted(n for n, svc in self.services.items() if svc.uses.database == "readwrite")
        for name, svc in enabled.items():
            u = svc.uses
            if u.database == "none":
                if u.schemas:
                    raise ConfigError(f"{path}.services.{name}.uses.schemas", list(u.schemas),
                                      "empty unless uses.database is readonly or readwrite")
                continue
            problem = role_problem(role_name(name))
            if problem:
                raise ConfigError(f"{path}.services.{name}", name, f"{ACCEPTED} ({problem})")
            for i, schema in enumerate(u.schemas):
                if schema == name or schema not in owners:
                    raise ConfigError(f"{path}.services.{name}.uses.schemas[{i}]", schema,
                                      f"another readwrite service's schema ({', '.join(o for o in owners if o != name)})")

    def longest_release_minutes(self) -> int:
        """Minutes a staged (blue/green, canary, linear) deployment bakes at most, for the deploy timeout."""
        r = self.releases
        extra = {"blue_green": 0, "canary": r.canary_bake_minutes,
                 "linear": r.linear_step_bake_minutes * int(-(-100 // r.linear_step_percent))}
        staged = [svc.deployment for svc in self.catalogue() if svc.deployment != "rolling"]
        return max((r.bake_time_minutes + extra[d] for d in staged), default=0)

    def catalogue(self) -> list[ResolvedService]:
        """The enabled services, catalogue order first, then added services by name."""
        names = list(DEFAULT_SERVICES) + sorted(n for n in self.services if n not in DEFAULT_SERVICES)
        out = []
        for name in names:
            svc = self.services[name]
            if not svc.enabled:
                continue
            port = svc.port if svc.port is not None else DEFAULT_SERVICES[name]
            patterns = (svc.path_pattern,) if svc.path_pattern else (f"/{name}", f"/{name}/*")
            priority = svc.priority or port
            deployment = svc.deployment or ("blue_green" if name in self.releases.blue_green_services else "rolling")
            test_priority = None
            if deployment != "rolling":
                test_priority = svc.test_priority or max(1, priority - TEST_PRIORITY_OFFSET)
            out.append(ResolvedService(name=name, port=port, priority=priority, path_patterns=patterns,
                                       settings=svc, deployment=deployment, test_priority=test_priority))
        return out
