"""Image helper: ECR login, repository URI, push a locally built image, list tags with scan results.

    python -m functions.images --stack dev login                 # prints the docker login pipeline
    python -m functions.images --stack dev uri search            # ACCOUNT.dkr.ecr.REGION.amazonaws.com/ai-platform/dev/search
    python -m functions.images --stack prod push search 3f9c2e1  # docker tag search:3f9c2e1 ... && docker push ...
    python -m functions.images --stack prod tags ocr-training    # tags, digests, scan status and severity counts
    pulumi stack output --json | python -m functions.images --outputs - uri search

Which repository a service or ML image lives in (three sources, exactly one is used):
- `--outputs FILE|-`: the stack's `pulumi stack output --json` (its `ecrRepositoryUrls` map). Authoritative once the
  stack is deployed: the URIs are what ECR created, the region is the one in the URI.
- `--stack NAME` (default): the stack file Pulumi.NAME.yaml, read and validated by the same settings loader as the
  program, and the ML tier's naming (`Namer.physical("ecr", image)` = `ai-platform/NAME/IMAGE`) for every service of
  the catalogue plus `ml.images`. Works before `pulumi up` and needs no Pulumi CLI; the region is the stack's
  `aws:region` unless `--region` says otherwise.
- `--repository-prefix PREFIX` (e.g. `ai-platform/dev`): no config at all; the known images are the repositories
  ECR lists under the prefix (for another checkout or a stack file you do not have).

Passwords never appear in a command line: `login` prints the `aws ecr get-login-password | docker login
--password-stdin` pipeline, `login --run` and `push` hand the token to `docker login` on its standard input.
Exit status: 0 done; 1 an AWS or docker operation failed (one line); 2 bad input: unknown service, missing Docker
or image, no or rejected credentials, unknown region, existing tag in an immutable repository (one line).
"""
from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from ..aws_errors import CREDENTIAL_ERRORS, NO_CREDENTIALS, error_code

ROOT = Path(__file__).resolve().parents[2]
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
Runner = Callable[..., subprocess.CompletedProcess]


class UsageError(Exception):
    """Bad input: one line on stderr, exit 2."""


class OperationError(Exception):
    """An AWS or docker operation failed: one line on stderr, exit 1."""


def run_command(cmd: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)


# --- where the repositories are -------------------------------------------------------------------------------
class Catalogue:
    """image name -> repository name (and, from stack outputs, the URI); plus the region it implies."""

    def __init__(self, repos: dict[str, str], *, source: str, region: str | None = None,
                 uris: dict[str, str] | None = None):
        self.repos, self.source, self.region, self.uris = repos, source, region, uris or {}

    def repository(self, image: str) -> str:
        if image not in self.repos:
            known = ", ".join(sorted(self.repos)) or "none"
            raise UsageError(f"unknown service or image {image!r} in {self.source} (known: {known})")
        return self.repos[image]


def from_stack(stack: str, root: Path = ROOT) -> Catalogue:
    """The ML tier's repositories for a stack file, named as components/ml.py names them."""
    from components.catalog import DEFAULT_SERVICES
    from components.config import PROJECT, TIERS, ConfigError, load_settings
    from components.naming import Namer
    from plan.engine import PlanError
    from plan.stackfile import load_stack_config, stack_file_path

    name, path = stack_file_path(stack, None, root)
    if not path.is_file():
        raise UsageError(f"--stack {stack}: no stack file {path.name} in {root} (use --outputs or --repository-prefix)")
    try:
        config, _ = load_stack_config(name, path, root)
        raw = {tier: config[f"{PROJECT}:{tier}"] for tier in TIERS if f"{PROJECT}:{tier}" in config}
        region = config.get("aws:region")
        settings = load_settings(raw, stack=name, region=region or "us-east-1")
    except (PlanError, ConfigError) as exc:
        raise UsageError(f"--stack {stack}: {str(exc).splitlines()[0]}") from None
    namer = Namer(PROJECT, name)
    images = dict.fromkeys([*DEFAULT_SERVICES, *(s.name for s in settings.application.catalogue()),
                            *settings.ml.images])
    return Catalogue({i: namer.physical("ecr", i) for i in images}, source=f"stack {name}", region=region)


