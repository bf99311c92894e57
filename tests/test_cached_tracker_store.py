"""The tracker store that keeps conversations between turns: what it gives back is what the database holds."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import sqlite3
import sys
from pathlib import Path
from typing import Any, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.guarded_rest import delete_conversation
from components.cached_tracker_store import CachedSQLTrackerStore, event_row
from conftest import ROOT, analyze_as_administrator, postgresql_tracker_store

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def store(db: Path, cache_size: int = 8) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(DOMAIN, cache_size=cache_size, dialect="sqlite", db=str(db))


def turn(text: str) -> List[Event]:
    return [
        UserUttered(text, {"name": "faq", "confidence": 0.9}),
        ActionExecuted("action_answer_faq"),
        BotUttered(f"answer to {text}"),
        ActionExecuted("action_listen"),
    ]


async def say(tracker_store: SQLTrackerStore, sender: str, text: str) -> DialogueStateTracker:
    """One turn as Rasa's processor does it: read the tracker, add the turn's events, save."""
    tracker = await tracker_store.get_or_create_tracker(sender)
    for event in turn(text):
        tracker.update(event)
    await tracker_store.save(tracker)
    return tracker


def texts(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


async def stored_texts(db: Path, sender: str) -> List[str]:
    """What Rasa's own SQL store reads back from the database."""
    tracker = await SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)).retrieve(sender)
    return [] if tracker is None else texts(tracker)


