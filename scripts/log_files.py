"""The profiles' log files: rotated daily or past a size, and deleted after a retention period.

The logs hold no parent's words, but they do hold addresses and times (the
chat page's and nginx's access lines), so they must not pile up for ever.
Every log file a profile writes goes through `LogFile`: the servers write to a
pipe, and this process appends what comes out of it to `<name>.log`. At the
first line of a new day (UTC), or when the file would grow past
JDM_LOG_MAX_MB, the file is renamed `<name>.log.<YYYYmmdd-HHMMSS>` and a new
one started, with no line lost; rotated files older than
JDM_LOG_RETENTION_DAYS are then deleted. `make purge` deletes them too
(`remove_old_logs`), also when nothing is running.

Run as a script it copies its standard input to one such file (scripts/run.sh:
the default profile's chat page log, var/web.log), or with --check only checks the settings.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, List, Mapping, Optional

SECONDS_PER_DAY = 86400
# `<name>.log`, or a rotated copy of one: `<name>.log.20261207-021530` (a second one that second: `...-1`).
LOG_NAME = re.compile(r".+\.log(\.\d{8}-\d{6}(-\d+)?)?")


class LogSettingError(Exception):
    """A log setting is wrong; the message says which and why."""


@dataclass(frozen=True)
class LogPolicy:
    """When a log file is rotated and how long rotated files are kept (JDM_LOG_MAX_MB, JDM_LOG_RETENTION_DAYS)."""

    max_bytes: int
    retention_days: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogPolicy:
        return cls(
            max_bytes=_whole(env, "JDM_LOG_MAX_MB", 10) * 1024 * 1024,
            retention_days=_whole(env, "JDM_LOG_RETENTION_DAYS", 30),
        )


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise LogSettingError(f"{name} must be a whole number of at least 1, not '{raw}'.")
    return int(raw)


def day_of(timestamp: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(timestamp))


def remove_old_logs(directory: Path, days: int, now: Optional[float] = None, dry_run: bool = False) -> List[Path]:
    """Delete (unless `dry_run`) every log file under `directory` last written over `days` days ago; return them.

    A file a `LogFile` is still writing to is safe to delete: it starts a new
    one at its next line.
    """
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    removed = []
    for path in sorted(directory.rglob("*.log*")) if directory.is_dir() else []:
        try:
            if path.is_file() and LOG_NAME.fullmatch(path.name) and path.stat().st_mtime < cutoff:
                if not dry_run:
                    path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue  # removed meanwhile (another purge, a rotation)
    return removed


class LogFile:
    """One log file this process appends to, rotated daily (UTC) and past `policy.max_bytes`.

    Thread-safe; a file deleted under it (by `make purge`) is started again.
    """

    def __init__(self, path: Path, policy: LogPolicy, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.policy = policy
        self._clock = clock
        self.rotated: List[Path] = []  # what this object set aside, oldest first
        self._lock = threading.Lock()
        self._file: Optional[IO[bytes]] = None
        self._day = ""
        self._size = 0

    def write(self, data: bytes) -> None:
        with self._lock:
            now = self._clock()
            self._ensure_open(now)
            if self._size and (day_of(now) != self._day or self._size + len(data) > self.policy.max_bytes):
                self._rotate(now)
            if not self._size:
                self._day = day_of(now)
            assert self._file is not None
            self._file.write(data)
            self._file.flush()
            self._size += len(data)

    def rotate(self) -> Optional[Path]:
        """Set the current file aside now (if it holds anything); the rotated file's path."""
        with self._lock:
            return self._rotate(self._clock())

    def follow(self, stream: IO[bytes]) -> threading.Thread:
        """Append every line of `stream` (a server's output pipe) until it ends, in a thread of its own."""

        def copy() -> None:
            with stream:
                for line in iter(stream.readline, b""):
                    self.write(line)
            self.close()

        thread = threading.Thread(target=copy, name=f"log {self.path.name}", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _ensure_open(self, now: float) -> None:
        """The file open, and open again if it was deleted (by `make purge`) since."""
        if self._file is None or os.fstat(self._file.fileno()).st_nlink == 0:
            self._open(now)

    def _open(self, now: float) -> None:
        if self._file is not None:
            self._file.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "ab")  # noqa: SIM115 (kept open between lines; closed in close())
        status = os.fstat(self._file.fileno())
        self._size = status.st_size
        # A file left from an earlier run belongs to the day it was last written.
        self._day = day_of(status.st_mtime if status.st_size else now)

    def _rotate(self, now: float) -> Optional[Path]:
        self._ensure_open(now)
        if not self._size:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        target = self.path.with_name(f"{self.path.name}.{stamp}")
        number = 0
        while target.exists():
            number += 1
            target = self.path.with_name(f"{self.path.name}.{stamp}-{number}")
        os.rename(self.path, target)
        self.rotated.append(target)
        self._open(now)
        remove_old_logs(self.path.parent, self.policy.retention_days, now)
        return target


def main(argv: List[str]) -> int:
    if len(argv) != 1:
        print("usage: log_files.py <file.log>|--check  (copies standard input to the file, rotated)", file=sys.stderr)
        return 2
    try:
        policy = LogPolicy.from_env(os.environ)
    except LogSettingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if argv[0] != "--check":  # --check: only the settings, before anything starts
        LogFile(Path(argv[0]), policy).follow(sys.stdin.buffer).join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
