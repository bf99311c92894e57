"""Measure `make run`: time to the first answer, training time, server memory.

    .venv/bin/python scripts/measure_startup.py            # model already trained
    .venv/bin/python scripts/measure_startup.py --retrain  # delete the model first

Starts `make run` exactly as a person would (default ports must be free),
asks "hello" over the REST channel until an answer comes, reads the Rasa
server's resident memory from /proc, then stops everything with SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
REST = "http://127.0.0.1:5005/webhooks/rest/webhook"


def first_answer() -> bool:
    body = json.dumps({"sender": f"measure-{time.time()}", "message": "hello"}).encode()
    request = urllib.request.Request(REST, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return bool(json.loads(response.read()))
    except OSError:
        return False


def rasa_server_rss_mb() -> Optional[float]:
    """Resident memory of the `rasa run --model` process (not the action server)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        args = [part.decode(errors="replace") for part in cmdline]
        if any(a.endswith("rasa") for a in args[:2]) and "run" in args and "--model" in args:
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retrain", action="store_true", help="delete the trained model first")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    if args.retrain:
        (ROOT / "models" / "jdm.tar.gz").unlink(missing_ok=True)
        shutil.rmtree(ROOT / "models" / "spacy", ignore_errors=True)

    start = time.monotonic()
    trained_at: List[float] = []
    run = subprocess.Popen(
        ["make", "run"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )

    def watch_output() -> None:
        for line in run.stdout or ():
            if "Your Rasa model is trained" in line:
                trained_at.append(time.monotonic())

    threading.Thread(target=watch_output, daemon=True).start()
    try:
        while not first_answer():
            if run.poll() is not None:
                print(f"make run exited with {run.returncode}", file=sys.stderr)
                return 1
            if time.monotonic() - start > args.timeout:
                print("no answer before the timeout", file=sys.stderr)
                return 1
            time.sleep(0.5)
        answered = time.monotonic() - start
        time.sleep(2)
        rss = rasa_server_rss_mb()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)

    print(f"make run -> first answer: {answered:.1f} s ({'with' if args.retrain else 'without'} training)")
    if trained_at:
        print(f"  of which setup + spaCy pipeline + training: {trained_at[0] - start:.1f} s")
    print(f"Rasa server RSS after start: {rss:.0f} MB" if rss else "Rasa server RSS: not found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
