"""Alembic migration environment for the historian schema (see :mod:`db.migrate`)."""
