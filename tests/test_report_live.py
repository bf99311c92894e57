"""The report reads what the running assistant really stores, while it keeps running.

Parents' conversations go through the live servers (the trained model, the
action server, the SQLite store as `make run` has it). The report then reads
that store with the servers still up, and the figures of these conversations
are checked: the events the report reads are the assistant's own, not only
the ones clinic_report/demo.py writes for the other tests.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Dict, List

import pytest

from clinic_report.build import build_report
from clinic_report.store import EventStore
from conftest import say
from live_servers import Servers

CONVERSATIONS: Dict[str, List[str]] = {
    "answers": ["hello", "what does the JDM rash look like?", "why?", "what is methotrexate?", "thank you"],
    "unanswered": ["can my son go on the school ski trip in february", "bye"],
    "support": ["i need support"],
    "triage": ["my son can't breathe", "she has a fever of 39 and is on methotrexate", "i want to end it all"],
    "forgotten": ["what is jdm", "please delete my conversation", "yes"],
}


@pytest.fixture(scope="module")
def talked(live_servers: Servers) -> Dict[str, str]:
    """Each conversation sent through the REST channel; their sender ids."""
    senders = {name: f"report-{name}-{uuid.uuid4()}" for name in CONVERSATIONS}
    for name, messages in CONVERSATIONS.items():
        for message in messages:
            say(live_servers["rasa"], senders[name], message)
    return senders


def only(db: Path, senders: List[str], copy: Path) -> Path:
    """A copy of the live store holding only these conversations (other tests talk to the same servers)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as live, sqlite3.connect(copy) as mine:
        schema = live.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        mine.execute(schema)
        marks = ", ".join("?" for _ in senders)
        rows = live.execute(f"SELECT * FROM events WHERE sender_id IN ({marks}) ORDER BY id", senders).fetchall()
        mine.executemany(f"INSERT INTO events VALUES ({', '.join('?' for _ in rows[0])})", rows)
    return copy


def test_the_report_reads_the_live_store_while_the_assistant_runs(
    live_servers: Servers, talked: Dict[str, str]
) -> None:
    store = EventStore.open({"dialect": "sqlite", "db": str(live_servers.workdir / "tracker.db")})
    try:
        summary = build_report(store, 1)
    finally:
        store.close()
    assert summary["totals"]["conversations"] >= len(CONVERSATIONS) - 1
    assert say(live_servers["rasa"], f"report-after-{uuid.uuid4()}", "what is jdm")  # still answering


def test_figures_of_real_conversations(live_servers: Servers, talked: Dict[str, str], tmp_path: Path) -> None:
    copy = only(live_servers.workdir / "tracker.db", list(talked.values()), tmp_path / "mine.db")
    store = EventStore.open({"dialect": "sqlite", "db": str(copy)})
    try:
        summary = build_report(store, 1, now=time.time() + 60)
    finally:
        store.close()
    assert summary["totals"] == {"conversations": 4, "messages": 11}  # the forgotten one is gone
    answers = summary["answers"]
    assert (answers["answered"], answers["not_covered"], answers["questions"]) == (4, 1, 5)
    assert {t["topic"]: t["count"] for t in summary["topics"]} == {"rash": 2, "steroid_sparing": 2}
    assert {t["term"]: t["count"] for t in summary["terms"]} == {"methotrexate": 2}
    assert summary["triage"] == {"emergency": 1, "crisis": 1, "urgent": 1, "soon": 0}
    assert summary["handoffs"]["total"] == 1 and summary["handoffs"]["by_need"][0]["need"] == "not_stated"
    assert {o["organisation"] for o in summary["handoffs"]["by_organisation"]} >= {"nord"}
    assert summary["endings"] == {"thanks": 1, "goodbye": 1, "handoff": 1, "silence_after_did_you_mean": 0, "other": 1}
    assert summary["unanswered"]["questions"] == 1
