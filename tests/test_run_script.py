"""`make run`'s launcher: one foreground command that starts and stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from conftest import MODEL, accepts, free_port, non_loopback_address, port_in_use, ports_still_open, say, trickle

ROOT = Path(__file__).resolve().parent.parent


def launch(ports: Dict[str, int], **settings: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        RASA_PORT=str(ports["rasa"]),
        ACTIONS_PORT=str(ports["actions"]),
        WEB_PORT=str(ports["web"]),
        MODEL=str(MODEL),
        **settings,
    )
    return subprocess.Popen(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


class Output:
    """Collects a launcher's output in the background, so a failure can show all of it."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: List[str] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line)
            if "Open the chat page" in line:
                self.ready.set()

    def __str__(self) -> str:
        return "".join(self.lines)


def test_sigterm_stops_every_server_it_started() -> None:
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    process = launch(ports)
    output = Output(process)
    try:
        assert output.ready.wait(timeout=300), str(output)
        assert process.poll() is None, str(output)
        assert f"http://localhost:{ports['web']}" in str(output)
        # Sanic's main process and the two worker processes that answer (RASA_WORKERS, default 2).
        assert len(rasa_processes(ports["rasa"])) == 3, str(output)
        # The disclaimer comes from the action server: this proves Rasa reaches it.
        sender = f"run-script-{uuid.uuid4()}"
        replies = say(f"http://127.0.0.1:{ports['rasa']}", sender, "hello")
        assert any("not medical advice" in reply.get("text", "") for reply in replies), str(output)
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['web']}/", timeout=5) as page:
            assert page.status == 200
            # The widget may send messages to this Rasa server and nowhere else.
            rasa = f"http://localhost:{ports['rasa']} http://127.0.0.1:{ports['rasa']};"
            assert f"connect-src 'self' {rasa}" in page.headers["Content-Security-Policy"]
        # The action server (no authentication) is not reachable from the network.
        assert not accepts(non_loopback_address(), ports["actions"]), str(output)
        # Rasa's HTTP API is off by default: nobody can read conversations through it.
        assert http_status(f"http://127.0.0.1:{ports['rasa']}/conversations/{sender}/tracker") == 404
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not ports_still_open(ports)
    assert not rasa_processes(ports["rasa"])


def rasa_processes(port: int) -> List[int]:
    """The processes whose command line is a Rasa server on `port` (forked workers keep their parent's)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "--model" in args and any(a == "--port" and b == str(port) for a, b in zip(args, args[1:], strict=False)):
            found.append(int(proc.name))
    return found


def test_a_taken_port_is_reported_clearly() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        process = launch({"rasa": taken, "actions": free_port(), "web": free_port()})
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"port {taken} is already in use" in output


@pytest.mark.parametrize(
    "settings, complaint",
    [
        ({"RASA_ENABLE_API": "true"}, "needs RASA_AUTH_TOKEN"),
        ({"RASA_ENABLE_API": "true", "RASA_AUTH_TOKEN": "secret"}, "at least 16 characters"),
        ({"RASA_ENABLE_API": "perhaps"}, "must be true or false"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS must list the pages"),
        ({"RASA_WORKERS": "two"}, "RASA_WORKERS must be a whole number"),
        ({"RASA_WORKERS": "0"}, "RASA_WORKERS must be a whole number"),
    ],
)
def test_an_open_door_is_refused_before_anything_starts(settings: Dict[str, str], complaint: str) -> None:
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    process = launch(ports, **settings)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1 and complaint in output
    assert not [name for name, port in ports.items() if port_in_use(port)]


@pytest.fixture(scope="module")
def configured() -> Iterator[Dict[str, str]]:
    """`make run` with settings from the environment: the API on with a token, small message and turn limits."""
    ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
    token = uuid.uuid4().hex
    limits = {
        "JDM_MAX_MESSAGE_CHARS": "60",
        "JDM_MAX_BODY_BYTES": "3000",
        "JDM_MAX_TURNS": "2",
        "JDM_REQUEST_SECONDS": "3",
    }
    process = launch(ports, RASA_ENABLE_API="true", RASA_AUTH_TOKEN=token, **limits)
    output = Output(process)
    try:
        assert output.ready.wait(timeout=300), str(output)
        yield {"rasa": f"http://127.0.0.1:{ports['rasa']}", "token": token}
    finally:
        stop(process)


def test_with_the_api_switched_on_a_conversation_is_readable_only_with_the_token(configured: Dict[str, str]) -> None:
    rasa, token, sender = configured["rasa"], configured["token"], f"api-{uuid.uuid4()}"
    assert say(rasa, sender, "what does the jdm rash look like?")
    tracker = f"{rasa}/conversations/{sender}/tracker"
    assert http_status(tracker) == 401
    assert http_status(f"{tracker}?token={uuid.uuid4().hex}") == 401
    assert http_status(f"{rasa}/status") == 401
    with urllib.request.urlopen(f"{tracker}?token={token}", timeout=30) as response:
        events = json.loads(response.read())["events"]
    assert "what does the jdm rash look like?" in [e.get("text") for e in events if e["event"] == "user"]


def test_message_and_body_limits_come_from_the_environment(configured: Dict[str, str]) -> None:
    def status(body: dict) -> int:
        request = urllib.request.Request(
            f"{configured['rasa']}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    sender = f"limits-{uuid.uuid4()}"
    assert status({"sender": sender, "message": "x" * 60}) == 200
    assert status({"sender": sender, "message": "x" * 61}) == 422
    assert status({"sender": sender, "message": "hi", "padding": "x" * 3000}) == 413
    # Two messages stored (the refused ones are not): the third is answered with the closing.
    assert "can't answer more messages" not in " ".join(
        m.get("text", "") for m in say(configured["rasa"], sender, "hi")
    )
    assert "can't answer more messages" in " ".join(m.get("text", "") for m in say(configured["rasa"], sender, "hi"))
    # A request still arriving after 3 s is cut off.
    slow_head = b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 400
    elapsed, answer = trickle(int(configured["rasa"].rsplit(":", 1)[1]), b"", slow_head)
    assert elapsed < 3 + 8 and answer.startswith(b"HTTP/1.1 408"), (elapsed, answer[:80])
