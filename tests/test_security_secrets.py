"""Secrets: only the OS keyring by default (never keyring's plain-text fallbacks), an encrypted
file the operator opts into on a headless server, database passwords kept out of URLs."""

from __future__ import annotations

import io
import time

import pytest

from app.security.secrets import (
    DB_SERVICE, ENV_FILE, ENV_PASSPHRASE_FILE, SecretError, SecretStore, native_backend, open_secret_store,
    with_db_password,
)
from tests.security_rig import wattdesk

SECRET = "smtp-Pa55:wörd/令牌"


def test_without_an_os_keyring_nothing_is_chosen_silently(monkeypatch):
    monkeypatch.delenv(ENV_FILE, raising=False)
    assert native_backend() is None, "this test needs a machine without an OS keyring service"
    with pytest.raises(SecretError, match=ENV_FILE):
        open_secret_store()


def test_opted_in_encrypted_file_round_trip_and_never_plain_text(tmp_path, monkeypatch):
    path, phrase = tmp_path / "secrets.cfg", tmp_path / "passphrase"
    phrase.write_text("correct horse battery staple\n", encoding="utf-8")
    monkeypatch.setenv(ENV_FILE, str(path))
    monkeypatch.setenv(ENV_PASSPHRASE_FILE, str(phrase))
    t0 = time.perf_counter()
    store = open_secret_store()
    store.set("wattdesk-smtp", "alarms@example.org", SECRET)
    assert open_secret_store().get("wattdesk-smtp", "alarms@example.org") == SECRET
    print(f"encrypted file: open, set, reopen, get in {time.perf_counter() - t0:.2f} s")
    raw = path.read_bytes()
    assert SECRET.encode() not in raw and b"smtp-Pa55" not in raw
    with pytest.raises(SecretError, match="no secret 'wattdesk-smtp'/'other'"):
        store.get("wattdesk-smtp", "other")
    store.delete("wattdesk-smtp", "alarms@example.org")
    with pytest.raises(SecretError, match="no secret"):
        store.get("wattdesk-smtp", "alarms@example.org")
    with pytest.raises(SecretError, match="empty secret"):
        store.set("wattdesk-smtp", "x", "")


def test_wrong_or_missing_passphrase_is_a_clear_error_without_the_secret(tmp_path):
    path = tmp_path / "secrets.cfg"
    open_secret_store(path, lambda: "the right passphrase").set("wattdesk-webhook", "ops", SECRET)
    with pytest.raises(SecretError) as err:
        open_secret_store(path, lambda: "a wrong passphrase").get("wattdesk-webhook", "ops")
    assert str(path) in str(err.value) and SECRET not in str(err.value)
    with pytest.raises(SecretError, match="Invalid blank password"):
        open_secret_store(path, lambda: "   ")
    missing = tmp_path / "nope"
    with pytest.raises(SecretError, match=f"passphrase file {missing}"):
        from app.security.secrets import read_passphrase

        read_passphrase(missing)


def test_cli_secret_set_into_the_opted_in_file(tmp_path, monkeypatch, capsys):
    path, phrase = tmp_path / "secrets.cfg", tmp_path / "passphrase"
    phrase.write_text("operator passphrase", encoding="utf-8")
    monkeypatch.setenv(ENV_FILE, str(path))
    monkeypatch.setenv(ENV_PASSPHRASE_FILE, str(phrase))
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert wattdesk("secret", "set", DB_SERVICE, "wd@db.example:5432/wattdesk", "--value-stdin") == 0
    out = capsys.readouterr().out
    assert "secret stored" in out and SECRET not in out
    store = open_secret_store()
    assert isinstance(store, SecretStore) and store.get(DB_SERVICE, "wd@db.example:5432/wattdesk") == SECRET
    assert wattdesk("secret", "delete", DB_SERVICE, "nobody@x:1/y") == 2


def test_database_passwords_come_from_the_store_never_from_the_url(tmp_path):
    store = open_secret_store(tmp_path / "s.cfg", lambda: "pass phrase")
    store.set(DB_SERVICE, "wd@db.example:5432/wattdesk", SECRET)
    url = with_db_password("postgresql+psycopg://wd@db.example:5432/wattdesk", store)
    from sqlalchemy.engine import make_url

    assert make_url(url).password == SECRET
    assert with_db_password("postgresql+psycopg://other@db.example:5432/wattdesk", store).endswith(
        "other@db.example:5432/wattdesk")                               # none stored: trust/peer auth
    assert with_db_password("sqlite:////tmp/x.sqlite3", None) == "sqlite:////tmp/x.sqlite3"
    with pytest.raises(SecretError, match="contains a password") as err:
        with_db_password("postgresql+psycopg://wd:hunter2hunter2@db.example:5432/wattdesk", store)
    assert "hunter2" not in str(err.value)
