"""functions/dataset_uploader against moto: multipart with checksums, resume without re-uploading, retries with
back-off, verification, and a non-zero exit that lists what failed."""
from __future__ import annotations

import io
import os
from pathlib import Path
from unittest import mock

import boto3
import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.dataset_uploader import uploader as up

# the moto group (tests/test_fn_dr_failover.py)
pytestmark = pytest.mark.xdist_group("moto")

REGION = "us-east-1"
BUCKET = "ai-platform-dev-data-lake-123456789012-us-east-1"
PREFIX = "datasets/ocr-set-7/"
BIG = 6 * up.MB  # above the 5 MB threshold used below: a real multipart upload (2 parts)


@pytest.fixture(scope="module")
def moto_s3():
    with pytest.MonkeyPatch.context() as mp:
        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
            mp.setenv(k, v)
        with mock_aws() as m:
            yield m, boto3.client("s3", region_name=REGION)


@pytest.fixture
def s3(moto_s3):
    m, client = moto_s3
    m.reset()
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "ocr-set-7"
    (root / "images").mkdir(parents=True)
    for i in range(4):
        (root / "images" / f"page-{i}.png").write_bytes(os.urandom(1000 + i))
    (root / "labels.csv").write_text("page,text\n0,hello\n")
    (root / "big.bin").write_bytes(os.urandom(BIG))
    return root


class Run:
    def __init__(self, code, out, err, sleeps):
        self.code, self.out, self.err, self.sleeps = code, out, err, sleeps


def run(s3, folder, *extra) -> Run:
    out, err, sleeps = io.StringIO(), io.StringIO(), []
    code = up.main([str(folder), "--bucket", BUCKET, "--prefix", PREFIX, "--threshold-mb", "5", "--chunk-mb", "5",
                    "--concurrency", "3", *extra], s3=s3, sleep=sleeps.append, out=out, err=err)
    return Run(code, out.getvalue(), err.getvalue(), sleeps)


def keys(s3):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


EXPECTED = sorted(PREFIX + k for k in ["big.bin", "labels.csv"] + [f"images/page-{i}.png" for i in range(4)])


def test_uploads_everything_with_checksums_and_multipart(s3, folder):
    r = run(s3, folder)
    assert r.code == 0, r.err
    assert "6 uploaded and verified, 0 already present" in r.out
    assert keys(s3) == EXPECTED
    head = s3.head_object(Bucket=BUCKET, Key=PREFIX + "big.bin")
    assert head["Metadata"]["sha256"] == up.sha256_of(folder / "big.bin") and head["ContentLength"] == BIG
    assert s3.get_object(Bucket=BUCKET, Key=PREFIX + "big.bin")["Body"].read() == (folder / "big.bin").read_bytes()


def test_multipart_is_used_above_the_threshold(s3, folder):
    with mock.patch.object(s3, "create_multipart_upload", wraps=s3.create_multipart_upload) as mpu:
        assert run(s3, folder).code == 0
    assert mpu.call_count == 1 and mpu.call_args.kwargs["Key"] == PREFIX + "big.bin"
    assert mpu.call_args.kwargs["ChecksumAlgorithm"] == "SHA256"


def test_interrupted_run_fails_loudly_then_resumes_without_reuploading(s3, folder):
    real = s3.upload_file

    def dies_on_big(filename, bucket, key, **kw):
        if key.endswith("big.bin"):
            raise S3UploadFailedError("Failed to upload: connection reset")  # an interrupted multipart upload
        return real(filename, bucket, key, **kw)

    with mock.patch.object(s3, "upload_file", side_effect=dies_on_big):
        first = run(s3, folder, "--retries", "2")
    assert first.code == 1
    assert "5 uploaded and verified, 0 already present (same SHA-256), 1 failed" in first.out
    assert "big.bin" in first.err and "connection reset" in first.err
    assert PREFIX + "big.bin" not in keys(s3)  # nothing half-uploaded is visible or reported as done
    # A leftover incomplete multipart upload does not count as present either.
    s3.create_multipart_upload(Bucket=BUCKET, Key=PREFIX + "big.bin")
    with mock.patch.object(s3, "upload_file", wraps=s3.upload_file) as again:
        second = run(s3, folder)
    assert second.code == 0 and "1 uploaded and verified, 5 already present" in second.out
    assert [c.args[2] for c in again.call_args_list] == [PREFIX + "big.bin"]
    assert keys(s3) == EXPECTED


