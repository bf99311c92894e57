"""Retention: delete conversations whose last event is older than N days (`make purge DAYS=N`).

Conversations are about children's health: a clinic keeps them no longer than
it must. Works on the tracker store of the profile in use: SQLite
(var/tracker.db, endpoints.yml) by default, PostgreSQL with
JDM_PROFILE=production (endpoints.production.yml, DB_* settings). A
conversation with any event newer than the cut-off is kept whole.

The logs under var/ go too, by their own retention period
(JDM_LOG_RETENTION_DAYS, 30 days unless set): every log file, current or
rotated, last written before it (scripts/log_files.py). They hold no parent's
words, but addresses and times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from log_files import LogPolicy, LogSettingError, remove_old_logs  # noqa: E402

from production import ROOT  # noqa: E402
from profile_store import StoreError, endpoints_path, sql_store_settings, sqlite_file_missing  # noqa: E402

SECONDS_PER_DAY = 86400


class PurgeError(Exception):
    """Purging cannot go ahead; the message says why."""


def parse_days(raw: str) -> int:
    """N must be a whole number of days, at least 1: 0 or less would delete conversations still going on."""
    try:
        days = int(raw.strip())
    except ValueError:
        raise PurgeError(
            f"DAYS must be a whole number of days, at least 1 (make purge DAYS=30), not '{raw}'."
        ) from None
    if days < 1:
        raise PurgeError(f"DAYS must be at least 1, not {days}: a smaller value would delete today's conversations.")
    return days


def purge(endpoints: Path, days: int, dry_run: bool = False, now: Optional[float] = None) -> List[str]:
    """Delete (unless `dry_run`) every conversation whose last event is older than `days`; return their ids."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from components.cached_tracker_store import wipe_deleted_rows

    settings = sql_store_settings(endpoints, "purging")
    if sqlite_file_missing(settings):
        return []  # nothing stored yet; opening the store would create an empty file
    store = SQLTrackerStore(**settings)
    wipe_deleted_rows(store.engine)  # SQLite: the purged words do not stay in the file's free pages
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    old = sa.text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff")
    try:
        # One transaction: a conversation that gets a new event meanwhile is re-checked by the DELETE.
        with store.engine.begin() as connection:
            senders = sorted(row[0] for row in connection.execute(old, {"cutoff": cutoff}))
            if senders and not dry_run:
                connection.execute(
                    sa.text(
                        "DELETE FROM events WHERE sender_id IN "
                        "(SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff)"
                    ),
                    {"cutoff": cutoff},
                )
    finally:
        store.engine.dispose()
    return senders


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", required=True, help="delete conversations whose last event is older than this")
    parser.add_argument("--endpoints", help="endpoints file (default: the profile's, see JDM_PROFILE)")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    parser.add_argument("--logs", default=str(ROOT / "var"), help="where the profiles' log files are (default: var/)")
    args = parser.parse_args(argv)
    try:
        days = parse_days(args.days)
        log_days = LogPolicy.from_env(os.environ).retention_days
        endpoints = endpoints_path(args.endpoints).resolve()
        os.chdir(ROOT)  # endpoints.yml names the SQLite file relative to the project
        senders = purge(endpoints, days, dry_run=args.dry_run)
    except (PurgeError, StoreError, LogSettingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logs = remove_old_logs(Path(args.logs), log_days, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(senders)} conversation(s) whose last event is older than {days} day(s).")
    print(f"{verb} {len(logs)} log file(s) under {args.logs} last written over {log_days} day(s) ago.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
