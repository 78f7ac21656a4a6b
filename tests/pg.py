"""PostgreSQL helpers for the historian tests: scratch databases and a private cluster.

* :func:`scratch_database` creates a uniquely named database on the development
  server (127.0.0.1:5432, trust auth, user postgres) and drops it afterwards.
* :class:`PrivateCluster` runs its own server (initdb/pg_ctl from
  ``/usr/lib/postgresql/15/bin``) on a free port in a temporary directory, which a
  test may stop and start at will. initdb refuses to run as root, so as root the
  server runs as the ``postgres`` OS user through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("WATTDESK_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_available() -> str:
    """Return ``""`` if the development server answers, else why not."""
    try:
        with psycopg.connect(SERVER, connect_timeout=3):
            return ""
    except psycopg.Error as err:
        return f"PostgreSQL at 127.0.0.1:5432 not reachable: {err}"


@contextlib.contextmanager
def scratch_database(server: str = SERVER) -> Iterator[str]:
    """Create a uniquely named database on ``server``; yield its SQLAlchemy URL; drop it.

    Yields
    ------
    str
        ``postgresql+psycopg://postgres@host:port/wd_test_<hex>``.
    """
    name = f"wd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = psycopg.conninfo.conninfo_to_dict(server)
    try:
        yield f"postgresql+psycopg://{base['user']}@{base['host']}:{base['port']}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """A throw-away PostgreSQL server in a temporary directory on a free port.

    Use as a context manager; ``stop()``/``start()`` in between simulate an outage.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="wd-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr or proc.stdout}")

    def init(self) -> None:
        """initdb with trust auth for the ``postgres`` role."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                "-c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        """Stop the server at once (``-m immediate``: connections die as in a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def __enter__(self) -> PrivateCluster:
        self.init()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
