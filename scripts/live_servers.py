"""Start the action server and the Rasa server on free ports, as `make run` does.

One copy for the live pytest tests (tests/conftest.py) and the end-to-end
evaluation (scripts/evaluate.py), so both measure the assistant the same way.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Return once `url` answers at all; fail early if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers, even if not with a page
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextmanager
def running_servers(model: Path, workdir: Path, web: bool = True) -> Iterator[Dict[str, str]]:
    """The trained `model` served with its own sqlite tracker store in `workdir`.

    Yields the base URLs {"rasa": ..., "actions": ...} and "web" (the chat page)
    when `web` is true; logs are left in `workdir`. Servers stop on exit.
    """
    ports = {name: free_port() for name in ["rasa", "actions"] + (["web"] if web else [])}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: \"{urls['actions']}/webhook\"\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: \"{workdir / 'tracker.db'}\"\n"
    )
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    # `python -m rasa`: the `rasa` console script may belong to another venv (copied venvs).
    rasa = [sys.executable, "-m", "rasa"]
    commands = {
        "actions": [*rasa, "run", "actions", "--actions", "actions", "--port", str(ports["actions"])],
        "rasa": [
            *rasa,
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--port",
            str(ports["rasa"]),
            "--interface",
            "127.0.0.1",
        ],
    }
    if web:
        commands["rasa"] += ["--cors", urls["web"]]
        commands["web"] = [
            sys.executable,
            "-m",
            "http.server",
            str(ports["web"]),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(ROOT / "web"),
        ]
    processes: Dict[str, subprocess.Popen] = {}
    with ExitStack() as logs:
        try:
            for name, command in commands.items():
                log = logs.enter_context(open(workdir / f"{name}.log", "w"))
                processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            wait_for(f"{urls['actions']}/health", processes["actions"])
            wait_for(f"{urls['rasa']}/", processes["rasa"], timeout=240)
            if web:
                wait_for(urls["web"] + "/", processes["web"])
            yield urls
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def say(rasa_url: str, sender: str, message: str) -> List[Dict[str, Any]]:
    """Send one message to the REST channel and return the bot's messages."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())
