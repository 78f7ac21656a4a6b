"""Database URLs and connections: SQLAlchemy engines, and raw driver connections for hot paths.

SQLite (the standalone edition's default) runs in WAL mode with ``synchronous=NORMAL``
and a busy timeout; PostgreSQL (the networked edition) is reached with a
``postgresql+psycopg://user@host:port/dbname`` URL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

#: Milliseconds a SQLite connection waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 2000
#: Seconds a PostgreSQL connection attempt may take before failing.
PG_CONNECT_TIMEOUT_S = 3
#: The historian writer's SQLite page cache, KiB: holds the B-tree pages a batch touches.
SQLITE_WRITER_CACHE_KIB = 65_536
#: WAL pages (4 KiB) after which the writer's commit checkpoints: larger than SQLite's
#: default 1000, so pages written by consecutive batches are copied to the database once.
SQLITE_WRITER_AUTOCHECKPOINT = 10_000
#: Bytes the WAL file is truncated to after a checkpoint.
SQLITE_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


def default_url() -> str:
    """Return the standalone edition's database URL.

    Returns
    -------
    str
        ``sqlite:///<user data dir>/wattdesk.sqlite3``, the user data dir being
        ``platformdirs.user_data_dir("wattdesk")``.
    """
    path = Path(platformdirs.user_data_dir("wattdesk")) / "wattdesk.sqlite3"
    return f"sqlite:///{path}"


def backend(url: str | URL) -> str:
    """Name the database backend of ``url``: ``"sqlite"`` or ``"postgresql"``.

    Raises
    ------
    ValueError
        For any other backend, or a SQLite URL that names no file.
    """
    u = make_url(url)
    name = u.get_backend_name()
    if name == "sqlite":
        if not u.database or u.database == ":memory:":
            raise ValueError(f"database URL {u!r}: SQLite needs a file path (the historian's writer "
                             "and readers share it)")
        return name
    if name == "postgresql":
        return name
    raise ValueError(f"database URL {u!r}: unsupported backend {name!r} (use sqlite or postgresql+psycopg)")


def sqlite_path(url: str | URL) -> Path:
    """Return the file path of a ``sqlite:///path`` URL."""
    u = make_url(url)
    backend(u)
    return Path(u.database).expanduser()


def pg_conninfo(url: str | URL) -> str:
    """Return a libpq connection string (for psycopg 3) for a PostgreSQL URL.

    Raises
    ------
    ValueError
        If ``url`` is not a PostgreSQL URL.
    """
    u = make_url(url)
    if backend(u) != "postgresql":
        raise ValueError(f"database URL {u!r} is not PostgreSQL")
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_adbc_uri(url: str | URL, statement_timeout_s: float) -> str:
    """Return a libpq URI for the ADBC PostgreSQL driver with the historian's timeouts.

    Parameters
    ----------
    url : str | URL
        PostgreSQL URL.
    statement_timeout_s : float
        Seconds after which the server cancels a statement.

    Returns
    -------
    str
        ``postgresql://…?connect_timeout=<PG_CONNECT_TIMEOUT_S>&options=-c statement_timeout=…``
        (URL-encoded).

    Raises
    ------
    ValueError
        If ``url`` is not a PostgreSQL URL.
    """
    base = pg_conninfo(url)  # libpq wants %20, not '+', for a space in a URI
    query = urlencode({"connect_timeout": PG_CONNECT_TIMEOUT_S,
                       "options": f"-c statement_timeout={round(statement_timeout_s * 1000)}"}, quote_via=quote)
    return f"{base}{'&' if '?' in base else '?'}{query}"


def apply_sqlite_pragmas(conn: sqlite3.Connection) -> None:
    """Set WAL journal, ``synchronous=NORMAL`` and the busy timeout on a SQLite connection."""
    conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect_sqlite(url: str | URL, writer: bool = False) -> sqlite3.Connection:
    """Open a raw ``sqlite3`` connection in autocommit mode with the house pragmas.

    Transactions are begun and committed explicitly by the caller
    (``BEGIN IMMEDIATE`` ... ``COMMIT``). The connection may be used from a thread
    other than the one that opened it, one thread at a time.

    Parameters
    ----------
    url : str | URL
        ``sqlite:///path``.
    writer : bool
        Bulk-writer settings: a :data:`SQLITE_WRITER_CACHE_KIB` page cache, a WAL
        checkpoint every :data:`SQLITE_WRITER_AUTOCHECKPOINT` pages, temporary tables
        in memory.

    Raises
    ------
    sqlite3.OperationalError
        If the file cannot be opened.
    """
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None, check_same_thread=False)
    apply_sqlite_pragmas(conn)
    if writer:
        conn.execute(f"PRAGMA cache_size = -{SQLITE_WRITER_CACHE_KIB}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WRITER_AUTOCHECKPOINT}")
        conn.execute(f"PRAGMA journal_size_limit = {SQLITE_JOURNAL_SIZE_LIMIT}")
        conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Create a SQLAlchemy engine for ``url`` (default: :func:`default_url`).

    SQLite connections get the pragmas of :func:`apply_sqlite_pragmas` and the file's
    directory is created; PostgreSQL connections get a connect timeout of
    :data:`PG_CONNECT_TIMEOUT_S` seconds.

    Parameters
    ----------
    url : str | URL | None
        ``sqlite:///path`` or ``postgresql+psycopg://user@host:port/dbname``.
    **kwargs
        Passed on to :func:`sqlalchemy.create_engine`.

    Raises
    ------
    ValueError
        For an unsupported backend or a SQLite URL without a file.
    """
    u = make_url(url or default_url())
    if backend(u) == "sqlite":
        sqlite_path(u).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_engine_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            level = dbapi_conn.isolation_level
            dbapi_conn.isolation_level = None
            apply_sqlite_pragmas(dbapi_conn)
            dbapi_conn.isolation_level = level

        return engine
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
    return create_engine(u, connect_args=connect_args, **kwargs)
