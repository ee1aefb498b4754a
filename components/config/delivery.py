"""Delivery tier settings (`ai-platform:delivery`): how service images are built, scanned, approved and deployed.

One CodeBuild project and one CodePipeline (V2) per delivered service. The source is either a CodeStar
(CodeConnections) connection to the Git host — created PENDING by `pulumi up`, completed once by a person in
the console — or an S3 object per service in the pipeline's artifacts bucket (no Git host needed: upload a
zip and start the pipeline). dev and prod differ only in values: prod approves by hand before deploying, fails
the build on HIGH findings (dev: CRITICAL), keeps logs and artifacts longer.
"""
from __future__ import annotations

import dataclasses

from .platform import LOG_RETENTION_DAYS
from .schema import Bool, ConfigError, Enum, EnvDefault, Int, ListOf, Maybe, Str, setting

SERVICE_NAME = Str(r"[a-z][a-z0-9-]{1,30}", "a lowercase service name of 2-31 characters")
# ECR basic/enhanced scanning severities, most severe first; NONE: report only, never fail the build.
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
PROVIDERS = ("GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "Bitbucket", "AzureDevOps")
COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE")
BUILD_IMAGE = Str(r"aws/codebuild/[a-z0-9._/:-]+", "a CodeBuild curated image such as "
                  "aws/codebuild/amazonlinux-x86_64-standard:5.0", max_len=200)
# The buildspec lives in this repository (reviewed with the platform, the same for every service) and is
# given to each CodeBuild project as its content: the service repositories need only a Dockerfile.
BUILDSPEC = "delivery/buildspec.yml"


@dataclasses.dataclass(frozen=True)
class DeliverySettings:
    enabled: bool = setting(Bool(), False,
                            "Create the delivery tier (off until a source is configured: the stack files turn it on).")
    services: tuple | None = setting(Maybe(ListOf(SERVICE_NAME, max_items=50)), None,
                                        "Services that get a pipeline (default: every enabled service of the "
                                        "application catalogue). Each must be an enabled application service.")
    source: str = setting(Enum("connection", "s3"), "connection",
                          "connection: a CodeStar/CodeConnections connection to the Git host (completed once by a "
                          "person); s3: the object source/<service>.zip in the artifacts bucket.")
    provider_type: str = setting(Enum(*PROVIDERS), "GitHub", "Git host of the connection.")
    repository: str | None = setting(
        Maybe(Str(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", "a full repository id such as my-org/ai-services",
                  max_len=200)), None, "Full repository id (owner/name) of the service sources; required for "
                                       "source 'connection'.")
    branch: str = setting(Str(r"[A-Za-z0-9._/-]+", "a Git branch name", max_len=200), "main",
                          "Branch whose pushes release the services.")
    build_path: str = setting(Str(r"[A-Za-z0-9._/{}-]*\{service\}[A-Za-z0-9._/{}-]*",
                                  "a repository path containing {service}, such as services/{service}", max_len=200),
                              "services/{service}",
                              "Docker build context of each service in the repository (its Dockerfile inside); "
                              "a push that touches no file under it does not start that service's pipeline.")
    compute_type: str = setting(Enum(*COMPUTE_TYPES), EnvDefault("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM"),
                                "CodeBuild compute size.")
    build_image: str = setting(BUILD_IMAGE, "aws/codebuild/amazonlinux-x86_64-standard:5.0",
                               "CodeBuild image (x86_64; use an aarch64 image with environmentType ARM_CONTAINER).")
    environment_type: str = setting(Enum("LINUX_CONTAINER", "ARM_CONTAINER"), "LINUX_CONTAINER",
                                    "CodeBuild environment; must match application.cpuArchitecture (ARM64: "
                                    "ARM_CONTAINER) so the image runs on the tasks.")
    build_timeout_minutes: int = setting(Int(5, 480), 30, "CodeBuild build timeout (minutes).")
    scan_fail_severity: str = setting(Enum(*SEVERITIES, "NONE"), EnvDefault("CRITICAL", "HIGH"),
                                      "ECR scan findings at or above this severity fail the build, so the image "
                                      "is never deployed (NONE: never fail).")
    manual_approval: bool = setting(Bool(), EnvDefault(False, True),
                                    "A manual approval stage between build and deploy.")
    deploy_timeout_minutes: int = setting(Int(5, 60), EnvDefault(30, 60),
                                          "ECS deploy action timeout (minutes): must cover a blue/green bake time.")
    log_retention_days: int = setting(Enum(*LOG_RETENTION_DAYS), EnvDefault(30, 365),
                                      "Retention of the CodeBuild log groups (days).")
    artifact_retention_days: int = setting(Int(1, 3650), EnvDefault(14, 90),
                                           "Days pipeline artifacts (and S3 source objects) are kept.")

    def validate(self, path: str) -> None:
        if self.enabled and self.source == "connection" and not self.repository:
            raise ConfigError(f"{path}.repository", None,
                              "a full repository id such as my-org/ai-services (source 'connection' needs one)")
        if self.environment_type == "ARM_CONTAINER" and "aarch64" not in self.build_image:
            raise ConfigError(f"{path}.buildImage", self.build_image,
                              "an aarch64 CodeBuild image (e.g. aws/codebuild/amazonlinux-aarch64-standard:3.0) "
                              "with environmentType ARM_CONTAINER")
        if self.environment_type == "LINUX_CONTAINER" and "aarch64" in self.build_image:
            raise ConfigError(f"{path}.environmentType", self.environment_type,
                              "ARM_CONTAINER for an aarch64 build image")

    def delivered(self, enabled_services: list[str]) -> list[str]:
        """The services that get a pipeline, in catalogue order."""
        if not self.enabled:
            return []
        if self.services is None:
            return list(enabled_services)
        return [s for s in enabled_services if s in self.services]

    def check_against(self, path: str, enabled_services: list[str], cpu_architecture: str,
                      longest_release_minutes: int = 0) -> None:
        """Cross-section checks (the application catalogue, its architecture and its longest staged release:
        bake time plus canary/linear steps): called by the wiring."""
        if not self.enabled:
            return
        # The ECS deploy action waits for the whole deployment (bake included); ~10 minutes for the new tasks
        # to start and pass their health checks before the traffic shift.
        if longest_release_minutes and longest_release_minutes + 10 > self.deploy_timeout_minutes:
            raise ConfigError(f"{path}.deployTimeoutMinutes", self.deploy_timeout_minutes,
                              f"at least {longest_release_minutes + 10} minutes: a staged release bakes for "
                              f"{longest_release_minutes} (ai-platform:application.releases) plus ~10 to start")
        for i, name in enumerate(self.services or ()):
            if name not in enabled_services:
                raise ConfigError(f"{path}.services[{i}]", name,
                                  f"an enabled application service ({', '.join(enabled_services)})")
        wanted = "ARM_CONTAINER" if cpu_architecture == "ARM64" else "LINUX_CONTAINER"
        if self.environment_type != wanted:
            raise ConfigError(f"{path}.environmentType", self.environment_type,
                              f"{wanted}: ai-platform:application.cpuArchitecture is {cpu_architecture} and the "
                              "images must run on the tasks")