def test_changed_local_file_is_uploaded_again(s3, folder):
    assert run(s3, folder).code == 0
    (folder / "labels.csv").write_text("page,text\n0,changed\n")
    with mock.patch.object(s3, "upload_file", wraps=s3.upload_file) as calls:
        r = run(s3, folder)
    assert r.code == 0 and [c.args[2] for c in calls.call_args_list] == [PREFIX + "labels.csv"]


def test_throttling_is_retried_with_exponential_backoff(s3, folder):
    real = s3.upload_file
    failures = {"n": 0}

    def throttled_twice(filename, bucket, key, **kw):
        if key.endswith("labels.csv") and failures["n"] < 2:
            failures["n"] += 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                              "PutObject")
        return real(filename, bucket, key, **kw)

    with mock.patch.object(s3, "upload_file", side_effect=throttled_twice):
        r = run(s3, folder)
    assert r.code == 0 and keys(s3) == EXPECTED
    assert len(r.sleeps) == 2 and r.sleeps[1] > r.sleeps[0] * 0.9  # 1 s then 2 s (x jitter 0.5-1)


def test_access_denied_is_not_retried_and_is_listed(s3, folder):
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")
    with mock.patch.object(s3, "upload_file", side_effect=denied) as calls:
        r = run(s3, folder)
    assert r.code == 1 and calls.call_count == 6 and r.sleeps == []
    assert r.err.count("AccessDenied") == 6 and keys(s3) == []


def test_verification_failure_is_not_reported_as_done(s3, folder):
    real_head = s3.head_object

    def corrupt(**kw):
        out = real_head(**kw)
        if kw.get("ChecksumMode") and kw["Key"].endswith("labels.csv"):
            out = {**out, "Metadata": {"sha256": "0" * 64}}
        return out

    with mock.patch.object(s3, "head_object", side_effect=corrupt):
        r = run(s3, folder, "--retries", "2")
    assert r.code == 1 and "labels.csv" in r.err and "does not match" in r.err
    assert "5 uploaded and verified" in r.out


def test_missing_bucket_or_folder_exits_2_and_uploads_nothing(s3, folder, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = up.main([str(folder), "--bucket", "no-such-bucket-xyz", "--prefix", PREFIX], s3=s3, out=out, err=err)
    assert code == 2 and "not reachable" in err.getvalue() and keys(s3) == []
    code = up.main([str(tmp_path / "nope"), "--bucket", BUCKET, "--prefix", PREFIX], s3=s3, out=out, err=err)
    assert code == 2 and "is not a folder" in err.getvalue()


def test_progress_bar_draws_bytes_and_files():
    stream = io.StringIO()
    bar = up.Progress(total_bytes=2 * up.MB, total_files=2, stream=stream)
    bar.add(up.MB)
    bar.file_done()
    bar.close()
    assert "50.0%" in stream.getvalue() and "1/2 files" in stream.getvalue()


def test_works_with_only_the_platforms_uploader_policy(s3, folder):
    """components/ml.py grants s3:ListBucket only with s3:prefix under datasets/: S3 then refuses HeadBucket and
    any unprefixed listing, and answers HeadObject on a missing key with 403 instead of 404."""
    denied = ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")
    real_list, real_head = s3.list_objects_v2, s3.head_object

    def listing(**kw):
        if not kw.get("Prefix", "").startswith("datasets/"):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListObjectsV2")
        return real_list(**kw)

    def head(**kw):
        if not real_list(Bucket=kw["Bucket"], Prefix=kw["Key"]).get("Contents"):
            raise denied
        return real_head(**kw)

    with mock.patch.object(s3, "head_bucket", side_effect=denied), \
            mock.patch.object(s3, "list_objects_v2", side_effect=listing), \
            mock.patch.object(s3, "head_object", side_effect=head):
        first = run(s3, folder)
        second = run(s3, folder)
    assert first.code == 0, first.err
    assert "6 uploaded and verified" in first.out and "6 already present" in second.out
    assert keys(s3) == EXPECTED
