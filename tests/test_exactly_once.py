"""Exactly once (issue 23, item 4): a message sent again with its `message_id` is answered once and stored once.

The widget gives each message an id and sends the same one on Retry, and a parent double-clicks. Copies of one
message that arrive at the same moment, to the same or to different Rasa processes, must be answered once: every copy
gets the first one's answer and the conversation holds the message and its answer once. A retry that comes after the
conversation's session expired, even after a newer message started a new session, still gets its own stored answer.

Both profiles, each with its own servers: the default one (two Rasa processes on one SQLite file, the file lock
store) and the production one (two Rasa servers and nginx, PostgreSQL `jdm_once_test`, the Redis lock store). Their
model is the trained one with a session that expires after SESSION_SECONDS without a message (the trained domain
says 60 minutes): only `session_config` in the model's metadata is changed.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from conftest import MODEL, free_port, fresh_database, two_free_ports
from live_servers import running_servers, send_with_id
from production import Settings, Stack

SESSION_SECONDS = 2.0
COPIES = 8
DB_NAME = "jdm_once_test"
QUESTION = "what is jdm?"


def short_session_model(model: Path, out: Path) -> Path:
    """A copy of the trained `model` whose sessions expire after SESSION_SECONDS without a message."""
    with tarfile.open(model) as source, tarfile.open(out, "w:gz", compresslevel=1) as copy:
        for member in source.getmembers():
            content = source.extractfile(member) if member.isfile() else None
            if Path(member.name).name == "metadata.json" and content is not None:
                metadata = json.load(content)
                metadata["domain"]["session_config"]["session_expiration_time"] = SESSION_SECONDS / 60  # minutes
                raw = json.dumps(metadata).encode()
                member.size, content = len(raw), io.BytesIO(raw)
            copy.addfile(member, content)
    return out


@dataclass
class Profile:
    """Where to send messages (copies go round these URLs) and how to read back what a conversation holds."""

    urls: List[str]
    sqlite_file: Optional[Path] = None
    postgresql: Optional[Settings] = None

    def events(self, sender: str) -> List[Tuple[str, Dict[str, Any]]]:
        """The conversation's stored events in order: (type, event as JSON)."""
        query = "SELECT type_name, data FROM events WHERE sender_id = {} ORDER BY id"
        if self.sqlite_file is not None:
            with closing(sqlite3.connect(self.sqlite_file)) as db:
                rows = db.execute(query.format("?"), (sender,)).fetchall()
        else:
            import psycopg2

            s = self.postgresql
            assert s is not None
            login = {"host": s.db_host, "port": s.db_port, "user": s.db_user, "password": s.db_password}
            with closing(psycopg2.connect(**login, dbname=s.db_name)) as db, db.cursor() as cursor:
                cursor.execute(query.format("%s"), (sender,))
                rows = cursor.fetchall()
        return [(type_name, json.loads(data)) for type_name, data in rows]

    def user_texts(self, sender: str) -> List[str]:
        return [event["text"] for kind, event in self.events(sender) if kind == "user"]

    def sessions(self, sender: str) -> int:
        return sum(kind == "session_started" for kind, _ in self.events(sender))


@pytest.fixture(scope="module")
def short_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    return short_session_model(MODEL, tmp_path_factory.mktemp("once-model") / "short-session.tar.gz")


@pytest.fixture(scope="module", params=["default", "production"])
def profile(
    request: pytest.FixtureRequest, short_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Profile]:
    workdir = tmp_path_factory.mktemp(f"once-{request.param}")
    if request.param == "default":
        with running_servers(short_model, workdir, web=False) as servers:
            yield Profile([servers["rasa"]], sqlite_file=workdir / "tracker.db")
        return
    env = dict(os.environ, DB_NAME=DB_NAME, RASA_SERVERS="2", RASA_PORT=str(two_free_ports()))
    settings = Settings.from_env(dict(env, ACTIONS_PORT=str(free_port()), WEB_PORT=str(free_port())))
    fresh_database(settings, "EXACTLY-ONCE NOT TESTED ON THE PRODUCTION PROFILE", with_redis=True)
    stack = Stack(settings, workdir, short_model)
    try:
        stack.start_all()
        yield Profile([stack["rasa-1"], stack["rasa-2"], stack["nginx"]], postgresql=settings)
    finally:
        stack.stop_all()


