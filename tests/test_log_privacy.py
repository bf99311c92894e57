"""When the database or a lock fails, the logs still hold no parent's words and no conversation id.

A conversation id is the conversation's only credential, and what a parent
writes is health information about their child. Database errors (SQLAlchemy
quotes a statement's values in them) and lock errors are logged at ERROR, so
these tests force both through running servers and read the servers' logs:

- SQLite busy: the test holds an exclusive lock on the default profile's
  database file while messages are sent;
- a lock that cannot be had: the test holds the conversation's record lock;
- PostgreSQL failing mid-run: the server's tracker store is endpoints.production.yml's;
  first every write to it fails (as on a full disk), then its database is
  dropped under it (its connections cut).

Each time the parent still gets an answer or a clear error, and the log shows
the failure happened (so the test cannot pass by the fault missing it).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import psycopg2
import pytest
import yaml
from psycopg2 import sql

from components.file_lock_store import lock_offset
from components.log_privacy import conversation_tag, hide_sender_ids
from conftest import MODEL, ROOT, fresh_database
from live_servers import Servers, running_servers
from production import Settings

# Seconds a message waits for a conversation's lock before LockError (Rasa's TICKET_LOCK_LIFETIME).
LOCK_LIFETIME = 3
POSTGRESQL_DB = "logs_jdm_dropped"


def chat(servers: Servers, sender: str, text: str, message_id: str = "") -> Tuple[int, Any]:
    """POST one message to the chat endpoint: the HTTP status and the JSON answer, error or not."""
    body: Dict[str, str] = {"sender": sender, "message": text}
    if message_id:
        body["message_id"] = message_id
    request = urllib.request.Request(
        f"{servers['rasa']}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def answered_or_told(status: int, answer: Any) -> bool:
    """The parent got bot messages, or an error with words to read."""
    if status == 200:
        return isinstance(answer, list) and any(m.get("text") for m in answer)
    return isinstance(answer, dict) and len(str(answer.get("message") or "")) > 20


def leaks(log: str, secrets: List[str]) -> List[str]:
    return [secret for secret in secrets if secret in log]


def new_sender() -> str:
    return f"logs-{uuid.uuid4()}"


@pytest.fixture(scope="module")
def sqlite_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    with running_servers(
        MODEL, tmp_path_factory.mktemp("logs-sqlite"), web=False, env={"TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME)}
    ) as servers:
        yield servers


def test_a_busy_sqlite_database_logs_the_error_without_the_message_or_the_conversation_id(
    sqlite_servers: Servers,
) -> None:
    sender, first, private = new_sender(), "What is JDM?", "Quorinda Pellaway has a purple rash on her knuckles"
    assert answered_or_told(*chat(sqlite_servers, sender, first))
    before = len(sqlite_servers.log("rasa"))
    blocker = sqlite3.connect(sqlite_servers.workdir / "tracker.db", isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # no other connection may read or write the file now
        status, answer = chat(sqlite_servers, sender, private, message_id=str(uuid.uuid4()))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert answered_or_told(status, answer), (status, answer)
    assert not leaks(sqlite_servers.log("rasa"), [sender, first, private, "Quorinda", "knuckles"])
    assert "[parameters:" not in sqlite_servers.log("rasa")  # nor the intent, nor any other stored value
    log = sqlite_servers.log("rasa")[before:]
    assert "database is locked" in log and "SQL parameters hidden" in log  # the fault was hit and logged


def test_a_lock_that_cannot_be_had_is_logged_by_tag_not_by_conversation_id(sqlite_servers: Servers) -> None:
    sender, text = new_sender(), "Zebulon Marchetti cannot climb the stairs today"
    before = len(sqlite_servers.log("rasa"))
    with open(sqlite_servers.workdir / "conversation.locks", "r+b") as locks:
        fcntl.lockf(locks, fcntl.LOCK_EX, 1, lock_offset(sender))  # another process answering this conversation
        try:
            status, answer = chat(sqlite_servers, sender, text)
        finally:
            fcntl.lockf(locks, fcntl.LOCK_UN, 1, lock_offset(sender))
    # 'Try again' in words (503 store_unavailable): nothing was answered or stored.
    assert status == 503 and answered_or_told(status, answer), (status, answer)
    assert not leaks(sqlite_servers.log("rasa"), [sender, text, "Zebulon", "Marchetti"])
    assert "Could not acquire lock for conversation conv-" in sqlite_servers.log("rasa")[before:]  # hit and logged
    assert answered_or_told(*chat(sqlite_servers, sender, "What is JDM?"))  # free again: answered


def production_tracker_store() -> Dict[str, Any]:
    """endpoints.production.yml's tracker store, as the production profile's servers read it."""
    endpoints = yaml.safe_load((ROOT / "endpoints.production.yml").read_text(encoding="utf-8"))
    return dict(endpoints["tracker_store"])


def as_admin(settings: Settings, statement: sql.Composable, dbname: str = "postgres") -> None:
    login = {"host": settings.db_host, "port": settings.db_port, "user": settings.db_admin_user}
    connection = psycopg2.connect(**login, password=settings.db_admin_password, dbname=dbname)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


# Every write to the events table fails, as on a full disk: the failed INSERT carries the message text.
REFUSE_WRITES = sql.SQL(
    "CREATE FUNCTION refuse_writes() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no space left (test)'; END $$ "
    "LANGUAGE plpgsql; CREATE TRIGGER refuse_writes BEFORE INSERT ON events EXECUTE FUNCTION refuse_writes()"
)


def test_postgresql_refusing_writes_then_dropped_mid_run_logs_no_messages_or_conversation_ids(
    tmp_path: Path,
) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    settings = Settings.from_env(dict(os.environ, JDM_PROFILE="production", DB_NAME=POSTGRESQL_DB))
    fresh_database(settings, "LOGS AFTER A POSTGRESQL FAILURE UNTESTED")
    database_env = {
        "DB_HOST": settings.db_host,
        "DB_PORT": str(settings.db_port),
        "DB_USER": settings.db_user,
        "DB_PASSWORD": settings.db_password,
        "DB_NAME": settings.db_name,
    }
    sender, first = new_sender(), "What is JDM?"
    refused, after_drop = "Hortensia Vablonsky took all of her tablets at once", "Ottoline Brask has a fever of 40"
    with running_servers(MODEL, tmp_path, web=False, env=database_env, tracker_store=production_tracker_store()) as s:
        assert answered_or_told(*chat(s, sender, first))
        before = len(s.log("rasa"))
        as_admin(settings, REFUSE_WRITES, dbname=settings.db_name)
        assert answered_or_told(*chat(s, sender, refused, message_id=str(uuid.uuid4())))
        as_admin(settings, sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(settings.db_name)))
        assert answered_or_told(*chat(s, sender, after_drop, message_id=str(uuid.uuid4())))
        log = s.log("rasa")
    secrets = [sender, first, refused, after_drop, "Hortensia", "Vablonsky", "tablets", "Ottoline", "Brask"]
    assert not leaks(log, secrets)
    assert "[parameters:" not in log  # nor the intent (the red flag), nor any other stored value
    assert "no space left (test)" in log[before:] and f'database "{POSTGRESQL_DB}" does not exist' in log[before:]


def test_rasas_own_lines_that_quote_a_sender_name_the_conversation_by_tag(caplog: pytest.LogCaptureFixture) -> None:
    hide_sender_ids()
    sender = new_sender()
    caplog.set_level(logging.INFO)
    # Rasa 3.6's processor, word for word, when a conversation loops (rasa/core/processor.py).
    logging.getLogger("rasa.core.processor").warning(
        f"Circuit breaker tripped. Stopped predicting more actions for sender '{sender}'."
    )
    assert sender not in caplog.text
    assert f"for sender {conversation_tag(sender)}." in caplog.text


def test_a_conversation_tag_is_short_stable_and_not_the_id() -> None:
    sender = new_sender()
    tag = conversation_tag(sender)
    assert tag == conversation_tag(sender) != conversation_tag(new_sender())
    assert len(tag) == len("conv-") + 8 and sender[5:13] not in tag