async def test_every_turn_is_stored_once_and_the_kept_tracker_is_reused(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    first = await say(cached, "parent", "what is jdm")
    second = await say(cached, "parent", "is it catching")
    third = await say(cached, "parent", "what about school")
    assert first is second is third  # kept between turns, from the first, not rebuilt from the database
    assert await stored_texts(tmp_path / "t.db", "parent") == ["what is jdm", "is it catching", "what about school"]
    assert texts(third) == ["what is jdm", "is it catching", "what about school"]


async def test_it_writes_the_rows_rasas_own_store_writes(tmp_path: Path) -> None:
    """Reports, `make purge` and Rasa itself read these rows: they must not tell the stores apart."""

    async def rows(tracker_store: SQLTrackerStore, db: Path) -> List[tuple]:
        for text in ("what is jdm", "is it catching", "what about school"):
            await say(tracker_store, "parent", text)
        with sqlite3.connect(db) as connection:
            return connection.execute(
                "SELECT sender_id, type_name, intent_name, action_name, data FROM events ORDER BY id"
            ).fetchall()

    ours = await rows(store(tmp_path / "ours.db"), tmp_path / "ours.db")
    rasas = await rows(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db")), tmp_path / "rasa.db")
    without_time = [(*row[:4], {k: v for k, v in json.loads(row[4]).items() if k != "timestamp"}) for row in ours]
    assert without_time == [
        (*row[:4], {k: v for k, v in json.loads(row[4]).items() if k != "timestamp"}) for row in rasas
    ]
    assert len(ours) == 1 + 3 * 4  # the first action_listen, then four events a turn


async def test_turns_saved_by_another_server_are_read_from_the_database(tmp_path: Path) -> None:
    one, two = store(tmp_path / "t.db"), store(tmp_path / "t.db")  # two Rasa servers, one database
    await say(one, "parent", "what is jdm")
    await say(one, "parent", "is it catching")
    await say(two, "parent", "what about school")  # the balancer sent this turn to the other server
    tracker = await say(one, "parent", "and sun cream")
    assert texts(tracker) == ["what is jdm", "is it catching", "what about school", "and sun cream"]
    expected = ["what is jdm", "is it catching", "what about school", "and sun cream"]
    assert await stored_texts(tmp_path / "t.db", "parent") == expected


async def test_overlapping_turns_on_two_servers_leave_no_stale_copy_in_either(tmp_path: Path) -> None:
    """A lock that expired mid-turn lets two servers' turns of one conversation overlap: both turns
    are stored, and neither server later answers from a copy that lacks the other's turn."""
    db = tmp_path / "rasa.db"
    one, two = store(db), store(db)
    await say(one, "parent", "first")
    await say(two, "parent", "second")  # two keeps its copy; one's copy is now behind
    slow = await one.get_or_create_tracker("parent")  # one reads it back and starts a long turn ...
    await say(two, "parent", "overlapping")  # ... while two, its lock gone, runs another turn
    for event in turn("slow"):
        slow.update(event)
    await one.save(slow)  # the slow turn ends
    stored = await stored_texts(db, "parent")
    assert sorted(stored) == ["first", "overlapping", "second", "slow"]
    assert texts(await one.get_or_create_tracker("parent")) == stored
    assert texts(await two.get_or_create_tracker("parent")) == stored


async def test_a_deleted_conversation_is_gone_from_memory_too(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    await say(cached, "parent", "what is jdm")
    await say(cached, "parent", "my child's name is Sam")
    delete_conversation(cached, "parent")  # the widget's Delete button
    assert await cached.retrieve("parent") is None
    assert await stored_texts(tmp_path / "t.db", "parent") == []


async def test_rows_deleted_behind_its_back_are_not_served_from_memory(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    await say(cached, "parent", "what is jdm")
    await say(cached, "parent", "is it catching")
    with SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db")).engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM events")  # `make purge`, another process
    assert await cached.retrieve("parent") is None


async def test_a_conversation_deleted_by_another_process_is_never_served_again_from_memory(tmp_path: Path) -> None:
    first, second = store(tmp_path / "t.db"), store(tmp_path / "t.db")  # two Rasa processes on one file
    await say(first, "parent", "what is jdm")
    await say(first, "parent", "my child's name is Sam")  # the first process keeps this conversation
    delete_conversation(second, "parent")  # the Delete button, answered by the other process
    # The same id starts again there with as many events: the same newest id, if SQLite gave ids out again.
    await say(second, "parent", "hello")
    await say(second, "parent", "is it catching")
    tracker = await first.retrieve("parent")
    assert tracker is not None and texts(tracker) == ["hello", "is it catching"]


async def test_a_database_made_before_autoincrement_keeps_its_rows_and_never_reuses_ids(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    await say(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)), "parent", "what is jdm")  # Rasa's own table
    await say(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)), "other", "is it catching")
    with sqlite3.connect(db) as connection:
        newest = connection.execute("SELECT max(id) FROM events").fetchone()[0]
    cached = store(db)
    assert await stored_texts(db, "parent") == ["what is jdm"]
    assert await stored_texts(db, "other") == ["is it catching"]
    delete_conversation(cached, "other")  # the newest rows
    await say(cached, "other", "is it catching")
    with sqlite3.connect(db) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM events WHERE sender_id = 'other'")]
        indexes = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
    assert min(ids) > newest
    assert "ix_events_sender_id" in indexes  # Rasa's index on the conversation id, as before