def from_outputs(text: str, source: str) -> Catalogue:
    try:
        outputs = json.loads(text)
    except ValueError:
        raise UsageError(f"--outputs {source}: not JSON (expected `pulumi stack output --json`)") from None
    urls = outputs.get("ecrRepositoryUrls") if isinstance(outputs, dict) else None
    if not isinstance(urls, dict) or not urls:
        raise UsageError(f"--outputs {source}: no ecrRepositoryUrls map (expected `pulumi stack output --json`)")
    repos, regions = {}, set()
    for image, uri in urls.items():
        host, _, repo = str(uri).partition("/")
        parts = host.split(".")
        if not repo or len(parts) < 6 or parts[1:3] != ["dkr", "ecr"]:
            raise UsageError(f"--outputs {source}: ecrRepositoryUrls.{image} = {uri!r} is not an ECR repository URI")
        repos[image] = repo
        regions.add(parts[3])
    return Catalogue(repos, source=f"outputs {source}", region=min(regions), uris=dict(urls))


def from_prefix(ecr, prefix: str) -> Catalogue:
    prefix = prefix.strip("/")
    repos = {}
    for page in ecr.get_paginator("describe_repositories").paginate():
        for r in page["repositories"]:
            if r["repositoryName"].startswith(prefix + "/"):
                repos[r["repositoryName"][len(prefix) + 1:]] = r["repositoryName"]
    return Catalogue(repos, source=f"repository prefix {prefix}/")


def known_regions() -> set[str]:
    session = boto3.session.Session()
    return {r for part in session.get_available_partitions() for r in session.get_available_regions("ecr", part)}


