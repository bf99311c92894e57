"""Rasa's SQL tracker store, keeping recent conversations in memory between turns.

For every message Rasa's SQLTrackerStore reads the whole conversation back
from the database and replays it event by event into a new tracker, then
counts the stored events again to know which ones to write: together about a
third of the Rasa server's time per message (README, Performance). This store
keeps the tracker it handed out (a new conversation's from its first save)
and, at the next turn, gives it back instead, but only after asking the
database for the conversation's newest event id: if anything else wrote to or
deleted from the conversation since (another Rasa server, the widget's Delete
button, `make purge`), or a turn failed before it was saved, the tracker is
read from the database as Rasa would.
The database stays the only record; the cache holds at most `cache_size`
conversations and is never written to on its own.

The two statements of every turn (the newest event id, and the new events
written with it) run as plain SQL on a pooled connection: through the ORM
session Rasa uses they cost more than the work they do (README, Performance).
The rows are the ones Rasa's own store writes.

On SQLite two things keep a deleted conversation deleted: the events table
has AUTOINCREMENT, so row ids are never handed out again (a kept copy cannot
match a later conversation's newest id), and `secure_delete` is on, so the
deleted rows' bytes are overwritten in the file.

Its database errors never quote the values of a statement (no message text,
no conversation id in the log): see `engine_hiding_parameters`.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import sqlite3
from collections import OrderedDict
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    saved: int  # how many of tracker.events the database holds
    last_id: Optional[int]  # the conversation's newest event id in the database then


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with the last `cache_size` conversations' trackers kept, checked on every read."""

    def __init__(self, domain: Optional[Domain] = None, cache_size: int = 256, **kwargs: Any) -> None:
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 0:
            raise ValueError(f"tracker_store cache_size must be a whole number of 0 or more, not {cache_size!r}")
        with tables_created_one_process_at_a_time(kwargs):
            super().__init__(domain, **kwargs)
            self.engine = engine_hiding_parameters(self.engine)  # type: ignore[has-type]  # untyped in Rasa
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            ids_never_reused(self.engine, self.SQLEvent.__table__)
        wipe_deleted_rows(self.engine)
        self._cache_size = cache_size
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._events = self.SQLEvent.__table__
        # `id + 0`: for max(id) PostgreSQL walks the primary key backwards until a row of this
        # sender turns up, the whole table for a new conversation (26 ms at 100,000 events,
        # growing with the table). Over `id + 0` it takes the sender's rows from their index.
        self._last_id_sql = sa.text(f"SELECT max(id + 0) FROM {self._events.name} WHERE sender_id = :sender_id")
        self._written_since_sql = sa.text(
            f"SELECT count(*) FROM {self._events.name} WHERE sender_id = :sender_id AND id > :after"
        )

    def _last_event_id(self, sender_id: Text, connection: Optional[sa.engine.Connection] = None) -> Optional[int]:
        if connection is None:
            with self.engine.connect() as connection:
                return self._last_event_id(sender_id, connection)
        return connection.execute(self._last_id_sql, {"sender_id": sender_id}).scalar()

    def _insert(self, sender_id: Text, events: List[Event], kept_last_id: Optional[int]) -> Optional[int]:
        """Write `events` in one transaction; the conversation's newest event id after it, or None
        when another writer came between (then the tracker is not kept).

        Rasa calls it holding the conversation's lock, but a lock can expire in a long turn: the
        ids are compared, and the rows counted, in the same transaction as the insert. Another
        server's rows written since this tracker was read (its newest id then was `kept_last_id`),
        or between this transaction's first read and its insert, make it not this tracker's to keep.
        """
        with self.engine.begin() as connection:
            before = self._last_event_id(sender_id, connection)
            if events:
                connection.execute(self._events.insert(), [event_row(sender_id, event) for event in events])
            written = connection.execute(self._written_since_sql, {"sender_id": sender_id, "after": before or 0})
            alone = before == kept_last_id and written.scalar() == len(events)
            return self._last_event_id(sender_id, connection) if alone else None

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The kept tracker if the database holds exactly what it held when kept; else Rasa's own read."""
        last_id = self._last_event_id(sender_id)
        kept = self._kept.get(sender_id)
        if kept is not None and kept.last_id == last_id and len(kept.tracker.events) == kept.saved:
            self._kept.move_to_end(sender_id)
            return kept.tracker
        self.evict(sender_id)
        if last_id is None:
            return None  # nothing stored: a new conversation, Rasa's own read would find nothing either
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            # Read after last_id: if another writer slipped in between, the ids differ next time and it is read again.
            self._keep(tracker, len(tracker.events), last_id)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        kept = self._kept.get(sender_id)
        if kept is not None and kept.tracker is tracker:
            stored, kept_last_id = kept.saved, kept.last_id
        elif self._last_event_id(sender_id) is None:
            stored, kept_last_id = 0, None  # a new conversation: every event is new
        else:
            self.evict(sender_id)  # another copy of this conversation was saved: read it back next time
            await super().save(tracker)
            return
        new_events = list(itertools.islice(tracker.events, stored, None))
        try:
            await self.stream_events(tracker)  # to the event broker, if any, as Rasa's save does
            last_id = self._insert(sender_id, new_events, kept_last_id)
        except BaseException:
            self.evict(sender_id)
            raise
        if last_id is None or any(isinstance(event, SessionStarted) for event in new_events):
            # Another writer came between (read it back next time), or a new session began: Rasa
            # reads only the latest session back, so keep nothing older than the database would give.
            self.evict(sender_id)
        else:
            self._keep(tracker, len(tracker.events), last_id)

    def _keep(self, tracker: DialogueStateTracker, saved: int, last_id: Optional[int]) -> None:
        if not self._cache_size:
            return
        self._kept[tracker.sender_id] = _Kept(tracker, saved, last_id)
        self._kept.move_to_end(tracker.sender_id)
        while len(self._kept) > self._cache_size:
            self._kept.popitem(last=False)

    def evict(self, sender_id: Text) -> None:
        """Forget the kept tracker of `sender_id` (the conversation was deleted, or is read again)."""
        self._kept.pop(sender_id, None)


