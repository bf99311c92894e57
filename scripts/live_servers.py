"""Start the action server and the Rasa server on free ports, as `make run` does.

One copy for the live pytest tests (tests/conftest.py) and the end-to-end
evaluation (scripts/evaluate.py), so both measure the assistant the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
# What every server gets besides the caller's environment. One BLAS thread: a
# Rasa server answers one message at a time on the CPU, and OpenBLAS's idle
# workers spin after each small product, which doubled the server's CPU per
# message (README, Performance). Several servers use the cores instead.
SERVER_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1"}
# Rasa processes on the Rasa port (Sanic workers), as `make run` starts them (RASA_WORKERS in scripts/run.sh).
RASA_WORKERS = 2
RASA_READY = b"Rasa server is up and running"  # each worker logs it once its model is loaded


def action_server_env(env: Mapping[str, str]) -> Dict[str, str]:
    """Where the action server listens: 127.0.0.1 unless ACTION_SERVER_HOST says otherwise.

    It has no authentication, and rasa_sdk 3.6 (`rasa run actions` has no host
    option) binds SANIC_HOST, by default 0.0.0.0: every interface.
    """
    return {"SANIC_HOST": env.get("ACTION_SERVER_HOST") or "127.0.0.1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def two_free_ports() -> int:
    """A port p with p and p+1 free: the production profile puts its Rasa servers on consecutive ports."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


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


class Servers(Dict[str, str]):
    """The base URLs by name ("rasa", "actions", and "web" when served), plus a look inside.

    A dict, so `servers["rasa"]` is a URL as before; the methods give what an IT
    person would look at: each server's log, its memory, and a restart.
    """

    def __init__(self, urls: Dict[str, str], workdir: Path, commands: Dict[str, List[str]], env: Dict[str, str]):
        super().__init__(urls)
        self.workdir = workdir
        self.commands = commands
        self.env = env
        self.processes: Dict[str, subprocess.Popen] = {}
        self._log_start: Dict[str, int] = {}  # where each server's log of its latest start begins

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def log(self, name: str) -> str:
        """Everything server `name` has written so far (stdout and stderr)."""
        return self.log_path(name).read_text(encoding="utf-8", errors="replace")

    def start(self, name: str) -> None:
        self._log_start[name] = self.log_path(name).stat().st_size if self.log_path(name).exists() else 0
        with open(self.log_path(name), "a") as log:  # the child keeps its own copy of the file
            self.processes[name] = subprocess.Popen(
                self.commands[name], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, name: str) -> None:
        health = {"actions": "/health"}.get(name, "/")
        wait_for(self[name] + health, self.processes[name], timeout=240 if name == "rasa" else 120)
        if name == "rasa":
            self.wait_for_workers(name, int(self.env.get("SANIC_WORKERS") or 1))

    def wait_for_workers(self, name: str, workers: int, timeout: float = 240) -> None:
        """Return once each of the server's worker processes has loaded the model.

        The port answers as soon as the first one has; a SIGTERM while another is
        still loading would find it deaf to it (see stop_servers).
        """
        deadline = time.monotonic() + timeout
        while self.log_path(name).read_bytes()[self._log_start[name] :].count(RASA_READY) < workers:
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name}: not all {workers} worker processes started; see {self.log_path(name)}")
            time.sleep(0.2)

    def stop(self, name: str) -> None:
        stop_servers([self.processes[name]])

    def restart(self, name: str) -> None:
        """Stop server `name` (SIGTERM) and start it again on the same port with the same stores."""
        self.stop(name)
        self.start(name)
        self.wait_ready(name)

    def rss_mb(self, name: str) -> float:
        """Resident memory of server `name` and its worker processes together, in MB, as `top` shows it."""
        pid = self.processes[name].pid
        return sum(proc_status_mb(each, "VmRSS") or 0.0 for each in [pid, *child_pids(pid)])


def proc_status_mb(pid: int, key: str) -> Optional[float]:
    """A memory figure of /proc/<pid>/status (VmRSS now, VmHWM the peak) in MB; None once gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child_pids(pid: int) -> List[int]:
    """The processes `pid` started (a Rasa server's Sanic workers), from /proc."""
    children = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return sorted(children)


def stop_servers(processes: Iterable[subprocess.Popen], timeout: float = 20) -> None:
    """SIGTERM to each; SIGKILL after `timeout` s for a server still running, and for its worker processes.

    A Sanic worker still loading the model runs the SIGTERM handler it inherited
    from Sanic's main process, which does not stop it, and the main process waits for it.
    """
    running = [process for process in processes if process.poll() is None]
    workers = {process.pid: child_pids(process.pid) for process in running}
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for pid in workers[process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.kill()
            process.wait()


def served_endpoints(
    actions_url: str, tracker_db: Path, tracker_store: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """`make run`'s endpoints.yml with this action server and tracker store, so tests measure what runs.

    `tracker_store` replaces settings of the store (a PostgreSQL database instead of the SQLite file).
    """
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"{actions_url}/webhook"
    endpoints["tracker_store"]["db"] = str(tracker_db)
    endpoints["tracker_store"].update(tracker_store or {})
    endpoints["lock_store"]["path"] = str(tracker_db.with_name("conversation.locks"))
    return endpoints


@contextmanager
def running_servers(
    model: Path,
    workdir: Path,
    web: bool = True,
    env: Optional[Dict[str, str]] = None,
    tracker_store: Optional[Dict[str, Any]] = None,
) -> Iterator[Servers]:
    """The trained `model` served with its own sqlite tracker store in `workdir`.

    Yields the base URLs {"rasa": ..., "actions": ...} and "web" (the chat page)
    when `web` is true; logs are left in `workdir`. Servers stop on exit.
    `env` adds to the environment `make run` gives the servers; `tracker_store`
    replaces settings of the tracker store (see served_endpoints).
    """
    ports = {name: free_port() for name in ["rasa", "actions"] + (["web"] if web else [])}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump(served_endpoints(urls["actions"], workdir / "tracker.db", tracker_store)))
    server_env = {**os.environ, **SERVER_ENV, "SANIC_WORKERS": str(RASA_WORKERS), **(env or {})}
    server_env.update(action_server_env(server_env))
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
        # The page may talk to any local port: the browser tests also point the widget at a closed one.
        commands["web"] = [
            sys.executable,
            str(ROOT / "scripts" / "web_server.py"),
            str(ports["web"]),
            "--bind",
            "127.0.0.1",
            "--rasa",
            "http://127.0.0.1:*",
        ]
    servers = Servers(urls, workdir, commands, server_env)
    try:
        for name in commands:
            servers.log_path(name).write_text("")
            servers.start(name)
        for name in commands:
            servers.wait_ready(name)
        yield servers
    finally:
        stop_servers(servers.processes.values())


def send_with_id(rasa_url: str, sender: str, message: str, message_id: str, timeout: float = 120) -> Tuple[int, Any]:
    """POST one message with its id, as the widget sends it (and sends it again on Retry):
    the HTTP status and the JSON answer, an error status included."""
    body = json.dumps({"sender": sender, "message": message, "message_id": message_id}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


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
