"""The profiles' log files rotate (daily and past a size) and go after their retention period, also by `make purge`.

scripts/log_files.py keeps every log file the profiles write (the servers'
output, nginx's access and error logs, the default profile's chat page log).
test_production_profile.py checks the running production profile's files.
"""

from __future__ import annotations

import calendar
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from log_files import LogFile, LogPolicy

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0


class Clock:
    """A clock the test moves on."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def lines(count: int, start: int = 0) -> List[bytes]:
    return [f"line {n} 203.0.113.5 GET /\n".encode() for n in range(start, start + count)]


def everything(path: Path) -> bytes:
    """The rotated files, oldest first, then the current one: the whole log."""
    return b"".join(p.read_bytes() for p in [*sorted(path.parent.glob(path.name + ".*")), path])


def test_a_log_past_its_size_is_set_aside_without_losing_a_line(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "rasa-1.log", LogPolicy(max_bytes=1000, retention_days=30))
    written = lines(200)
    log.follow(io.BytesIO(b"".join(written))).join(timeout=10)
    rotated = sorted(tmp_path.glob("rasa-1.log.*"))
    assert len(rotated) >= 5, "a 6 KB log with a 1000-byte limit"
    assert all(path.stat().st_size <= 1000 for path in [*rotated, tmp_path / "rasa-1.log"])
    assert everything(tmp_path / "rasa-1.log") == b"".join(written)


def test_a_new_day_starts_a_new_file(tmp_path: Path) -> None:
    clock = Clock(calendar.timegm((2026, 12, 6, 23, 59, 0)))
    log = LogFile(tmp_path / "web.log", LogPolicy(max_bytes=10**6, retention_days=30), clock=clock)
    log.write(b"before midnight\n")
    clock.now += 120
    log.write(b"after midnight\n")
    assert (tmp_path / "web.log").read_bytes() == b"after midnight\n"
    assert (tmp_path / "web.log.20261207-000100").read_bytes() == b"before midnight\n"


def test_rotating_deletes_what_is_past_its_retention_and_keeps_the_rest(tmp_path: Path) -> None:
    expired, recent = tmp_path / "nginx-access.log.20261101-000000", tmp_path / "nginx-access.log.20261110-000000"
    for path, days_old in ((expired, 31), (recent, 29)):
        path.write_text("203.0.113.5 [01/Nov/2026] POST /webhooks/rest/webhook 200\n")
        os.utime(path, (time.time() - days_old * DAY,) * 2)
    log = LogFile(tmp_path / "nginx-access.log", LogPolicy(max_bytes=10, retention_days=30))
    log.write(b"a first line past the limit\n")
    log.write(b"a second one: the first is set aside\n")
    assert not expired.exists() and recent.exists()


def test_a_log_deleted_while_written_is_started_again(tmp_path: Path) -> None:
    path = tmp_path / "actions.log"
    log = LogFile(path, LogPolicy(max_bytes=10**6, retention_days=30))
    log.write(b"before\n")
    path.unlink()  # as make purge does to a file last written long ago
    log.write(b"after\n")
    assert path.read_bytes() == b"after\n"


def run_purge(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`make purge`'s script on an empty SQLite store, with the log files under tmp_path/var."""
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{tmp_path / "none.db"}"\n')
    command = [sys.executable, str(ROOT / "scripts" / "purge.py"), "--days", "7", "--endpoints", str(endpoints)]
    return subprocess.run(
        [*command, "--logs", str(tmp_path / "var")],
        cwd=ROOT,
        env={**os.environ, "JDM_PROFILE": "default", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("retention, kept", [("", ["web.log", "production/rasa-1.log.20261120-000000"]), ("5", [])])
def test_make_purge_deletes_log_files_past_their_retention(tmp_path: Path, retention: str, kept: List[str]) -> None:
    ages = {  # days since each was last written
        "web.log": 10,
        "web.log.20261001-000000": 40,
        "production/rasa-1.log.20261120-000000": 17,
        "production/nginx-access.log": 31,
    }
    for name, days_old in {**ages, "production/db-password": 90, "tracker.db": 90}.items():
        path = tmp_path / "var" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("203.0.113.5 [01/Oct/2026] GET / 200\n")
        os.utime(path, (time.time() - days_old * DAY,) * 2)
    result = run_purge(tmp_path, JDM_LOG_RETENTION_DAYS=retention)
    assert result.returncode == 0, result.stderr
    left = sorted(str(p.relative_to(tmp_path / "var")) for p in (tmp_path / "var").rglob("*") if p.is_file())
    assert left == sorted([*kept, "production/db-password", "tracker.db"]), "only log files, only past retention"
    days = retention or "30"
    assert (
        f"deleted {len(ages) - len(kept)} log file(s) under {tmp_path / 'var'} last written over {days} day(s) ago"
        in (result.stdout)
    )


def test_a_wrong_retention_is_refused_and_nothing_is_deleted(tmp_path: Path) -> None:
    old = tmp_path / "var" / "web.log"
    old.parent.mkdir()
    old.write_text("x\n")
    os.utime(old, (time.time() - 90 * DAY,) * 2)
    result = run_purge(tmp_path, JDM_LOG_RETENTION_DAYS="a month")
    assert result.returncode == 2 and "JDM_LOG_RETENTION_DAYS must be a whole number of at least 1" in result.stderr
    assert old.exists()


def test_the_writer_the_default_profile_uses_rotates_its_input(tmp_path: Path) -> None:
    # scripts/run.sh pipes the chat page's output through it into var/web.log.
    written = b"".join(lines(20000))  # about 600 KB
    writer = [sys.executable, str(ROOT / "scripts" / "log_files.py"), str(tmp_path / "web.log")]
    subprocess.run(writer, input=written * 2, env={**os.environ, "JDM_LOG_MAX_MB": "1"}, check=True, timeout=60)
    assert len(list(tmp_path.glob("web.log.*"))) == 1
    assert everything(tmp_path / "web.log") == written * 2

    check = [sys.executable, str(ROOT / "scripts" / "log_files.py"), "--check"]
    refused = subprocess.run(check, env={**os.environ, "JDM_LOG_MAX_MB": "0"}, capture_output=True, text=True)
    assert refused.returncode == 1 and "JDM_LOG_MAX_MB must be a whole number of at least 1, not '0'" in refused.stderr