# --- the helper -------------------------------------------------------------------------------------------------
class Images:
    def __init__(self, ecr, catalogue: Catalogue, region: str, *, runner: Runner = run_command,
                 which: Callable[[str], str | None] = shutil.which, out=sys.stdout):
        self.ecr, self.catalogue, self.region = ecr, catalogue, region
        self.runner, self.which, self.out = runner, which, out

    def describe(self, image: str) -> dict:
        name = self.catalogue.repository(image)
        try:
            return self.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except ClientError as exc:
            if error_code(exc) == "RepositoryNotFoundException":
                raise UsageError(f"repository {name} ({image}) does not exist in {self.region} "
                                 f"(is the stack deployed in this region?)") from None
            raise

    def registry(self) -> tuple[str, str]:
        """(registry host, password) from GetAuthorizationToken; the password stays in memory."""
        data = self.ecr.get_authorization_token()["authorizationData"][0]
        _, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        return data["proxyEndpoint"].removeprefix("https://"), password

    def login(self, run: bool) -> int:
        host, password = self.registry()
        if not run:
            print(f"aws ecr get-login-password --region {self.region} | "
                  f"docker login --username AWS --password-stdin {host}", file=self.out)
            return 0
        self._docker_login(host, password)
        print(f"logged in to {host}", file=self.out)
        return 0

    def uri(self, image: str) -> int:
        if image in self.catalogue.uris:
            self.catalogue.repository(image)
            print(self.catalogue.uris[image], file=self.out)
        else:
            print(self.describe(image)["repositoryUri"], file=self.out)
        return 0

    def push(self, image: str, tag: str, local: str | None) -> int:
        repo = self.describe(image)
        local = local or f"{image}:{tag}"
        docker = self._docker()
        probe = self.runner([docker, "image", "inspect", "--format", "{{.Id}}", local])
        if probe.returncode != 0:
            self._docker_failed(probe, f"local image {local} not found (build it first: docker build -t {local} .)")
        if self._tag_exists(repo["repositoryName"], tag) and repo.get("imageTagMutability", "").startswith("IMMUTABLE"):
            raise UsageError(f"tag {tag} already exists in {repo['repositoryName']} and its tags are immutable: "
                             f"push a new tag (e.g. the commit SHA)")
        host, password = self.registry()
        self._docker_login(host, password)
        target = f"{repo['repositoryUri']}:{tag}"
        for cmd in ([docker, "tag", local, target], [docker, "push", target]):
            done = self.runner(cmd)
            if done.returncode != 0:
                text = _last_line(done)
                if "immutable" in text.lower() or "already exists" in text.lower():
                    raise UsageError(f"tag {tag} already exists in {repo['repositoryName']} and its tags are "
                                     f"immutable: push a new tag (e.g. the commit SHA)")
                self._docker_failed(done, f"docker {cmd[1]} {target} failed: {text}", usage=False)
        detail = self.ecr.describe_images(repositoryName=repo["repositoryName"],
                                          imageIds=[{"imageTag": tag}])["imageDetails"][0]
        print(f"pushed {target} {detail['imageDigest']}", file=self.out)
        return 0

    def tags(self, image: str, as_json: bool) -> int:
        repo = self.describe(image)["repositoryName"]
        rows = []
        for page in self.ecr.get_paginator("describe_images").paginate(repositoryName=repo):
            for d in page["imageDetails"]:
                rows.append({"tags": sorted(d.get("imageTags", [])), "digest": d["imageDigest"],
                             "pushedAt": d["imagePushedAt"].isoformat() if d.get("imagePushedAt") else None,
                             "sizeBytes": d.get("imageSizeInBytes"), **self._scan(repo, d)})
        rows.sort(key=lambda r: r["pushedAt"] or "", reverse=True)
        if as_json:
            print(json.dumps({"repository": repo, "images": rows}, indent=2), file=self.out)
            return 0
        print(f"{repo} ({len(rows)} images, newest first)", file=self.out)
        for r in rows:
            counts = " ".join(f"{s}={r['findings'][s]}" for s in SEVERITIES if r["findings"].get(s)) or "no findings"
            scan = f"{r['scanStatus']}: {counts}" if r["scanStatus"] == "COMPLETE" else r["scanStatus"]
            print(f"  {','.join(r['tags']) or '<untagged>':<24} {r['digest'][:19]}  {r['pushedAt'] or '-':<25} "
                  f"{scan}", file=self.out)
        return 0

    # -- internals --
    def _scan(self, repo: str, detail: dict) -> dict:
        try:
            found = self.ecr.describe_image_scan_findings(repositoryName=repo,
                                                          imageId={"imageDigest": detail["imageDigest"]})
        except ClientError as exc:
            if error_code(exc) == "ScanNotFoundException":
                return {"scanStatus": "NOT_SCANNED", "findings": {}}
            raise
        counts = found.get("imageScanFindings", {}).get("findingSeverityCounts", {})
        return {"scanStatus": found.get("imageScanStatus", {}).get("status", "UNKNOWN"),
                "findings": {s: counts[s] for s in SEVERITIES if s in counts}}

    def _tag_exists(self, repo: str, tag: str) -> bool:
        try:
            return bool(self.ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])["imageDetails"])
        except ClientError as exc:
            if error_code(exc) == "ImageNotFoundException":
                return False
            raise

    def _docker(self) -> str:
        docker = self.which("docker")
        if not docker:
            raise UsageError("docker: not found on PATH (install Docker, or run `login` and push with your own tool)")
        return docker

    def _docker_login(self, host: str, password: str) -> None:
        done = self.runner([self._docker(), "login", "--username", "AWS", "--password-stdin", host], stdin=password)
        if done.returncode != 0:
            self._docker_failed(done, f"docker login {host} failed: {_last_line(done)}", usage=False)

    @staticmethod
    def _docker_failed(done: subprocess.CompletedProcess, message: str, usage: bool = True) -> None:
        if "cannot connect to the docker daemon" in (done.stderr or "").lower():
            raise UsageError("docker: the Docker daemon is not running (start Docker Desktop or dockerd)")
        raise (UsageError if usage else OperationError)(message)


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in ((done.stderr or "") + "\n" + (done.stdout or "")).splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {done.returncode}"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (not argparse's usage block)
        self.exit(2, f"error: {message} (see --help)\n")


