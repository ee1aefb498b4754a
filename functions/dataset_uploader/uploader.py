"""Dataset uploader: copy a local folder to the data bucket under a prefix, safely and resumably.

    python -m functions.dataset_uploader ./ocr-set-7 --bucket <data bucket> --prefix datasets/ocr-set-7/

- Multipart and concurrent: boto3 TransferConfig (parts of --chunk-mb above --threshold-mb, --part-threads per
  file) and --concurrency files at a time.
- Checksums: every part is sent with a SHA-256 checksum that S3 verifies on receipt (ChecksumAlgorithm);
  the whole file's SHA-256 is stored as object metadata `sha256` and, after the upload, HeadObject must show
  that digest and the local size (and, for single-part objects, S3's own full-object SHA-256 must match).
- Resumable: an object that already has the same size and `sha256` metadata is skipped; an upload either
  completes (S3 makes a multipart object visible only on completion) or leaves nothing, so an interrupted
  run is finished by running the same command again.
- Retries: botocore's adaptive retry mode per request, plus whole-file retries with exponential back-off and
  jitter for what botocore gives up on. Permission and missing-bucket errors are not retried.
- Exit status: 0 everything present and verified; 1 some files failed (listed on stderr); 2 usage error
  (no such folder, no such bucket, no access). A file is reported uploaded only after its verification.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import random
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MB = 1024 * 1024
NOT_RETRYABLE = {"AccessDenied", "NoSuchBucket", "InvalidBucketName", "AllAccessDisabled", "KMS.NotFoundException",
                 "InvalidArgument", "InvalidRequest"}


class VerificationError(RuntimeError):
    pass


@dataclasses.dataclass
class Outcome:
    path: str
    key: str
    status: str            # uploaded | skipped | failed
    size: int = 0
    error: str = ""
    attempts: int = 0


def sha256_of(path: Path, block: int = 8 * MB) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def local_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def normalized_prefix(prefix: str) -> str:
    prefix = prefix.lstrip("/")
    return prefix + "/" if prefix and not prefix.endswith("/") else prefix


def object_key(prefix: str, root: Path, path: Path) -> str:
    return normalized_prefix(prefix) + path.relative_to(root).as_posix()


class Progress:
    """A one-line progress bar on stderr (bytes and files), thread-safe, at most ~10 redraws a second."""

    def __init__(self, total_bytes: int, total_files: int, stream=sys.stderr, enabled: bool = True):
        self.total, self.files_total, self.stream, self.enabled = max(total_bytes, 1), total_files, stream, enabled
        self.done = 0
        self.files_done = 0
        self.lock = threading.Lock()
        self.last = 0.0

    def add(self, n: int) -> None:
        with self.lock:
            self.done += n
            self._draw()

    def file_done(self) -> None:
        with self.lock:
            self.files_done += 1
            self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.1):
            return
        self.last = now
        frac = min(max(self.done / self.total, 0.0), 1.0)
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r[{bar:<30}] {frac * 100:5.1f}% {self.done / MB:,.1f}/{self.total / MB:,.1f} MB "
                          f"{self.files_done}/{self.files_total} files")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _code(err: Exception) -> str:
    return err.response.get("Error", {}).get("Code", "") if isinstance(err, ClientError) else ""


def _retryable(err: Exception) -> bool:
    code = _code(err)
    if code in NOT_RETRYABLE:
        return False
    cause = getattr(err, "__cause__", None) or getattr(err, "__context__", None)
    return not (cause is not None and _code(cause) in NOT_RETRYABLE)


class Uploader:
    def __init__(self, s3, bucket: str, prefix: str, *, concurrency: int = 4, part_threads: int = 4,
                 threshold_mb: int = 64, chunk_mb: int = 16, retries: int = 5, kms_key_id: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, backoff_base: float = 1.0, progress: bool = True):
        self.s3, self.bucket, self.prefix = s3, bucket, prefix
        self.concurrency, self.retries, self.kms_key_id = concurrency, retries, kms_key_id
        self.sleep, self.backoff_base, self.show_progress = sleep, backoff_base, progress
        self.transfer = TransferConfig(multipart_threshold=threshold_mb * MB, multipart_chunksize=chunk_mb * MB,
                                       max_concurrency=part_threads, use_threads=part_threads > 1)

    # -- one file ------------------------------------------------------------------------------
    def present(self, key: str, size: int, digest: str) -> bool:
        # Existence is asked with a prefixed ListObjectsV2, not a HeadObject on a missing key: the uploader policy
        # grants s3:ListBucket only with s3:prefix under the dataset prefix, and without a listable prefix S3
        # answers a HeadObject on a missing key with 403, not 404. The key itself sorts first among its prefix.
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1).get("Contents", [])
        if not listed or listed[0]["Key"] != key:
            return False
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        return head.get("ContentLength") == size and head.get("Metadata", {}).get("sha256") == digest

    def verify(self, key: str, size: int, digest: str) -> None:
        head = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        if head.get("ContentLength") != size:
            raise VerificationError(f"size after upload is {head.get('ContentLength')}, expected {size}")
        if head.get("Metadata", {}).get("sha256") != digest:
            raise VerificationError("sha256 metadata after upload does not match the local file")
        remote = head.get("ChecksumSHA256")
        # Single-part objects carry S3's SHA-256 of the whole object; multipart ones a checksum of the parts'
        # checksums (each part was already verified by S3 on receipt), which cannot be compared to the file's.
        single_part = size < self.transfer.multipart_threshold
        if remote and single_part and "-" not in remote and head.get("ChecksumType", "FULL_OBJECT") != "COMPOSITE":
            expected = base64.b64encode(bytes.fromhex(digest)).decode()
            if remote != expected:
                raise VerificationError(f"S3 SHA-256 {remote} differs from the local {expected}")

    def upload_one(self, root: Path, path: Path, progress: Progress) -> Outcome:
        key = object_key(self.prefix, root, path)
        size = path.stat().st_size
        outcome = Outcome(str(path), key, "failed", size)
        try:
            digest = sha256_of(path)
            if self.present(key, size, digest):
                outcome.status = "skipped"
                progress.add(size)
                return outcome
        except (ClientError, BotoCoreError, OSError) as err:
            outcome.error = f"could not check s3://{self.bucket}/{key}: {err}"
            return outcome
        extra = {"Metadata": {"sha256": digest}, "ChecksumAlgorithm": "SHA256"}
        if self.kms_key_id:
            extra.update({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id})
        for attempt in range(1, self.retries + 1):
            outcome.attempts = attempt
            sent = [0]

            def callback(n: int, sent: list = sent) -> None:
                sent[0] += n
                progress.add(n)

            try:
                self.s3.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Callback=callback,
                                    Config=self.transfer)
                self.verify(key, size, digest)
                outcome.status, outcome.error = "uploaded", ""
                return outcome
            except Exception as err:  # noqa: BLE001 - every failure is retried or reported, never swallowed
                progress.add(-sent[0])
                outcome.error = f"{type(err).__name__}: {err}"
                if not _retryable(err) or attempt == self.retries:
                    return outcome
                delay = min(self.backoff_base * 2 ** (attempt - 1), 30.0) * (0.5 + random.random() / 2)
                self.sleep(delay)
        return outcome

    # -- the folder ----------------------------------------------------------------------------
    def run(self, root: Path) -> list[Outcome]:
        files = local_files(root)
        progress = Progress(sum(p.stat().st_size for p in files), len(files), enabled=self.show_progress)
        outcomes: list[Outcome] = []
        try:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                futures = [pool.submit(self.upload_one, root, p, progress) for p in files]
                for fut in as_completed(futures):
                    outcomes.append(fut.result())
                    progress.file_done()
        finally:
            progress.close()
        return sorted(outcomes, key=lambda o: o.key)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m functions.dataset_uploader",
                                description="Upload a local dataset folder to the data bucket (resumable).")
    p.add_argument("folder", type=Path, help="local folder to upload (recursively)")
    p.add_argument("--bucket", required=True,
                   help="the data-lake bucket (ai-platform-<stack>-data-lake-<account>-<region>)")
    p.add_argument("--prefix", required=True, help="key prefix, e.g. datasets/ocr-set-7/")
    p.add_argument("--concurrency", type=int, default=4, help="files uploaded at the same time (default 4)")
    p.add_argument("--part-threads", type=int, default=4, help="parallel parts per file (default 4)")
    p.add_argument("--threshold-mb", type=int, default=64, help="multipart above this size (default 64)")
    p.add_argument("--chunk-mb", type=int, default=16, help="multipart part size, >= 5 (default 16)")
    p.add_argument("--retries", type=int, default=5, help="attempts per file (default 5)")
    p.add_argument("--kms-key-id", help="SSE-KMS key (default: the bucket's default encryption)")
    p.add_argument("--region", help="AWS region (default: from the environment)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.chunk_mb < 5 or args.threshold_mb < 5:
        p.error("--chunk-mb and --threshold-mb must be at least 5 (S3's minimum part size)")
    if args.concurrency < 1 or args.part_threads < 1 or args.retries < 1:
        p.error("--concurrency, --part-threads and --retries must be at least 1")
    return args


def main(argv=None, *, s3=None, sleep: Callable[[float], None] = time.sleep, out=sys.stdout, err=sys.stderr) -> int:
    args = parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder", file=err)
        return 2
    s3 = s3 or boto3.client("s3", region_name=args.region,
                            config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    try:
        # A listing under the target prefix (what the uploader policy allows: HeadBucket needs an unconditioned
        # s3:ListBucket) proves the bucket exists and the caller may use the prefix.
        s3.list_objects_v2(Bucket=args.bucket, Prefix=normalized_prefix(args.prefix), MaxKeys=1)
    except ClientError as exc:
        print(f"error: bucket {args.bucket} is not reachable ({_code(exc) or exc}); nothing was uploaded", file=err)
        return 2
    uploader = Uploader(s3, args.bucket, args.prefix, concurrency=args.concurrency, part_threads=args.part_threads,
                        threshold_mb=args.threshold_mb, chunk_mb=args.chunk_mb, retries=args.retries,
                        kms_key_id=args.kms_key_id, sleep=sleep, progress=not args.no_progress and err.isatty())
    outcomes = uploader.run(args.folder)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("uploaded", "skipped", "failed")}
    print(f"s3://{args.bucket}/{args.prefix}: {counts['uploaded']} uploaded and verified, {counts['skipped']} "
          f"already present (same SHA-256), {counts['failed']} failed", file=out)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print("failed (not uploaded; run the same command again to resume):", file=err)
        for o in failed:
            print(f"  {o.path} -> s3://{args.bucket}/{o.key}: {o.error}", file=err)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
