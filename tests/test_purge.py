"""Retention (`make purge DAYS=N`): old conversations go, newer ones stay whole, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from conftest import fresh_database
from production import Settings

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0
# sender -> ages in days of its events. "mixed" started long ago but spoke yesterday: it stays whole.
CONVERSATIONS: Dict[str, List[float]] = {
    "old-conversation-1": [95.0, 94.9, 94.8],
    "old-conversation-2": [31.0, 30.5],
    "mixed-conversation": [60.0, 45.0, 1.0],
    "new-conversation-1": [2.0, 0.1],
    "new-conversation-2": [0.01],
}


def rows(now: float) -> List[Tuple[str, str, float, str]]:
    return [
        (sender, "user", now - age * DAY, f'{{"event": "user", "text": "turn {i}"}}')
        for sender, ages in CONVERSATIONS.items()
        for i, age in enumerate(ages)
    ]


def run_purge(*args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "purge.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Tuple[Path, Path]]:
    """An endpoints file like endpoints.yml, its SQLite store made by Rasa and filled with aged events."""
    from rasa.core.tracker_store import SQLTrackerStore

    db = tmp_path / "tracker.db"
    SQLTrackerStore(dialect="sqlite", db=str(db)).engine.dispose()
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)", rows(time.time())
        )
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n')
    yield endpoints, db


def senders_in_sqlite(db: Path) -> Dict[str, int]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id").fetchall())


def test_sqlite_purge_deletes_only_conversations_older_than_n_days(sqlite_store: Tuple[Path, Path]) -> None:
    endpoints, db = sqlite_store
    env = dict(os.environ, JDM_PROFILE="default")
    dry = run_purge("--days", "30", "--endpoints", str(endpoints), "--dry-run", env=env)
    assert dry.returncode == 0 and "would delete 2 conversation(s)" in dry.stdout, dry.stderr
    assert len(senders_in_sqlite(db)) == 5

    result = run_purge("--days", "30", "--endpoints", str(endpoints), env=env)
    assert result.returncode == 0, result.stderr
    assert "deleted 2 conversation(s) whose last event is older than 30 day(s)" in result.stdout
    assert senders_in_sqlite(db) == {"mixed-conversation": 3, "new-conversation-1": 2, "new-conversation-2": 1}

    again = run_purge("--days", "30", "--endpoints", str(endpoints), env=env)
    assert "deleted 0 conversation(s)" in again.stdout
    assert run_purge("--days", "1", "--endpoints", str(endpoints), env=env).returncode == 0
    assert senders_in_sqlite(db) == {"new-conversation-1": 2, "new-conversation-2": 1}


def test_the_purged_words_are_not_left_in_the_sqlite_file(sqlite_store: Tuple[Path, Path]) -> None:
    endpoints, db = sqlite_store
    phrase = f"quokka{uuid.uuid4().hex}"  # a word no other row holds
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            ("old-conversation-1", "user", time.time() - 90 * DAY, f'{{"event": "user", "text": "{phrase}"}}'),
        )
    assert phrase.encode() in db.read_bytes()
    result = run_purge("--days", "30", "--endpoints", str(endpoints), env=dict(os.environ, JDM_PROFILE="default"))
    assert result.returncode == 0 and "deleted 2 conversation(s)" in result.stdout, result.stderr
    assert phrase.encode() not in db.read_bytes()


@pytest.mark.parametrize("days", ["", "abc", "0", "-5", "2.5"])
def test_a_bad_number_of_days_is_refused_and_nothing_is_deleted(sqlite_store: Tuple[Path, Path], days: str) -> None:
    endpoints, db = sqlite_store
    result = run_purge("--days", days, "--endpoints", str(endpoints), env=dict(os.environ))
    assert result.returncode == 2
    assert "error: DAYS must be" in result.stderr
    assert len(senders_in_sqlite(db)) == 5


def test_a_missing_sqlite_store_is_not_created(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tmp_path / "none.db"}"\n')
    result = run_purge("--days", "7", "--endpoints", str(endpoints), env=dict(os.environ))
    assert result.returncode == 0 and "deleted 0" in result.stdout
    assert not (tmp_path / "none.db").exists()


def test_make_purge_passes_days_to_the_script() -> None:
    dry = subprocess.run(["make", "-n", "purge", "DAYS=14"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert 'scripts/purge.py --days "14"' in dry.stdout


def test_postgresql_purge_in_the_production_profile() -> None:
    env = dict(os.environ, JDM_PROFILE="production", DB_NAME="jdm_purge_test")
    settings = Settings.from_env(env)
    fresh_database(settings, "PURGE NOT TESTED ON POSTGRESQL")
    import psycopg2

    def connect() -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host=settings.db_host,
            port=settings.db_port,
            user=settings.db_user,
            password=settings.db_password,
            dbname=settings.db_name,
        )

    with connect() as db, db.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (%s, %s, %s, %s)", rows(time.time())
        )
    # No --endpoints: the production profile's own file, with DB_NAME from the environment.
    result = run_purge("--days", "30", env=env)
    assert result.returncode == 0, result.stderr
    assert "deleted 2 conversation(s)" in result.stdout
    with connect() as db, db.cursor() as cursor:
        cursor.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")
        left = dict(cursor.fetchall())
    assert left == {"mixed-conversation": 3, "new-conversation-1": 2, "new-conversation-2": 1}
