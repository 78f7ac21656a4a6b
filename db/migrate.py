"""Bring a database's schema to the newest revision with Alembic's programmatic API.

The migration scripts live inside the package (:mod:`db.migrations`), so
``wattdesk db upgrade`` works from an installed wheel with no ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, make_url

from db.engine import default_url, make_engine

#: Directory of env.py, script.py.mako and versions/.
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Return an Alembic config pointing at the packaged migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    return cfg


def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (default: the newest).

    For SQLite the file and its directory are created if missing.

    Parameters
    ----------
    url : str | URL | None
        Database URL; default :func:`db.engine.default_url`.
    revision : str
        Alembic revision id or ``"head"``.

    Raises
    ------
    ValueError
        Unsupported URL.
    sqlalchemy.exc.OperationalError
        The database cannot be reached.
    """
    engine = make_engine(make_url(url or default_url()))
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def current(url: str | URL | None = None) -> str | None:
    """Return the database's current Alembic revision id, or ``None`` if never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(make_url(url or default_url()))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
