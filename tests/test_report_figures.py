"""The clinic's report (`make report`): every figure of the JSON from a store of known conversations.

The same conversations go into a SQLite store and a PostgreSQL one (the two
profiles' stores); the report must give the same figures from both, leave
out what is older than DAYS and what was deleted (even while it read), and
show no sender id and nothing that identifies a family.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa

from clinic_report.build import build_report
from clinic_report.demo import EventRow, Recorder, Turns, write_rows
from clinic_report.page import render
from clinic_report.settings import load_report_settings
from clinic_report.store import EventStore, Row
from conftest import ROOT, fresh_database
from jdm_content.knowledge import load_topics
from production import Settings, tracker_store_args

DAY = 86400.0
NOW = time.mktime((2026, 6, 15, 12, 0, 0, 0, 0, -1))  # noon, local time
SKI_TRIP = "can my son go on the school ski trip"
PLANTED = ["Okafor", "07700 900123", "Priya Raman"]


def at(days_ago: float) -> float:
    return NOW - days_ago * DAY


def conversation(sender: str, days_ago: float, script: Any) -> List[EventRow]:
    recorder = Recorder(sender, at(days_ago))
    recorder.start()
    script(Turns(recorder))
    return recorder.rows


def known_conversations() -> Dict[str, List[EventRow]]:
    """Six conversations in the last 30 days, one older, one the parent deletes."""
    return {
        "family-alpha-0001": conversation(
            "family-alpha-0001",
            1,
            lambda t: (
                t.greet(),
                t.faq("what does the rash look like", "rash"),
                t.follow_up("why?"),
                t.term("what is methotrexate", "drug", "methotrexate"),
                t.small_talk("thank you", "thank"),
            ),
        ),
        "family-bravo-0002": conversation(
            "family-bravo-0002",
            1,
            lambda t: (
                t.faq("does she need sun cream with a fever", "sun_protection", care_note="urgent"),
                t.not_covered(SKI_TRIP),
                t.small_talk("bye", "goodbye"),
            ),
        ),
        "family-charlie-03": conversation("family-charlie-03", 2, lambda t: t.did_you_mean(SKI_TRIP + "?")),
        "family-delta-0004": conversation(
            "family-delta-0004",
            2,
            lambda t: (
                t.not_covered("Can my son go on the  school ski trip"),
                t.support("we need support from other families", "uk", "families"),
            ),
        ),
        "family-echo-00005": conversation(
            "family-echo-00005",
            3,
            lambda t: (
                t.emergency("he can't breathe"),
                t.crisis("i can't go on"),
                t.faq(
                    "why lower steroids slowly, she is more tired",
                    "steroid_taper",
                    care_note="soon",
                    terms=[("drug", "prednisolone")],
                ),
            ),
        ),
        "family-foxtrot-06": conversation(
            "family-foxtrot-06",
            3,
            lambda t: (
                t.did_you_mean("asdf"),
                t.fallback_again("what about the thing Dr Okafor said, call me on 07700 900123"),
            ),
        ),
        "family-golf-00007": conversation("family-golf-00007", 40, lambda t: t.faq("what is jdm", "what_is_jdm")),
        "family-hotel-0008": conversation(
            "family-hotel-0008",
            1,
            lambda t: (t.not_covered("my daughter Priya Raman needs a letter"), t.small_talk("thanks", "thank")),
        ),
    }


EXPECTED: Dict[str, Any] = {
    "totals": {"conversations": 6, "messages": 16},
    "answers": {"questions": 10, "answered": 5, "fallback": 1, "not_covered": 2, "did_you_mean": 2, "answer_rate": 0.5},
    "topics": [
        {"topic": "rash", "title": "The rash", "count": 2},
        {"topic": "steroid_sparing", "title": "Steroid-sparing medicines", "count": 1},
        {"topic": "steroid_taper", "title": "Lowering steroids", "count": 1},
        {"topic": "sun_protection", "title": "Sun protection", "count": 1},
    ],
    "terms": [
        {"term": "methotrexate", "kind": "drug", "name": "methotrexate", "count": 1},
        {"term": "prednisone", "kind": "drug", "name": "prednisone", "count": 1},
    ],
    "triage": {"emergency": 1, "crisis": 1, "urgent": 1, "soon": 1},
    "handoffs": {
        "total": 1,
        "by_organisation": [
            # A UK family who wants other families gets the parents' groups (issue 22, item 4).
            {"organisation": "cure_jm", "name": "Cure JM Foundation", "count": 1},
            {"organisation": "myositis_support_group_uk", "name": "Myositis Support Group (UK)", "count": 1},
            {"organisation": "myositis_association", "name": "The Myositis Association", "count": 1},
        ],
        "by_need": [{"need": "families", "name": "meeting other families", "count": 1}],
    },
    "endings": {"thanks": 1, "goodbye": 1, "handoff": 1, "silence_after_did_you_mean": 1, "other": 2},
}


def fill(engine: sa.engine.Engine) -> None:
    write_rows(engine, iter(known_conversations().values()))


class DeletedWhileReading(EventStore):
    """A store whose conversation "family-hotel-0008" is deleted (the parent's Delete) after its rows were read."""

    def rows(self, since: float, actions: Any) -> Iterator[Row]:
        yield from super().rows(since, actions)
        with self.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'family-hotel-0008'"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dict[str, Any]]:
    """The known conversations in a fresh store of each profile's kind, made with Rasa's own tables."""
    from rasa.core.tracker_store import SQLTrackerStore

    if request.param == "sqlite":
        settings: Dict[str, Any] = {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    else:
        profile = Settings.from_env(dict(os.environ, JDM_PROFILE="production", DB_NAME="jdm_report_test"))
        fresh_database(profile, "REPORT NOT TESTED ON POSTGRESQL")
        settings = tracker_store_args(profile)
    store = SQLTrackerStore(**settings)
    fill(store.engine)
    store.engine.dispose()
    yield settings


def writable(settings: Dict[str, Any]) -> DeletedWhileReading:
    """The store as the report opens it, but able to delete (the report itself only reads)."""
    from rasa.core.tracker_store import SQLTrackerStore

    return DeletedWhileReading(SQLTrackerStore(**settings).engine)


@pytest.fixture(scope="module")
def encoder() -> Iterator[Any]:
    from clinic_report.grouping import SentenceEncoder

    made = SentenceEncoder()
    yield made
    made.close()


def report(settings: Dict[str, Any], encoder: Any, min_group_size: Optional[int] = None) -> Dict[str, Any]:
    chosen = load_report_settings()
    if min_group_size is not None:
        chosen = type(chosen)(**{**chosen.__dict__, "min_group_size": min_group_size})
    store = writable(settings)
    try:
        return build_report(store, 30, now=NOW, settings=chosen, encoder=encoder)
    finally:
        store.close()


def test_every_figure_of_the_json(store_settings: Dict[str, Any], encoder: Any) -> None:
    summary = report(store_settings, encoder)
    for key, expected in EXPECTED.items():
        assert summary[key] == expected, key
    days = {day["date"]: (day["conversations"], day["messages"]) for day in summary["per_day"]}
    assert len(days) == 31  # the 30 days before noon today and today itself
    day = lambda ago: time.strftime("%Y-%m-%d", time.localtime(at(ago)))  # noqa: E731
    assert {d: v for d, v in days.items() if v != (0, 0)} == {day(1): (2, 8), day(2): (2, 3), day(3): (2, 5)}
    assert summary["period"]["days"] == 30


def test_near_duplicate_questions_are_one_group_and_small_groups_only_counts(
    store_settings: Dict[str, Any], encoder: Any
) -> None:
    unanswered = report(store_settings, encoder)["unanswered"]
    assert unanswered["questions"] == 5  # 3 ski trips, "asdf", the fallback; the deleted family's not at all
    assert [(g["count"], [w["text"] for w in g["wordings"]]) for g in unanswered["groups"]] == [(3, [SKI_TRIP])]
    assert unanswered["groups"][0]["nearest_topic"] in load_topics()
    assert (unanswered["small_groups"], unanswered["questions_in_small_groups"]) == (2, 2)
    text = json.dumps(unanswered)
    assert "asdf" not in text and "consultant" not in text


def test_the_clinic_can_show_small_groups_masked(store_settings: Dict[str, Any], encoder: Any) -> None:
    groups = report(store_settings, encoder, min_group_size=1)["unanswered"]["groups"]
    wordings = sorted(w["text"] for g in groups for w in g["wordings"])
    assert wordings == ["asdf", SKI_TRIP, "what about the thing dr [name] said, call me on [phone]"]


def test_no_sender_id_nor_identifier_reaches_the_json_or_the_page(store_settings: Dict[str, Any], encoder: Any) -> None:
    summary = report(store_settings, encoder, min_group_size=1)
    for text in (json.dumps(summary), render(summary)):
        for secret in [*known_conversations(), *PLANTED, "family-"]:
            assert secret not in text


def test_the_report_only_reads(tmp_path: Path, encoder: Any) -> None:
    """SQLite opened read-only: the report cannot change the store, even by mistake."""
    from rasa.core.tracker_store import SQLTrackerStore

    settings = {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    fill(SQLTrackerStore(**settings).engine)
    store = EventStore.open(settings)
    with pytest.raises(sa.exc.OperationalError, match="readonly"), store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events"))
    summary = build_report(store, 30, now=NOW, encoder=encoder)
    assert summary["totals"]["conversations"] == 7  # nothing deleted: the hotel family counts here


def run_report(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("days", ["", "abc", "0", "-3", "1.5"])
def test_a_bad_number_of_days_is_refused(days: str) -> None:
    result = run_report("--days", days)
    assert result.returncode == 2 and "error: DAYS must be" in result.stderr


def test_make_report_passes_days_and_demo() -> None:
    def dry(*args: str) -> str:
        return subprocess.run(
            ["make", "-n", "report", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    assert 'scripts/report.py --days "30"' in dry()
    assert 'scripts/report.py --days "7" --demo' in dry("DAYS=7", "DEMO=1")
    help_text = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "make report" in help_text


def test_the_command_writes_the_page_and_the_json(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    db = tmp_path / "tracker.db"
    fill(SQLTrackerStore(dialect="sqlite", db=str(db)).engine)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n')
    out = tmp_path / "results"
    # 400 days: the test's conversations sit around a fixed date.
    result = run_report("--days", "400", "--endpoints", str(endpoints), "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "report.json").read_text())
    assert summary["totals"]["conversations"] == 8
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "What families asked" in page
    assert 'src="http' not in page and 'href="http' not in page and "<script" not in page
