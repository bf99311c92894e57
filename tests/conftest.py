"""Shared pytest fixtures: the domain, trackers for action tests, live servers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parent.parent
# JDM_MODEL lets a developer test a model trained elsewhere (rasa train --out).
MODEL = Path(os.environ.get("JDM_MODEL", ROOT / "models" / "jdm.tar.gz"))
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: Optional[List[dict]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[dict]] = None,
    retrieval_intent: Optional[str] = None,
    sender_id: str = "test-user",
) -> Tracker:
    """A tracker whose latest message is `text`, as the action server gets it."""
    latest: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    if retrieval_intent:
        base = retrieval_intent.split("/")[0]
        latest["response_selector"] = {
            base: {"response": {"intent_response_key": retrieval_intent,
                                "utter_action": f"utter_{retrieval_intent}"}}
        }
    return Tracker.from_dict({
        "sender_id": sender_id,
        "slots": slots or {},
        "latest_message": latest,
        "events": events or [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    })


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
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


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """The trained model served as `make run` does, on free ports.

    Yields the base URLs: {"rasa": ..., "actions": ..., "web": ...}.
    """
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    workdir = tmp_path_factory.mktemp("servers")
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: \"{urls['actions']}/webhook\"\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: \"{workdir / 'tracker.db'}\"\n"
    )
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    bin_dir = Path(sys.executable).parent
    logs = {name: open(workdir / f"{name}.log", "w") for name in ports}
    commands = {
        "actions": [str(bin_dir / "rasa"), "run", "actions", "--actions", "actions",
                    "--port", str(ports["actions"])],
        "rasa": [str(bin_dir / "rasa"), "run", "--model", str(MODEL),
                 "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml"),
                 "--port", str(ports["rasa"]), "--cors", urls["web"], "--interface", "127.0.0.1"],
        "web": [sys.executable, "-m", "http.server", str(ports["web"]),
                "--bind", "127.0.0.1", "--directory", str(ROOT / "web")],
    }
    processes = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT)
        for name, cmd in commands.items()
    }
    try:
        wait_for(f"{urls['actions']}/health", processes["actions"])
        wait_for(f"{urls['rasa']}/", processes["rasa"], timeout=240)
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
        for log in logs.values():
            log.close()


def say(rasa_url: str, sender: str, message: str) -> List[Dict[str, Any]]:
    """Send one message to the REST channel and return the bot's messages."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook", data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())