def parse_args(argv=None) -> argparse.Namespace:
    p = _Parser(prog="python -m functions.images",
                                description="ECR login, repository URI, push and tags of the platform's images.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--stack", help="stack name: repositories named from Pulumi.STACK.yaml (default: dev)")
    where.add_argument("--outputs", metavar="FILE",
                       help="`pulumi stack output --json` saved to FILE, or - to read it from stdin")
    where.add_argument("--repository-prefix", metavar="PREFIX",
                       help="repositories listed in ECR under PREFIX/ (e.g. ai-platform/dev)")
    p.add_argument("--region", help="AWS region (default: the stack's aws:region, the outputs' URIs, or the "
                                    "environment)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    login = sub.add_parser("login", help="print the docker login command (or run it with --run)")
    login.add_argument("--run", action="store_true", help="run docker login, the password on its stdin")
    uri = sub.add_parser("uri", help="print the repository URI of a service or ML image")
    uri.add_argument("service")
    push = sub.add_parser("push", help="tag a locally built image and push it")
    push.add_argument("service")
    push.add_argument("tag", help="the tag to push (the commit SHA; prod tags are immutable)")
    push.add_argument("--image", help="local image (default SERVICE:TAG)")
    tags = sub.add_parser("tags", help="list tags with scan status and severity counts")
    tags.add_argument("service")
    tags.add_argument("--json", action="store_true", help="JSON instead of a table")
    return p.parse_args(argv)


def main(argv=None, *, ecr=None, runner: Runner = run_command, which=shutil.which, stdin=sys.stdin,
         out=sys.stdout, err=sys.stderr, root: Path = ROOT) -> int:
    args = parse_args(argv)
    try:
        if args.outputs:
            text = stdin.read() if args.outputs == "-" else _read(args.outputs)
            catalogue = from_outputs(text, args.outputs)
        elif args.repository_prefix:
            catalogue = None
        else:
            catalogue = from_stack(args.stack or "dev", root)
        region = args.region or (catalogue.region if catalogue else None) or boto3.session.Session().region_name
        if not region:
            raise UsageError("no AWS region: give --region or set AWS_REGION")
        if region not in known_regions():
            raise UsageError(f"--region {region}: not an AWS region where ECR is available")
        ecr = ecr or boto3.client("ecr", region_name=region)
        catalogue = catalogue or from_prefix(ecr, args.repository_prefix)
        helper = Images(ecr, catalogue, region, runner=runner, which=which, out=out)
        if args.command == "login":
            return helper.login(args.run)
        if args.command == "uri":
            return helper.uri(args.service)
        if args.command == "push":
            return helper.push(args.service, args.tag, args.image)
        return helper.tags(args.service, args.json)
    except UsageError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except (NoCredentialsError, PartialCredentialsError):
        print(NO_CREDENTIALS, file=err)
        return 2
    except NoRegionError:
        print("error: no AWS region: give --region or set AWS_REGION", file=err)
        return 2
    except EndpointConnectionError as exc:
        print(f"error: cannot reach ECR ({exc.kwargs.get('endpoint_url', 'endpoint')}): check --region and network",
              file=err)
        return 2
    except ClientError as exc:
        code = error_code(exc)
        if code in CREDENTIAL_ERRORS:
            print(f"error: AWS credentials rejected ({code}): refresh them (aws sso login) and retry", file=err)
            return 2
        message = (exc.response.get("Error", {}).get("Message") or "").strip().splitlines()
        print(f"error: {exc.operation_name} failed: {code}: {message[0] if message else ''}", file=err)
        return 1
    except (OperationError, BotoCoreError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=err)
        return 1


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"--outputs {path}: cannot read ({exc.strerror})") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
