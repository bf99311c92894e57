"""Least privilege: the production profile's servers log in to PostgreSQL as a role that can only keep conversations.

scripts/production.py (ensure_database) creates the database, Rasa's tables
and the role DB_USER (default jdm) as the administrator. These tests connect
through the URL Rasa builds from endpoints.production.yml with the environment
the profile gives its servers, and check what that login can and cannot do;
test_production_profile.py checks the running profile's own connections.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import sqlalchemy as sa

from conftest import fresh_database, skip_loudly
from production import ENDPOINTS, ProfileError, Settings, ensure_database, stored_password

DB_NAME = "jdm_privilege_test"
# What the assistant's login must never do: PostgreSQL refuses each for want of the right.
FORBIDDEN = [
    "DROP TABLE events",
    "TRUNCATE events",
    "ALTER TABLE events ADD COLUMN stolen text",
    "UPDATE events SET data = ''",
    "CREATE TABLE stolen (words text)",
    "CREATE DATABASE jdm_privilege_test_copy",
    "CREATE ROLE intruder LOGIN",
    "CREATE TEMPORARY TABLE stolen (words text)",
    "ALTER ROLE CURRENT_USER SUPERUSER",
]


def profile_database_url(env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The database URL Rasa builds from endpoints.production.yml with the environment the profile gives its servers."""
    from rasa.core.tracker_store import SQLTrackerStore

    from profile_store import sql_store_settings

    for name, value in Settings.from_env(env).server_env().items():
        monkeypatch.setenv(name, value)
    return str(SQLTrackerStore.get_db_url(**sql_store_settings(ENDPOINTS, "the test")))


def assert_least_privilege(url: str) -> None:
    """The login at `url` is no superuser, keeps conversations (select, insert, delete) and can do nothing else."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as db:
            role = "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
            assert tuple(db.execute(sa.text(role)).one()) == (False, False, False)
            db.execute(
                sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('probe', 'user', 1, '{}')")
            )
            assert db.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = 'probe'")).scalar() == 1
            db.execute(sa.text("DELETE FROM events WHERE sender_id = 'probe'"))
        for statement in FORBIDDEN:
            with (
                pytest.raises(sa.exc.ProgrammingError, match="InsufficientPrivilege"),
                engine.connect() as db,
            ):
                db.execute(sa.text(statement))
    finally:
        engine.dispose()


def admin_execute(settings: Settings, statement: str, *args: Any) -> Any:
    import psycopg2

    db = psycopg2.connect(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_admin_user,
        password=settings.db_admin_password,
        dbname=settings.db_name,
    )
    db.autocommit = True
    try:
        with db.cursor() as cursor:
            cursor.execute(statement, args)
            return cursor.fetchall() if cursor.description else None
    finally:
        db.close()


@pytest.fixture
def env() -> Iterator[Dict[str, str]]:
    """The production profile's environment on a fresh database of this test's own."""
    env = dict(os.environ, JDM_PROFILE="production", DB_NAME=DB_NAME)
    env.pop("DB_USER", None)
    fresh_database(Settings.from_env(env), "THE ASSISTANT'S DATABASE ROLE NOT TESTED")
    yield env


def test_the_assistant_logs_in_as_a_role_that_can_only_keep_conversations(
    env: Dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = profile_database_url(env, monkeypatch)
    assert "//jdm:" in url, "the profile gives Rasa the jdm role, not the administrator"
    assert_least_privilege(url)


def test_starting_again_keeps_the_conversations_and_the_rights(
    env: Dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(env)
    admin_execute(
        settings, "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('kept', 'user', 1, '{}')"
    )
    ensure_database(settings)
    ensure_database(settings)
    assert admin_execute(settings, "SELECT count(*) FROM events WHERE sender_id = 'kept'") == [(1,)]
    assert_least_privilege(profile_database_url(env, monkeypatch))


def test_a_database_made_before_the_role_existed_keeps_its_rows_and_gets_the_rights(
    env: Dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As earlier versions left it: everything the administrator's, the assistant's role with no right on it.
    settings = Settings.from_env(env)
    admin_execute(
        settings, "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('older', 'user', 1, '{}')"
    )
    admin_execute(settings, f"REVOKE ALL ON events FROM {settings.db_user}")
    admin_execute(settings, f"GRANT UPDATE ON events TO {settings.db_user}")  # a right it should not keep
    ensure_database(settings)
    url = profile_database_url(env, monkeypatch)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            assert db.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = 'older'")).scalar() == 1
    finally:
        engine.dispose()
    assert_least_privilege(url)


def test_a_superuser_is_never_the_assistants_login(env: Dict[str, str]) -> None:
    settings = Settings.from_env(env)
    admin_execute(settings, "DROP ROLE IF EXISTS jdm_test_superuser")
    admin_execute(settings, "CREATE ROLE jdm_test_superuser SUPERUSER NOLOGIN")
    try:
        with pytest.raises(ProfileError, match="role jdm_test_superuser .DB_USER. is a superuser"):
            ensure_database(Settings.from_env({**env, "DB_USER": "jdm_test_superuser"}))
        assert admin_execute(settings, "SELECT rolsuper FROM pg_roles WHERE rolname = 'jdm_test_superuser'") == [
            (True,)
        ], "a superuser is refused, never demoted"
    finally:
        admin_execute(settings, "DROP ROLE IF EXISTS jdm_test_superuser")


def test_without_db_password_one_is_made_once_and_kept_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "production" / "db-password"
    first = stored_password(path)
    assert len(first) >= 24 and stored_password(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p != path], "no draft left behind"
    assert Settings.from_env({"DB_PASSWORD": "chosen-by-the-clinic"}).db_password == "chosen-by-the-clinic"


def test_the_role_gets_the_password_the_servers_are_given(env: Dict[str, str]) -> None:
    import hashlib
    import hmac
    from base64 import b64decode

    settings = Settings.from_env(env)
    # PostgreSQL keeps SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>; trust login here would not check it.
    (kept,) = admin_execute(settings, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", settings.db_user)[0]
    if not kept or not kept.startswith("SCRAM-SHA-256$"):
        skip_loudly(f"PASSWORD NOT CHECKED: PostgreSQL keeps it as {str(kept)[:6]}..., not SCRAM-SHA-256")
    iterations_salt, keys = kept.split("$")[1:]
    iterations, salt = iterations_salt.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", settings.db_password.encode(), b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    assert hashlib.sha256(client_key).digest() == b64decode(keys.split(":")[0])


def prepare(env: Dict[str, str]) -> str:
    ensure_database(Settings.from_env(env))
    return "ready"


def test_profiles_starting_at_the_same_moment_all_get_ready(env: Dict[str, str]) -> None:
    # Concurrent changes of one role's rights fail in PostgreSQL ("tuple concurrently updated").
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(4) as pool:
        assert list(pool.map(prepare, [env] * 8)) == ["ready"] * 8
