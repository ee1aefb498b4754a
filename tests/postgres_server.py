"""A throwaway PostgreSQL server for the tests (Debian's `postgresql` package, installed by .ci/run): `initdb` in a
temporary directory, a loopback port and a unix socket there, TLS with a certificate made for the run, and what
RDS gives a new instance: an `rds_iam` role and a master user that is not a superuser (CREATEROLE, CREATEDB, owner
of the database, may grant `rds_iam`, may end other sessions). pg_hba: the master only over TLS with its password
(as `rds.force_ssl` and the master secret), every other user trusted on the loopback (standing in for IAM tokens:
the tests connect as each service user).

`server_or_skip()` returns the binaries' directory or skips with the reason (never silently). PostgreSQL refuses to
run as root: as root the server runs as the `postgres` user the package creates.
"""
from __future__ import annotations

import dataclasses
import functools
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

MASTER, MASTER_PASSWORD, DATABASE = "platform_admin", "master-password-for-tests", "app"
SUPERUSER = "postgres"


def binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def server_or_skip() -> Path:
    bindir = binaries()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine: install Debian's `postgresql` "
                    "(.ci/run does); the database-user tests need a real server")
    if os.geteuid() == 0 and not _user_exists(SUPERUSER):
        pytest.skip("running as root and no `postgres` user to run the server as (PostgreSQL refuses root)")
    return bindir


def _user_exists(name: str) -> bool:
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Server:
    bindir: Path
    root: Path
    data: Path
    port: int
    ca_file: Path

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []) + list(args)

    def run(self, *args: str) -> None:
        subprocess.run(self._cmd(*args), check=True, capture_output=True, text=True, cwd=self.root)

    def start(self) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
                 "-t", "60", "start")

    def stop(self) -> None:
        subprocess.run(self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                                 "stop"), capture_output=True, cwd=self.root)

    def socket(self) -> str:
        return str(self.root / f".s.PGSQL.{self.port}")

    def superuser(self, database: str = "postgres"):
        import pg8000.native
        # a unix socket never carries TLS (the server answers pg8000's SSL request "N"): not asked
        return pg8000.native.Connection(user=SUPERUSER, unix_sock=self.socket(), database=database, ssl_context=False)

    def connect(self, user: str, database: str = DATABASE):
        """As a service user over the loopback (trusted: IAM authentication's stand-in)."""
        import pg8000.native
        return pg8000.native.Connection(user=user, host="127.0.0.1", port=self.port, database=database, timeout=10,
                                        ssl_context=unverified_tls())

    def env(self) -> dict:
        return {"DB_HOST": "localhost", "DB_PORT": str(self.port), "DB_NAME": DATABASE, "DB_CA_BUNDLE": str(self.ca_file),
                "MASTER_USERNAME": MASTER}

    def replica(self, port: int) -> Server:
        """A streaming replica (pg_basebackup -R), started: what RDS's read replica and the DR replica are."""
        data = self.root / f"replica-{port}"
        self.run(str(self.bindir / "pg_basebackup"), "-D", str(data), "-R", "-h", str(self.root), "-p", str(self.port),
                 "-U", SUPERUSER, "-X", "stream", "-c", "fast")
        with (data / "postgresql.conf").open("a") as f:
            f.write(f"\nport = {port}\n")
        replica = Server(self.bindir, self.root, data, port, self.ca_file)
        replica.start()
        return replica

    def promote(self) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "promote")


@functools.cache
def unverified_tls():
    """The tests' own connections' TLS: what pg8000 builds for a connection given no context (TLS when the server
    offers it, unverified), built once. pg8000 builds it per connection, loading the system's CA store each time
    (~20 ms of CPU a connection, which verification off never reads); the bootstrap's own connections verify
    (functions/db_bootstrap/handler.py `tls_context`), as do this module's tests of the master's TLS."""
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


HBA = f"""local all all trust
local replication all trust
hostssl all {MASTER} 127.0.0.1/32 scram-sha-256
hostssl all {MASTER} ::1/128 scram-sha-256
host all {MASTER} 0.0.0.0/0 reject
host all {MASTER} ::/0 reject
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
"""


def start_server(bindir: Path) -> Server:
    root = Path(tempfile.mkdtemp(prefix="ai-platform-pg-"))
    data = root / "primary"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, SUPERUSER, SUPERUSER)
    server = Server(bindir, root, data, port, root / "server.crt")
    server.run(str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-sync", "-E", "UTF8",
               "--locale=C")
    # TLS: one self-signed certificate naming localhost (the bootstrap verifies it: verify-full). An EC P-256 key:
    # generated in ~1 ms where an RSA-2048 key takes 0.03-0.2 s (a random search for primes).
    server.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-days", "2", "-subj", "/CN=localhost",
               "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(data / "server.key"),
               "-out", str(data / "server.crt"))
    shutil.copy(data / "server.crt", server.ca_file)
    (data / "pg_hba.conf").write_text(HBA)
    with (data / "postgresql.conf").open("a") as f:
        f.write(f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{root}'\n"
                "ssl = on\npassword_encryption = 'scram-sha-256'\nfsync = off\nwal_level = replica\n"
                "max_wal_senders = 4\nhot_standby = on\n")
    if os.geteuid() == 0:
        for path in (data / "pg_hba.conf", data / "postgresql.conf"):
            shutil.chown(path, SUPERUSER, SUPERUSER)
    server.start()
    su = server.superuser()
    try:
        # What RDS creates with an instance: rds_iam, and a master that is not a superuser.
        for sql in ("CREATE ROLE rds_iam NOLOGIN",
                    f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '{MASTER_PASSWORD}'",
                    f"GRANT rds_iam TO {MASTER} WITH ADMIN OPTION",
                    f"GRANT pg_signal_backend TO {MASTER}",
                    f"CREATE DATABASE {DATABASE} OWNER {MASTER}"):
            su.run(sql)
    finally:
        su.close()
    return server


def wait_replayed(primary: Server, replica: Server, timeout: float = 30.0) -> None:
    su = primary.superuser()
    lsn = su.run("SELECT pg_current_wal_lsn()")[0][0]
    su.close()
    deadline = time.monotonic() + timeout
    rs = replica.superuser()
    try:
        while time.monotonic() < deadline:
            if rs.run("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)", l=lsn)[0][0]:
                return
            time.sleep(0.1)
    finally:
        rs.close()
    raise TimeoutError("the replica did not replay the primary's changes")