def engine_hiding_parameters(engine: sa.engine.Engine) -> sa.engine.Engine:
    """`engine`'s database, through an engine whose errors leave out the statement's values.

    SQLAlchemy quotes the bound values (a parent's message, the conversation id)
    in every database error, and Rasa logs those errors at ERROR level (a busy
    SQLite, a PostgreSQL restart). Rasa builds its engine in
    SQLTrackerStore.__init__ with no way to pass `hide_parameters`, so the store
    swaps it for one that has it; creating the tables before needed no values. The new engine also checks a
    pooled connection before using it (one `SELECT 1` a checkout).
    """
    url = engine.url
    engine.dispose()
    # pool_pre_ping: a pooled connection the database ended (a restart, a failover) is replaced when next taken,
    # instead of failing the next turn on each process (tests/test_chaos.py restarts PostgreSQL mid-run).
    return sa.create_engine(url, hide_parameters=True, pool_pre_ping=True, **create_engine_kwargs(url))


@contextmanager
def tables_created_one_process_at_a_time(settings: Dict[str, Any]) -> Iterator[None]:
    """Rasa creates its tables as the store starts: for a SQLite file, one process at a time.

    The default profile's Rasa processes start together; on a new file both saw
    no table, both created it, and one logged an ERROR (table events already
    exists). A lock on a file beside the database makes the second one find the table.
    PostgreSQL needs none: the production profile creates the tables before any server starts.
    """
    database = settings.get("db", "rasa.db")  # Rasa's own default
    if settings.get("dialect", "sqlite") != "sqlite" or not database or database == ":memory:":
        yield
        return
    beside = Path(database).with_name(Path(database).name + ".starting")
    beside.parent.mkdir(parents=True, exist_ok=True)
    with open(beside, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def ids_never_reused(engine: sa.engine.Engine, events: sa.Table) -> None:
    """SQLite: rebuild the events table with AUTOINCREMENT if it has none (once per database file).

    Without it SQLite gives a new row the largest id + 1, so after a deleted
    conversation's rows were the newest, the next rows get their ids again and
    another process's kept copy of the deleted conversation matches the
    database's newest id once more: the deleted words would be served again.
    PostgreSQL's sequence never hands out an id twice.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    rebuilt = sa.Table(
        f"{events.name}_rebuilt",
        sa.MetaData(),
        *(sa.Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key) for c in events.columns),
        sqlite_autoincrement=True,
    )
    columns = ", ".join(c.name for c in events.columns)
    with closing(sqlite3.connect(database, isolation_level=None)) as db:  # BEGIN and COMMIT are ours
        if not needs_autoincrement(db, events.name):
            return  # every start but the first: no write lock taken
        db.execute("PRAGMA secure_delete = ON")  # the old table's pages are freed
        db.execute("BEGIN IMMEDIATE")
        try:
            if not needs_autoincrement(db, events.name):  # another process rebuilt it meanwhile
                db.execute("COMMIT")
                return
            db.execute(str(sa.schema.CreateTable(rebuilt).compile(dialect=engine.dialect)))
            db.execute(f"INSERT INTO {rebuilt.name} ({columns}) SELECT {columns} FROM {events.name}")
            db.execute(f"DROP TABLE {events.name}")
            db.execute(f"ALTER TABLE {rebuilt.name} RENAME TO {events.name}")
            for index in events.indexes:
                db.execute(str(sa.schema.CreateIndex(index).compile(dialect=engine.dialect)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def needs_autoincrement(db: sqlite3.Connection, table: str) -> bool:
    """Whether `table` exists without AUTOINCREMENT."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return row is not None and "AUTOINCREMENT" not in row[0].upper()


def wipe_deleted_rows(engine: sa.engine.Engine) -> None:
    """SQLite: `PRAGMA secure_delete` on every connection of `engine`, so deleted rows are overwritten.

    Otherwise a forgotten or purged conversation's words stay in the file's
    free pages until SQLite happens to reuse them. SQLite's own default is off
    (Debian builds it on; other builds need the pragma).
    """
    if engine.dialect.name != "sqlite":
        return
    sa.event.listen(engine, "connect", _secure_delete_on)
    engine.dispose()  # connections opened before the listener (creating the tables) are not used again


def _secure_delete_on(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def event_row(sender_id: Text, event: Event) -> Dict[str, Any]:
    """The `events` row Rasa's SQLTrackerStore.save writes for `event`."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