async def test_a_turn_that_failed_before_saving_leaves_no_trace(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    await say(cached, "parent", "what is jdm")
    await say(cached, "parent", "is it catching")
    broken = await cached.retrieve("parent")
    assert broken is not None
    broken.update(UserUttered("never saved"))  # the server failed mid-turn
    tracker = await cached.retrieve("parent")
    assert tracker is not None and texts(tracker) == ["what is jdm", "is it catching"]


async def test_a_new_session_is_read_back_as_rasa_reads_it(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db")
    await say(cached, "parent", "what is jdm")
    tracker = await say(cached, "parent", "is it catching")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    await cached.save(tracker)
    after = await say(cached, "parent", "hello again")
    assert texts(after) == ["hello again"]  # only the latest session, as SQLTrackerStore gives it
    assert await stored_texts(tmp_path / "t.db", "parent") == ["hello again"]


async def test_it_keeps_at_most_cache_size_conversations(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db", cache_size=2)
    for sender in ("a", "b", "c"):
        await say(cached, sender, f"first from {sender}")
        await say(cached, sender, f"second from {sender}")
    assert sorted(cached._kept) == ["b", "c"]
    tracker = await say(cached, "a", "third from a")  # dropped from memory, still in the database
    assert texts(tracker) == ["first from a", "second from a", "third from a"]


async def test_cache_size_zero_keeps_nothing_and_loses_nothing(tmp_path: Path) -> None:
    cached = store(tmp_path / "t.db", cache_size=0)
    for text in ("one", "two", "three"):
        await say(cached, "parent", text)
    assert not cached._kept
    assert await stored_texts(tmp_path / "t.db", "parent") == ["one", "two", "three"]


@pytest.mark.parametrize("wrong", [-1, "many", 2.5, True])
def test_a_wrong_cache_size_is_refused_with_the_reason(tmp_path: Path, wrong: object) -> None:
    with pytest.raises(ValueError, match="cache_size must be a whole number"):
        CachedSQLTrackerStore(DOMAIN, cache_size=wrong, dialect="sqlite", db=str(tmp_path / "t.db"))  # type: ignore[arg-type]


def test_the_newest_event_id_comes_from_the_senders_rows_in_postgresql() -> None:
    """A clinic's table grows for years: finding a conversation's newest event must not grow with it."""
    cached = postgresql_tracker_store(
        CachedSQLTrackerStore, "jdm_store_test", "TRACKER STORE NOT TESTED ON POSTGRESQL", domain=DOMAIN
    )
    try:
        # 400 conversations of 125 events, like a few weeks of a clinic's traffic.
        rows = [event_row(f"other-{n % 400}", ActionExecuted("action_listen")) for n in range(50_000)]
        with cached.engine.begin() as connection:
            connection.execute(cached.SQLEvent.__table__.insert(), rows)
        # Only the table's owner, the administrator, may gather its statistics (the assistant's role may not).
        analyze_as_administrator("jdm_store_test", "events")
        with cached.engine.begin() as connection:
            plan = "\n".join(
                row[0]
                for row in connection.execute(sa.text(f"EXPLAIN {cached._last_id_sql.text}"), {"sender_id": "new"})
            )
            naive = "\n".join(
                row[0]
                for row in connection.exec_driver_sql("EXPLAIN SELECT max(id) FROM events WHERE sender_id = 'new'")
            )
        assert "ix_events_sender_id" in plan and "events_pkey" not in plan, plan
        assert "events_pkey" in naive  # the plan a plain max(id) gets: a walk along the whole table
        assert asyncio.run(cached.retrieve("new")) is None
        assert cached._last_event_id("other-7") == max(n for n in range(50_000) if n % 400 == 7) + 1
    finally:
        cached.engine.dispose()


def start_rasa_store(db: Path, ready: Any) -> None:
    """A Rasa process starting its tracker store once all are ready; exit code 1 if Rasa logged an error."""
    errors: List[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = errors.append  # type: ignore[method-assign]
    logging.getLogger("rasa.core.tracker_store").addHandler(handler)
    ready.wait(timeout=30)
    store(db)
    sys.exit(1 if any(record.levelno >= logging.ERROR for record in errors) else 0)


def test_rasa_processes_starting_together_on_a_new_database_create_its_tables_without_an_error(
    tmp_path: Path,
) -> None:
    """`make run` starts two Rasa processes at once on a fresh clone: no ERROR in the log on the first day.

    Without the lock, four processes on a new file clashed in about half the
    tries here; six tries make a miss unlikely.
    """
    fork = multiprocessing.get_context("fork")
    for attempt in range(6):
        db = tmp_path / f"tracker-{attempt}.db"
        ready = fork.Barrier(4)
        processes = [fork.Process(target=start_rasa_store, args=(db, ready)) for _ in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0, 0, 0, 0], f"try {attempt + 1}"
        assert sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone() == (0,)
