"""The clinic's report (`make report DAYS=N`): results/report.html and results/report.json.

Reads the tracker store of the profile in use, read-only and while the
assistant runs: SQLite (var/tracker.db) by default, PostgreSQL with
JDM_PROFILE=production. `--demo` (`make report DEMO=1`) first fills
var/demo/tracker.db with generated conversations and reports on that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from production import ROOT  # noqa: E402
from profile_store import StoreError, endpoints_path, sql_store_settings, sqlite_file_missing  # noqa: E402

DEMO_STORE = ROOT / "var" / "demo" / "tracker.db"
DEMO_CONVERSATIONS = 800


class ReportError(Exception):
    """The report cannot be made; the message says why."""


def parse_days(raw: str) -> int:
    try:
        days = int(raw.strip())
    except ValueError:
        raise ReportError(
            f"DAYS must be a whole number of days, at least 1 (make report DAYS=7), not '{raw}'."
        ) from None
    if days < 1:
        raise ReportError(f"DAYS must be at least 1, not {days}.")
    return days


def build_demo_store(path: Path, days: int, conversations: int = DEMO_CONVERSATIONS) -> None:
    """A fresh SQLite store of generated conversations, with the tables Rasa makes."""
    from rasa.core.tracker_store import SQLTrackerStore

    from clinic_report.demo import demo_rows, write_rows

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    store = SQLTrackerStore(dialect="sqlite", db=str(path))
    try:
        write_rows(store.engine, demo_rows(conversations, days, time.time()))
    finally:
        store.engine.dispose()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", default="30", help="the last N days (default 30)")
    parser.add_argument("--demo", action="store_true", help="report on generated demo conversations")
    parser.add_argument("--endpoints", help="endpoints file (default: the profile's, see JDM_PROFILE)")
    parser.add_argument("--out", default=str(ROOT / "results"), help="folder for report.html and report.json")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    started = time.monotonic()
    try:
        days = parse_days(args.days)
        os.chdir(ROOT)  # endpoints.yml names the SQLite file relative to the project
        sys.path.insert(0, str(ROOT))
        if args.demo:
            build_demo_store(DEMO_STORE, days)
            settings = {"dialect": "sqlite", "db": str(DEMO_STORE)}
        else:
            settings = sql_store_settings(endpoints_path(args.endpoints).resolve(), "the report")
            if sqlite_file_missing(settings):
                raise ReportError(f"{settings.get('db')}: no conversations stored yet. Try `make report DEMO=1`.")
        from clinic_report.build import build_report
        from clinic_report.page import render
        from clinic_report.store import EventStore

        store = EventStore.open(settings)
        try:
            summary = build_report(store, days)
        finally:
            store.close()
    except (ReportError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render(summary, demo=args.demo), encoding="utf-8")
    answers = summary["answers"]
    rate = "no questions" if answers["answer_rate"] is None else f"{answers['answer_rate'] * 100:.1f}% answered"
    print(
        f"{summary['totals']['conversations']} conversations, {answers['questions']} questions ({rate}) in the last "
        f"{days} days -> {out / 'report.html'} and report.json ({time.monotonic() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
