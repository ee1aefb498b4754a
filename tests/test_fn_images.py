"""functions.images against moto (ECR) with a fake docker: login command without a password in it, URIs named as
the ML tier names them, push (tag, login on stdin, push; immutable conflict), tags with scan severities, and the
one-line exit-2 answers to bad input."""
from __future__ import annotations

import io
import json
import subprocess
from unittest import mock

import pytest
from botocore.exceptions import NoCredentialsError

from conftest import moto_session
from functions.images import cli

# the moto group (tests/test_fn_dr_failover.py)
pytestmark = pytest.mark.xdist_group("moto")

REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": REGION}


def manifest(layer: str = "c") -> str:
    """An image manifest; moto derives the image digest from the layer digests, so a new layer is a new image."""
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                                  "digest": "sha256:" + "c" * 64},
                       "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1,
                                   "digest": "sha256:" + f"{layer:0>64}"}]})


MANIFEST = manifest()


@pytest.fixture(scope="module")
def session():
    with moto_session(ENV, REGION, "ecr") as s:
        yield s


@pytest.fixture
def ecr(session):
    mock_, clients = session
    mock_.reset()
    client = clients["ecr"]
    for image, mutability in (("search", "IMMUTABLE"), ("ocr-training", "IMMUTABLE"), ("workflow", "MUTABLE")):
        client.create_repository(repositoryName=f"ai-platform/prod/{image}", imageTagMutability=mutability,
                                 imageScanningConfiguration={"scanOnPush": True})
    return client


class FakeDocker:
    """Records docker invocations; `docker push` stores the image in (moto) ECR as the registry would."""

    def __init__(self, ecr, *, local_images=("search:abc123",), fail=None):
        self.ecr, self.local, self.fail, self.calls = ecr, set(local_images), fail or {}, []

    def __call__(self, cmd, stdin=None):
        self.calls.append((cmd, stdin))
        verb = cmd[1] if cmd[1] != "image" else "inspect"
        if verb in self.fail:
            return subprocess.CompletedProcess(cmd, 1, "", self.fail[verb])
        if verb == "inspect" and cmd[-1] not in self.local:
            return subprocess.CompletedProcess(cmd, 1, "", f"Error: No such image: {cmd[-1]}")
        if verb == "push":
            uri, _, tag = cmd[-1].rpartition(":")
            self.ecr.put_image(repositoryName=uri.split("/", 1)[1], imageManifest=manifest(f"{len(self.calls):x}"),
                               imageTag=tag)  # a new build: a new digest
        return subprocess.CompletedProcess(cmd, 0, "ok\n", "")


def run(ecr, *argv, docker=None, which=lambda _: "/usr/bin/docker", stdin=""):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), ecr=ecr, runner=docker or FakeDocker(ecr), which=which, stdin=io.StringIO(stdin),
                    out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_login_prints_the_pipe_never_the_password(ecr):
    code, out, err = run(ecr, "--stack", "prod", "login")
    assert code == 0, err
    assert out.strip() == (f"aws ecr get-login-password --region {REGION} | "
                           f"docker login --username AWS --password-stdin {REGISTRY}")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    import base64
    assert base64.b64decode(token).decode().split(":", 1)[1] not in out


def test_login_run_hands_the_password_to_docker_on_stdin(ecr):
    docker = FakeDocker(ecr)
    code, out, _ = run(ecr, "--stack", "prod", "login", "--run", docker=docker)
    (cmd, stdin), = docker.calls
    assert code == 0 and cmd == ["/usr/bin/docker", "login", "--username", "AWS", "--password-stdin", REGISTRY]
    assert stdin and stdin not in " ".join(cmd) and f"logged in to {REGISTRY}" in out


def test_uri_from_the_stack_file_uses_the_ml_tier_naming(ecr):
    from components.naming import Namer
    assert Namer("ai-platform", "prod").physical("ecr", "search") == "ai-platform/prod/search"
    assert run(ecr, "--stack", "prod", "uri", "search")[1].strip() == f"{REGISTRY}/ai-platform/prod/search"
    assert run(ecr, "--stack", "prod", "uri", "ocr-training")[1].strip() == f"{REGISTRY}/ai-platform/prod/ocr-training"


