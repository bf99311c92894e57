"""Forget means forgotten, on every path (issue 23): faults between saving the turn and deleting it.

The typed "yes, delete it" is saved by Rasa first and deleted by the channel
after. When that deletion fails or never runs (a database error, the server
killed between the two), the widget sends the same message again with the
same `message_id`: that retry must delete, or say that it could not, never
answer "deleted" while the rows stay. The faults are injected in the test's
own database (a trigger on deleting that conversation's rows), so the server
runs exactly the code it runs in production; on SQLite and on PostgreSQL.
On SQLite the forgotten words are not left in the file's bytes either.

The servers are the module's own (the faults make the Rasa server log
errors, which the shared live servers' tests must not see), on a SQLite
file and then on a PostgreSQL database (`forget_faults_test`).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import uuid
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import pytest

from actions.privacy import FORGET_KEY
from conftest import MODEL, Settings, fresh_database, say, tracker_store_args
from live_servers import Servers, child_pids, running_servers, send_with_id

QUESTION = "Do you want me to delete this conversation?"
DONE = "Done. This conversation has been deleted."
CONFIRM = "/forget_me_confirm"


class SQLiteFile:
    """The default profile's store: the servers' own SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def user_texts(self, sender: str) -> List[str]:
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,))
            return [json.loads(data)["text"] for (data,) in rows.fetchall()]

    @contextmanager
    def deleting(self, sender: str, fault: str) -> Iterator[None]:
        """While open, deleting `sender`'s rows fails ("fails") or never ends ("hangs")."""
        trigger = "fault_" + uuid.uuid4().hex
        with closing(sqlite3.connect(self.path)) as db:
            db.execute(
                f"CREATE TRIGGER {trigger} BEFORE DELETE ON events WHEN old.sender_id = '{sender}' "
                f"BEGIN {SQLITE_FAULTS[fault]}; END"
            )
            db.commit()
        try:
            yield
        finally:
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
                db.commit()

    def end_orphans(self) -> None:
        """Nothing to do: a killed process's SQLite locks go with it."""


SQLITE_FAULTS = {
    "fails": "SELECT RAISE(ABORT, 'fault injected by the test')",
    # Counts far beyond what finishes while the test runs: the delete hangs until the server is killed.
    "hangs": "SELECT RAISE(ABORT, 'never reached') WHERE (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
    "SELECT i + 1 FROM n WHERE i < 100000000000) SELECT count(*) FROM n) < 0",
}


class PostgreSQLDatabase:
    """The production profile's store: a PostgreSQL database of this test's own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def connect(self) -> Any:
        import psycopg2

        s = self.settings  # the administrator: the faults are triggers, which the assistant's own role may not make
        db = psycopg2.connect(
            host=s.db_host, port=s.db_port, user=s.db_admin_user, password=s.db_admin_password, dbname=s.db_name
        )
        db.autocommit = True
        return db

    def user_texts(self, sender: str) -> List[str]:
        with closing(self.connect()) as db, db.cursor() as cursor:
            cursor.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id", (sender,))
            return [json.loads(data)["text"] for (data,) in cursor.fetchall()]

    @contextmanager
    def deleting(self, sender: str, fault: str) -> Iterator[None]:
        trigger = "fault_" + uuid.uuid4().hex
        with closing(self.connect()) as db, db.cursor() as cursor:
            cursor.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"{POSTGRESQL_FAULTS[fault]}; RETURN OLD; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {trigger} BEFORE DELETE ON events FOR EACH ROW "
                f"WHEN (OLD.sender_id = '{sender}') EXECUTE FUNCTION {trigger}()"
            )
        try:
            yield
        finally:
            with closing(self.connect()) as db, db.cursor() as cursor:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON events")
                cursor.execute(f"DROP FUNCTION IF EXISTS {trigger}()")

    def end_orphans(self) -> None:
        """End the killed server's sessions, as PostgreSQL does once it notices their client is gone."""
        with closing(self.connect()) as db, db.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.settings.db_name,),
            )


POSTGRESQL_FAULTS = {"fails": "RAISE EXCEPTION 'fault injected by the test'", "hangs": "PERFORM pg_sleep(3600)"}
DB_NAME = "forget_faults_test"


