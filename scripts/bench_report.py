"""How long `make report` takes on a store of 100,000 conversations (`make bench-report`).

The goal (issue 24): under a minute on 2 cores. Fills var/bench-report/tracker.db
with generated conversations (clinic_report/demo.py: the events the assistant
writes, a month of them) once, keeps it for later runs, then runs
scripts/report.py on it as `make report` does, in a fresh process, and times
the whole run: start-up, reading, masking, grouping, writing the HTML. Writes
results/bench-report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STORE = ROOT / "var" / "bench-report" / "tracker.db"
GOAL_SECONDS = 60.0
DAYS = 30


def build_store(path: Path, conversations: int) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    from clinic_report.demo import demo_rows, write_rows

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    store = SQLTrackerStore(dialect="sqlite", db=str(path))
    try:
        # Ending a day ago leaves the store inside the report's 30 days for a while.
        write_rows(store.engine, demo_rows(conversations, DAYS - 2, time.time() - 86400, seed=100))
    finally:
        store.engine.dispose()


def stored_conversations(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(DISTINCT sender_id) FROM events").fetchone()[0])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="generate the store again")
    args = parser.parse_args(argv)
    if args.rebuild or stored_conversations(STORE) != args.conversations:
        print(f"==> Generating {args.conversations} conversations in {STORE} (once; a few minutes)", flush=True)
        started = time.monotonic()
        build_store(STORE, args.conversations)
        print(f"    done in {time.monotonic() - started:.0f} s", flush=True)
    endpoints = STORE.parent / "endpoints.yml"
    # The default profile's own store class, as `make report` reads endpoints.yml (importing it is part of the time).
    endpoints.write_text(
        "tracker_store:\n  type: components.cached_tracker_store.CachedSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{STORE}"\n',
        encoding="utf-8",
    )
    out = STORE.parent / "results"
    command = [
        sys.executable,
        str(ROOT / "scripts" / "report.py"),
        "--days",
        str(DAYS),
        "--endpoints",
        str(endpoints),
        "--out",
        str(out),
    ]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return done.returncode
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))
    result = {
        "conversations_stored": stored_conversations(STORE),
        "conversations_reported": summary["totals"]["conversations"],
        "messages": summary["totals"]["messages"],
        "unanswered_questions": summary["unanswered"]["questions"],
        "distinct_unanswered_wordings": summary["unanswered"].get("distinct_wordings"),
        "seconds": round(seconds, 1),
        "goal_seconds": GOAL_SECONDS,
        "cores": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "store_mb": round(STORE.stat().st_size / 1e6),
    }
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench-report.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    verdict = "under" if seconds < GOAL_SECONDS else "OVER"
    print(
        f"{result['conversations_reported']} conversations reported in {seconds:.1f} s: {verdict} the "
        f"{GOAL_SECONDS:.0f} s goal ({os.cpu_count()} cores, load {load_before:.1f} before)"
    )
    return 0 if seconds < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