def test_uri_from_stack_outputs_on_stdin_needs_no_aws_call(ecr):
    outputs = json.dumps({"ecrRepositoryUrls": {"search": f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/ai-platform/x/search"}})
    with mock.patch.object(ecr, "describe_repositories", side_effect=AssertionError("no call")):
        code, out, err = run(ecr, "--outputs", "-", "uri", "search", stdin=outputs)
    assert code == 0 and out.strip().endswith("us-west-2.amazonaws.com/ai-platform/x/search"), err


def test_repository_prefix_lists_what_ecr_has(ecr):
    assert run(ecr, "--repository-prefix", "ai-platform/prod", "uri", "workflow")[1].strip() == \
        f"{REGISTRY}/ai-platform/prod/workflow"
    code, _, err = run(ecr, "--repository-prefix", "ai-platform/prod", "uri", "classification")
    assert code == 2 and "unknown service or image 'classification'" in err and "ocr-training, search, workflow" in err


def test_push_tags_logs_in_on_stdin_and_pushes(ecr):
    docker = FakeDocker(ecr)
    code, out, err = run(ecr, "--stack", "prod", "push", "search", "abc123", docker=docker)
    assert code == 0, err
    verbs = [c[0][1:3] for c in docker.calls]
    assert verbs == [["image", "inspect"], ["login", "--username"], ["tag", "search:abc123"],
                     ["push", f"{REGISTRY}/ai-platform/prod/search:abc123"]]
    assert docker.calls[1][1] and docker.calls[1][1] not in " ".join(docker.calls[1][0])
    assert out.startswith(f"pushed {REGISTRY}/ai-platform/prod/search:abc123 sha256:")
    assert ecr.describe_images(repositoryName="ai-platform/prod/search")["imageDetails"][0]["imageTags"] == ["abc123"]


def test_push_of_an_existing_tag_to_an_immutable_repository_is_one_line(ecr):
    ecr.put_image(repositoryName="ai-platform/prod/search", imageManifest=MANIFEST, imageTag="abc123")
    docker = FakeDocker(ecr)
    code, _, err = run(ecr, "--stack", "prod", "push", "search", "abc123", docker=docker)
    assert code == 2 and err.count("\n") == 1 and "already exists in ai-platform/prod/search" in err
    assert "immutable" in err and not any(c[0][1] == "push" for c in docker.calls)
    # The registry's own refusal (a race with another push) is the same one line.
    ecr.delete_repository(repositoryName="ai-platform/prod/search", force=True)
    ecr.create_repository(repositoryName="ai-platform/prod/search", imageTagMutability="IMMUTABLE")
    racing = FakeDocker(ecr, fail={"push": "tag invalid: The image tag 'abc123' already exists in the "
                                           "'ai-platform/prod/search' repository and cannot be overwritten "
                                           "because the repository is immutable."})
    code, _, err = run(ecr, "--stack", "prod", "push", "search", "abc123", docker=racing)
    assert code == 2 and err.count("\n") == 1 and "immutable" in err


def test_push_to_a_mutable_repository_overwrites(ecr):
    ecr.put_image(repositoryName="ai-platform/prod/workflow", imageManifest=MANIFEST, imageTag="dev")
    code, _, err = run(ecr, "--stack", "prod", "push", "workflow", "dev", "--image", "search:abc123")
    assert code == 0, err


@pytest.mark.parametrize("docker_kw, which, expected", [
    ({}, lambda _: None, "docker: not found on PATH"),
    ({"fail": {"inspect": "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."}},
     lambda _: "/usr/bin/docker", "the Docker daemon is not running"),
    ({"local_images": ()}, lambda _: "/usr/bin/docker", "local image search:abc123 not found"),
])
def test_push_without_docker_or_image_is_one_line_exit_2(ecr, docker_kw, which, expected):
    code, out, err = run(ecr, "--stack", "prod", "push", "search", "abc123", docker=FakeDocker(ecr, **docker_kw),
                         which=which)
    assert code == 2 and err.count("\n") == 1 and expected in err and out == ""
    assert ecr.describe_images(repositoryName="ai-platform/prod/search")["imageDetails"] == []


def test_tags_lists_scan_status_and_severity_counts(ecr, session):
    for tag in ("v1", "v2"):
        ecr.put_image(repositoryName="ai-platform/prod/ocr-training", imageManifest=manifest(tag[1]), imageTag=tag)
    v1 = ecr.describe_images(repositoryName="ai-platform/prod/ocr-training", imageIds=[{"imageTag": "v1"}])
    v1_digest = v1["imageDetails"][0]["imageDigest"]
    real = ecr.describe_image_scan_findings

    def findings(**kw):
        if kw["imageId"]["imageDigest"] == v1_digest:
            return {"imageScanStatus": {"status": "COMPLETE"},
                    "imageScanFindings": {"findingSeverityCounts": {"HIGH": 2, "LOW": 5}}}
        return real(**kw)  # v2: moto has no scan -> ScanNotFoundException

    with mock.patch.object(ecr, "describe_image_scan_findings", side_effect=findings):
        code, out, err = run(ecr, "--stack", "prod", "tags", "ocr-training")
        jcode, jout, _ = run(ecr, "--stack", "prod", "tags", "ocr-training", "--json")
    assert code == 0 and jcode == 0, err
    assert "COMPLETE: HIGH=2 LOW=5" in out and "NOT_SCANNED" in out
    rows = {r["tags"][0]: r for r in json.loads(jout)["images"]}
    assert rows["v1"]["findings"] == {"HIGH": 2, "LOW": 5} and rows["v2"]["scanStatus"] == "NOT_SCANNED"


@pytest.mark.parametrize("argv, expected", [
    (["--stack", "prod", "uri", "nope"], "unknown service or image 'nope' in stack prod"),
    (["--stack", "staging", "uri", "search"], "no stack file Pulumi.staging.yaml"),
    (["--stack", "prod", "--region", "mars-1", "login"], "--region mars-1: not an AWS region"),
    (["--outputs", "-", "uri", "search"], "no ecrRepositoryUrls map"),
])
def test_bad_input_is_one_line_exit_2(ecr, argv, expected):
    code, out, err = run(ecr, *argv, stdin="{}")
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err


def test_repository_not_deployed_is_one_line(ecr):
    code, _, err = run(ecr, "--stack", "prod", "uri", "classification")
    assert code == 2 and "ai-platform/prod/classification (classification) does not exist in us-east-1" in err


def test_no_credentials_is_one_line_exit_2(ecr):
    with mock.patch.object(ecr, "get_authorization_token", side_effect=NoCredentialsError()):
        code, _, err = run(ecr, "--stack", "prod", "login")
    assert code == 2 and err.count("\n") == 1 and "no AWS credentials" in err


def test_usage_errors_are_one_line(ecr, capsys):
    with pytest.raises(SystemExit) as exc:
        run(ecr, "--stack", "prod", "push", "search")
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "the following arguments are required: tag" in err