@dataclass
class Live:
    """Live servers and the store they keep conversations in."""

    servers: Servers
    store: Union[SQLiteFile, PostgreSQLDatabase]

    @property
    def rasa(self) -> str:
        return self.servers["rasa"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    workdir = tmp_path_factory.mktemp(f"forget_faults_{request.param}")
    store: Union[SQLiteFile, PostgreSQLDatabase] = SQLiteFile(workdir / "tracker.db")
    tracker_store: Optional[Dict[str, Any]] = None
    if request.param == "postgresql":
        settings = Settings.from_env(dict(os.environ, JDM_PROFILE="production", DB_NAME=DB_NAME))
        fresh_database(settings, "A RETRIED FORGET NOT TESTED ON POSTGRESQL")
        store = PostgreSQLDatabase(settings)
        args = tracker_store_args(settings)
        args["url"] = args.pop("host")  # endpoints.yml names the host `url`
        tracker_store = args
    with running_servers(MODEL, workdir, web=False, tracker_store=tracker_store) as servers:
        yield Live(servers, store)


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def asked_to_delete(live: Live) -> str:
    """A new conversation with a question answered and the offer to delete it made; its sender id."""
    sender = f"forget-{uuid.uuid4()}"
    assert "juvenile dermatomyositis" in texts(say(live.rasa, sender, "what is jdm?")).lower()
    assert QUESTION in texts(say(live.rasa, sender, "please delete my conversation"))
    return sender


def assert_not_deleted_answer(status: int, answer: Any) -> None:
    assert status == 500 and isinstance(answer, dict) and answer["error"] == "not_deleted", (status, answer)
    assert "could not be deleted" in answer["message"] and DONE not in json.dumps(answer)


def assert_deleted_answer(status: int, answer: Any) -> None:
    assert status == 200 and DONE in texts(answer), (status, answer)
    assert {FORGET_KEY: True} in [r.get("custom") for r in answer]


def test_a_retried_forget_whose_delete_failed_deletes_or_says_it_could_not(live: Live) -> None:
    sender, message_id = asked_to_delete(live), str(uuid.uuid4())
    with live.store.deleting(sender, "fails"):
        assert_not_deleted_answer(*send_with_id(live.rasa, sender, CONFIRM, message_id))
        # The widget's Retry: the stored "Done" must not be sent while the rows are still there.
        assert_not_deleted_answer(*send_with_id(live.rasa, sender, CONFIRM, message_id))
        assert live.store.user_texts(sender) == ["what is jdm?", "please delete my conversation", CONFIRM]
    # The database works again: the same retry deletes, and only then says so.
    assert_deleted_answer(*send_with_id(live.rasa, sender, CONFIRM, message_id))
    assert live.store.user_texts(sender) == []


def kill_rasa(servers: Servers) -> None:
    """SIGKILL the Rasa server and its worker processes: nothing of theirs runs afterwards."""
    process = servers.processes["rasa"]
    for pid in [*child_pids(process.pid), process.pid]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def wait_until_stored(live: Live, sender: str, text: str, wait_s: float = 60) -> None:
    deadline = time.monotonic() + wait_s
    while text not in live.store.user_texts(sender):
        assert time.monotonic() < deadline, f"{text!r} was never saved"
        time.sleep(0.2)


def test_a_forget_whose_server_died_before_deleting_deletes_when_retried(live: Live) -> None:
    sender, message_id = asked_to_delete(live), str(uuid.uuid4())
    first_try: Dict[str, Optional[Tuple[int, Any]]] = {}

    def confirm() -> None:
        try:
            first_try["answer"] = send_with_id(live.rasa, sender, CONFIRM, message_id)
        except OSError:  # the server died under it: the browser sees a dropped connection
            first_try["answer"] = None

    with live.store.deleting(sender, "hangs"):
        waiting = threading.Thread(target=confirm)
        waiting.start()
        wait_until_stored(live, sender, CONFIRM)  # saved: the server is now in the delete, which hangs
        kill_rasa(live.servers)
        waiting.join(timeout=60)
        live.store.end_orphans()
    assert first_try == {"answer": None}, "the first try was answered although its server was killed"
    assert live.store.user_texts(sender) == ["what is jdm?", "please delete my conversation", CONFIRM]

    live.servers.start("rasa")
    live.servers.wait_ready("rasa")
    assert_deleted_answer(*send_with_id(live.rasa, sender, CONFIRM, message_id))
    assert live.store.user_texts(sender) == []
    # The conversation id goes on as a new, empty conversation, whichever process answers.
    for _ in range(4):
        assert texts(say(live.rasa, sender, "what is jdm?"))
    assert live.store.user_texts(sender) == ["what is jdm?"] * 4


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_the_forgotten_words_are_not_left_in_the_database_file(live: Live) -> None:
    assert isinstance(live.store, SQLiteFile)
    sender, phrase = f"forget-{uuid.uuid4()}", f"quokka{uuid.uuid4().hex}"  # a word no other row holds
    say(live.rasa, sender, f"my daughter says her {phrase} rash itches")
    assert phrase.encode() in live.store.path.read_bytes()
    assert QUESTION in texts(say(live.rasa, sender, "forget me"))
    assert DONE in texts(say(live.rasa, sender, CONFIRM))
    assert live.store.user_texts(sender) == []
    assert phrase.encode() not in live.store.path.read_bytes()
