"""Reading the tracker store's events read-only, while the assistant keeps running.

The report needs a few fields of a few event kinds: the parent's text, entities
and intent, the actions that ran, the responses and contact cards sent, and
the `topic` and `support_need` slots. The database extracts just those from
each row's JSON (SQLite's json_extract, PostgreSQL's jsonb path operators):
parsing the whole stored event in Python, 2.7 KB for a parent's message, was
most of the time on a large store.

Rows are read in id ranges, each in a short read of its own, so a SQLite
writer (the Rasa server saving a turn) never waits long behind the report;
nothing is written (SQLite opened with mode=ro, PostgreSQL in read-only
transactions). Rows written after the report began are left out. A
conversation deleted while the report was reading (the parent's "delete",
`make purge`) is dropped from the figures at the end.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Set

import sqlalchemy as sa

# Event kinds the report reads; the rest (featurization, session starts, follow-up markers) say nothing it shows.
KINDS = ("user", "bot", "action", "slot")
ROWS_PER_READ = 50_000


class Row(NamedTuple):
    """One event, with only the fields the report reads (None where the kind has no such field)."""

    sender_id: str
    kind: str
    timestamp: float
    intent: Optional[str]  # user: the intent NLU gave (after the triage step)
    action: Optional[str]  # action: its name
    text: Optional[str]  # user: what the parent wrote; bot: the text of a message sent without a response name
    entities: Optional[str]  # user: the entities, as JSON text
    response: Optional[str]  # bot: the domain response sent (metadata.utter_action)
    organisation: Optional[str]  # bot: the organisation on a contact card (metadata.org_name)
    slot: Optional[str]  # slot: its name
    value: Optional[str]  # slot: its value, as text


# (column, event kind it is read for, path in the event's JSON)
_FIELDS = (
    ("text", None, ("text",)),
    ("entities", "user", ("parse_data", "entities")),
    ("response", "bot", ("metadata", "utter_action")),
    ("organisation", "bot", ("metadata", "org_name")),
    ("slot", "slot", ("name",)),
    ("value", "slot", ("value",)),
)


def _json_path(dialect: str, path: Sequence[str]) -> str:
    if dialect == "sqlite":
        return "json_extract(data, '$." + ".".join(path) + "')"
    if dialect == "postgresql":
        return "(data::jsonb #>> '{" + ",".join(path) + "}')"
    raise ValueError(f"the report reads SQLite or PostgreSQL tracker stores, not {dialect}")


def _select(dialect: str, actions: Sequence[str]) -> sa.sql.elements.TextClause:
    columns = []
    for name, kind, path in _FIELDS:
        expression = _json_path(dialect, path)
        if name == "text":
            # A bot message sent by response name needs no text: answers are long, and only
            # the texts of messages sent as plain text are compared ("did you mean").
            response = _json_path(dialect, ("metadata", "utter_action"))
            expression = (
                f"CASE WHEN type_name = 'user' OR (type_name = 'bot' AND {response} IS NULL) THEN {expression} END"
            )
        elif kind:
            expression = f"CASE WHEN type_name = '{kind}' THEN {expression} END"
        columns.append(f"{expression} AS {name}")
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    wanted = ", ".join(f":action_{i}" for i in range(len(actions))) or "NULL"
    return sa.text(
        f"SELECT sender_id, type_name, timestamp, intent_name, action_name, {', '.join(columns)} FROM events "
        f"WHERE id > :low AND id <= :high AND timestamp >= :since AND type_name IN ({kinds}) "
        f"AND (type_name <> 'action' OR action_name IN ({wanted})) ORDER BY id"
    )


@dataclass
class EventStore:
    """A read-only connection to a Rasa SQL tracker store (SQLite or PostgreSQL)."""

    engine: sa.engine.Engine

    @classmethod
    def open(cls, settings: Dict[str, Any]) -> EventStore:
        """From SQLTrackerStore's settings (dialect, host, port, db, username, password), read-only."""
        dialect = str(settings.get("dialect") or "sqlite")
        if dialect == "sqlite":
            path = Path(str(settings.get("db") or "rasa.db")).resolve()
            if not path.exists():
                raise FileNotFoundError(f"{path}: no conversations stored yet (the assistant creates it)")
            return cls(sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
        from rasa.core.tracker_store import SQLTrackerStore

        url = SQLTrackerStore.get_db_url(
            dialect,
            settings.get("host"),
            settings.get("port"),
            str(settings.get("db") or "rasa"),
            settings.get("username"),
            settings.get("password"),
        )
        options = {"options": "-c default_transaction_read_only=on"} if dialect == "postgresql" else {}
        return cls(sa.create_engine(url, connect_args=options))

    @property
    def dialect(self) -> str:
        return str(self.engine.dialect.name)

    def rows(self, since: float, actions: Sequence[str]) -> Iterator[Row]:
        """Events from `since` on, oldest first, of the kinds the report reads; of actions, only `actions`.

        The next id range is read in a second thread while this one's rows are
        used: the database does its part (the JSON) while Python does its own.
        """
        query = _select(self.dialect, actions)
        names = {f"action_{i}": name for i, name in enumerate(actions)}
        with self.engine.connect() as connection:
            newest = connection.execute(sa.text("SELECT max(id) FROM events")).scalar() or 0

        def read(low: int) -> List[Any]:
            with self.engine.connect() as connection:
                result = connection.execute(
                    query, {"low": low, "high": min(low + ROWS_PER_READ, newest), "since": since, **names}
                )
                return result.cursor.fetchall()  # the driver's plain tuples: SQLAlchemy's rows cost seconds here

        with ThreadPoolExecutor(1) as reader:
            lows = iter(range(0, newest, ROWS_PER_READ))
            pending = [reader.submit(read, low) for low in itertools.islice(lows, 2)]
            while pending:
                found = pending.pop(0).result()
                pending += [reader.submit(read, low) for low in itertools.islice(lows, 1)]
                for values in found:
                    yield Row(*values)

    def senders(self) -> Set[str]:
        """The conversations stored now: one deleted while the report read is not counted."""
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}

    def close(self) -> None:
        self.engine.dispose()