def send_at_once(urls: List[str], sender: str, messages: List[Tuple[str, str]]) -> List[Tuple[int, Any]]:
    """Each (text, message_id) of `messages`, all sent at the same moment, spread over `urls`: (status, answer) each."""
    start = threading.Barrier(len(messages))

    def one(number: int) -> Tuple[int, Any]:
        start.wait()
        text, message_id = messages[number]
        return send_with_id(urls[number % len(urls)], sender, text, message_id)

    with ThreadPoolExecutor(len(messages)) as pool:
        return list(pool.map(one, range(len(messages))))


def bot_texts(answer: List[Dict[str, Any]]) -> List[str]:
    return [message["text"] for message in answer if message.get("text")]


def stored_bot_texts(profile: Profile, sender: str) -> List[str]:
    """The stored bot messages' texts as the REST channel sends them: a text's paragraphs are messages of their own."""
    stored = [event["text"] for kind, event in profile.events(sender) if kind == "bot" and event.get("text")]
    return [part for text in stored for part in text.strip().split("\n\n")]


def test_copies_sent_at_once_are_answered_once_with_one_answer(profile: Profile) -> None:
    sender, first_id = f"once-{uuid.uuid4()}", str(uuid.uuid4())
    answers = send_at_once(profile.urls, sender, [(QUESTION, first_id)] * COPIES)
    status, first = answers[0]
    assert status == 200 and "juvenile dermatomyositis" in " ".join(bot_texts(first)).lower(), answers[0]
    assert answers == [(200, first)] * COPIES  # every copy: the same answer
    assert profile.user_texts(sender) == [QUESTION]  # stored once
    assert stored_bot_texts(profile, sender) == bot_texts(first)  # and answered once

    # The next message's copies, mixed with late retries of the first: each gets its own message's one answer.
    second = ("what causes the rash?", str(uuid.uuid4()))
    answers = send_at_once(profile.urls, sender, [second, (QUESTION, first_id)] * (COPIES // 2))
    status, answer = answers[0]
    assert status == 200 and bot_texts(answer) and bot_texts(answer) != bot_texts(first), answers[0]
    assert answers == [(200, answer), (200, first)] * (COPIES // 2)
    assert profile.user_texts(sender) == [QUESTION, second[0]]
    assert stored_bot_texts(profile, sender) == bot_texts(first) + bot_texts(answer)


def test_a_retry_after_the_session_expired_gets_its_stored_answer(profile: Profile) -> None:
    sender, first_id = f"once-{uuid.uuid4()}", str(uuid.uuid4())
    status, first = send_with_id(profile.urls[0], sender, QUESTION, first_id)
    assert status == 200 and bot_texts(first)

    time.sleep(SESSION_SECONDS + 1)  # the answer never reached the browser; the parent comes back later
    assert send_with_id(profile.urls[-1], sender, QUESTION, first_id) == (200, first)
    assert profile.user_texts(sender) == [QUESTION] and profile.sessions(sender) == 1

    time.sleep(SESSION_SECONDS + 1)
    status, newer = send_with_id(profile.urls[0], sender, "how is jdm treated?", str(uuid.uuid4()))
    assert status == 200 and bot_texts(newer) != bot_texts(first)
    assert profile.sessions(sender) == 2  # the newer message started a new session
    # Retry pressed only now (copies of it at once, to every server): still the first answer, still stored once.
    assert send_at_once(profile.urls, sender, [(QUESTION, first_id)] * COPIES) == [(200, first)] * COPIES
    assert profile.user_texts(sender) == [QUESTION, "how is jdm treated?"]
