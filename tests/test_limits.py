"""Limits and least privilege (issue 23, items 5 and 6): who can reach what, and how much of it.

The action server has no authentication, so it listens on loopback unless
ACTION_SERVER_HOST says otherwise; checked by knocking on this machine's own
non-loopback address while it runs.

The Rasa server's own limits (channels/http_limits.py, channels/guarded_rest.py)
are checked on a running server given short settings: a client sending its
request slowly is cut off at the deadline, a connection over the cap is refused,
and a conversation over its turns is closed with the clinic's contact while its
stored events stay exactly as they were.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from conftest import MODEL, ROOT, accepts, free_port, non_loopback_address, say, trickle
from jdm_content.clinic import load_clinic
from live_servers import SERVER_ENV, Servers, action_server_env, running_servers, stop_servers, wait_for
from production import ENDPOINTS, NGINX, Settings, nginx_config


@pytest.fixture
def action_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """An action server started as the launchers start it, with the environment the test gives; yields its port."""
    env: Dict[str, str] = {**os.environ, **SERVER_ENV, **request.param}
    env.update(action_server_env(env))
    port = free_port()
    with open(tmp_path / "actions.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "actions", "--actions", "actions", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process)
        yield port
    finally:
        stop_servers([process])


@pytest.mark.parametrize("action_server", [{}], indirect=True)
def test_the_action_server_answers_only_on_loopback(action_server: int) -> None:
    assert accepts("127.0.0.1", action_server)
    assert not accepts(non_loopback_address(), action_server), "the action server is reachable from the network"


@pytest.mark.parametrize("action_server", [{"ACTION_SERVER_HOST": "0.0.0.0"}], indirect=True)
def test_action_server_host_opens_it_where_asked(action_server: int) -> None:
    # A container whose Rasa server is in another container needs this (deploy/docker-compose.yml).
    assert accepts(non_loopback_address(), action_server)


@pytest.mark.parametrize("password", ["", "s3cret-from-the-environment"])
def test_the_redis_password_reaches_the_lock_store(password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """endpoints.production.yml read as a Rasa server reads it, with the environment the profile gives it."""
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    for name, value in Settings.from_env({"REDIS_PASSWORD": password}).server_env().items():
        monkeypatch.setenv(name, value)
    store = LockStore.create(read_endpoint_config(str(ENDPOINTS), "lock_store"))
    assert store.red.connection_pool.connection_kwargs["password"] == password
    if not password:
        assert store.red.ping(), "no password: this machine's Redis, which has none"


def test_a_wrong_redis_password_stops_the_profile_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "production.py"), "--prepare"],
        cwd=ROOT,
        env=dict(os.environ, REDIS_PASSWORD="not-the-password"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error: Redis at 127.0.0.1:6379 refused the password in REDIS_PASSWORD" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def image_references(node: Any) -> Iterator[str]:
    """Every image a compose file or Helm values name: `image:` strings, and repository + tag pairs."""
    if isinstance(node, dict):
        if isinstance(node.get("image"), str):
            yield node["image"]
        if "tag" in node:
            yield f"{node.get('repository') or node.get('name')}:{node['tag']}"
        for value in node.values():
            yield from image_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from image_references(value)


def deploy_yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / "deploy" / name).read_text())


def test_every_image_is_pinned() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    compose, helm = deploy_yaml("docker-compose.yml"), deploy_yaml("helm/values.yaml")
    images = [*bases, *image_references(compose), *image_references(helm)]
    assert len(images) >= 8, images
    for image in images:
        # Our own image's tag is required from whoever builds it (a ${VARIABLE:?...} without default).
        pinned = re.fullmatch(r"([^:$]+):(\$\{\w+:\?.*\}|[\w.-]+)", image)
        assert pinned, f"{image}: no tag"
        tag = pinned.group(2)
        assert "latest" not in tag and (re.search(r"\d", tag) or tag.startswith("${")), f"{image}: not pinned"


def test_the_image_leaves_out_secrets_conversations_and_results() -> None:
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    for private in (".env", "var", "results", ".venv", "**/*.db", "models/*"):
        assert private in ignored, f"{private} would be copied into the image"
    # What answering needs comes back in after models/*, and the model itself is in it.
    needed = {"!models/jdm.tar.gz", "!models/triage", "!models/spacy", "!models/minilm"}
    assert needed <= set(ignored)
    assert set(re.findall(r"models/[\w./-]+", (ROOT / "config.yml").read_text())) and all(
        any(path.startswith(entry[1:]) for entry in needed)
        for path in re.findall(r"models/[\w./-]+", (ROOT / "config.yml").read_text())
    ), "a model config.yml needs is left out of the image"


def literal_passwords(node: Any, path: str = "") -> Iterator[str]:
    """Keys naming a password whose value is written in the file (not a ${VARIABLE} or a secret)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            named = "password" in str(key).lower() and not str(key).endswith("Key")  # not a secret's key name
            if named and isinstance(value, str) and value and not value.startswith("${"):
                yield f"{where}={value}"
            yield from literal_passwords(value, where)
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from literal_passwords(value, f"{path}[{number}]")


def test_helm_has_no_default_password_and_takes_them_from_secrets() -> None:
    values = deploy_yaml("helm/values.yaml")
    assert not list(literal_passwords(values))
    # Blank, so the chart's public defaults ("password", "redis-password") are overridden, not inherited.
    assert values["global"]["postgresql"]["postgresqlPassword"] == "" and values["global"]["redis"]["password"] == ""
    assert values["global"]["postgresql"]["existingSecret"] and values["redis"]["auth"]["existingSecret"]
    assert values["redis"]["existingSecret"] == values["redis"]["auth"]["existingSecret"]
    assert values["applicationSettings"]["endpoints"]["lockStore"]["password"] == "${REDIS_PASSWORD}"
    compose = deploy_yaml("docker-compose.yml")
    assert not list(literal_passwords(compose))
    assert "--requirepass" in compose["services"]["redis"]["command"]
    assert "REDIS_PASSWORD" in compose["services"]["rasa"]["environment"]


def test_helms_nginx_keeps_the_profiles_limits(tmp_path: Path) -> None:
    configuration = deploy_yaml("helm/values.yaml")["nginx"]["customConfiguration"]
    helm = configuration["rasa.nginx.conf"]
    rendered = nginx_config(Settings.from_env({}), tmp_path)
    for directive in ("client_max_body_size", "limit_req ", "limit_req_zone", "limit_conn_zone", "limit_conn "):
        line = next(x.strip() for x in rendered.splitlines() if x.strip().startswith(directive))
        assert line in helm, f"Helm's nginx differs from the profile's: {line}"
    extra_env = {entry["name"]: entry["value"] for entry in deploy_yaml("helm/values.yaml")["extraEnv"]}
    assert f"client_max_body_size {extra_env['JDM_MAX_BODY_BYTES']};" in helm, "nginx and Rasa disagree on body size"
    # nginx itself accepts the pair, as the sidecar mounts them.
    (tmp_path / "rasa.nginx.conf").write_text(helm)
    main = configuration["nginx.conf"].replace("/etc/nginx/conf.d/*.nginx.conf", str(tmp_path / "rasa.nginx.conf"))
    (tmp_path / "nginx.conf").write_text(main)
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()


# Short limits, so each check takes seconds. One Rasa process: the connection cap is per process.
REQUEST_SECONDS, MAX_CONNECTIONS, MAX_TURNS = 2, 4, 3
SHORT_LIMITS = {
    "JDM_REQUEST_SECONDS": str(REQUEST_SECONDS),
    "JDM_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "JDM_MAX_TURNS": str(MAX_TURNS),
    "SANIC_WORKERS": "1",
}
ALARM = re.compile(r"\b(ERROR|WARNING|CRITICAL)\b|Traceback")
# What the busy-database test below makes the server log, on purpose.
DATABASE_FAULT = re.compile(r"database is locked|sqlite3\.OperationalError|The conversation store or its lock failed")
WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The assistant served as `make run` does, with the short limits above."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    with running_servers(MODEL, tmp_path_factory.mktemp("limited"), web=False, env=SHORT_LIMITS) as servers:
        yield servers
        lines = servers.log("rasa").splitlines()
        assert not [line for line in lines if ALARM.search(line) and not DATABASE_FAULT.search(line)]


def rasa_port(servers: Servers) -> int:
    return int(servers["rasa"].rsplit(":", 1)[1])


SLOW_HEAD = (b"", b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 400)
SLOW_BODY = (
    b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Content-Length: 400\r\n\r\n",
    json.dumps({"sender": "slow-client-1", "message": "x" * 360}).encode().ljust(400),
)


@pytest.mark.parametrize("at_once, slowly", [SLOW_HEAD, SLOW_BODY], ids=["head", "body"])
def test_a_client_sending_its_request_slowly_is_cut_off_at_the_deadline(
    limited: Servers, at_once: bytes, slowly: bytes
) -> None:
    # Two bytes a second: each byte would restart Sanic's own timeout, so without the deadline this runs for minutes.
    elapsed, answer = trickle(rasa_port(limited), at_once, slowly)
    assert REQUEST_SECONDS - 0.5 < elapsed < REQUEST_SECONDS + 8, f"cut off after {elapsed:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert say(limited["rasa"], f"after-slow-{uuid.uuid4()}", "hello"), "the server stopped answering"


def test_the_deadline_is_per_request_so_a_kept_alive_connection_carries_the_next_message(limited: Servers) -> None:
    """The widget's browser keeps its connection between messages: waiting longer than the deadline is fine."""
    sender = f"keepalive-{uuid.uuid4()}"
    connection = http.client.HTTPConnection("127.0.0.1", rasa_port(limited), timeout=60)
    try:
        statuses, sockets = [], []
        for text in ("hello", "what is jdm?"):
            body = json.dumps({"sender": sender, "message": text})
            connection.request("POST", WEBHOOK, body, {"Content-Type": "application/json"})
            reply = connection.getresponse()
            statuses.append(reply.status)
            assert json.loads(reply.read())
            sockets.append(connection.sock)
            time.sleep(REQUEST_SECONDS + 1)  # under Sanic's 5 s keep-alive
        assert statuses == [200, 200]
        assert sockets[0] is sockets[1] is not None, "the connection was not kept between messages"
    finally:
        connection.close()


def test_a_connection_over_the_cap_is_refused_with_503_until_one_closes(limited: Servers) -> None:
    port, sender = rasa_port(limited), f"cap-{uuid.uuid4()}"
    # Connections that send nothing: Sanic keeps them for its 5 s keep-alive.
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as refused:
            say(limited["rasa"], sender, "hello")
        assert refused.value.code == 503
        assert refused.value.headers["Retry-After"].isdigit()
        assert json.loads(refused.value.read())["error"] == "busy"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    while True:
        try:
            assert say(limited["rasa"], sender, "hello")
            break
        except urllib.error.HTTPError as error:
            assert error.code == 503 and time.monotonic() < deadline, "still refused after the connections closed"
            time.sleep(0.2)


def post(rasa: str, body: Dict[str, Any]) -> List[Dict[str, Any]]:
    request = urllib.request.Request(
        rasa + WEBHOOK, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def stored(servers: Servers, sender: str) -> List[Tuple[int, str, str]]:
    with sqlite3.connect(servers.workdir / "tracker.db") as db:
        return db.execute(
            "SELECT id, type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def test_a_conversation_past_its_turns_ends_politely_with_the_clinics_contact_and_keeps_what_it_had(
    limited: Servers,
) -> None:
    rasa, sender = limited["rasa"], f"turns-{uuid.uuid4()}"
    questions = ["hello", "what is jdm?", "how is jdm treated?"]
    assert len(questions) == MAX_TURNS
    ids = [f"message-{number}-{sender}" for number in range(MAX_TURNS)]
    answers = [post(rasa, {"sender": sender, "message": questions[n], "message_id": ids[n]}) for n in range(MAX_TURNS)]
    assert all(answers)
    before = stored(limited, sender)

    clinic = load_clinic()
    for extra in ("can my child go in the sun?", "hello?"):
        closing = texts(post(rasa, {"sender": sender, "message": extra}))
        assert "can't answer more messages" in closing and "Start over" in closing
        assert clinic.name in closing and clinic.phone in closing and clinic.hours in closing
    # Nothing lost and nothing added: the stored conversation is as it was after the last answered turn.
    assert stored(limited, sender) == before
    # A retry of the last answered message still gets its own answer, not the closing.
    assert post(rasa, {"sender": sender, "message": questions[-1], "message_id": ids[-1]}) == answers[-1]
    # The closing says Delete still works: it does, and the conversation then starts afresh.
    request = urllib.request.Request(
        rasa + "/webhooks/rest/forget",
        data=json.dumps({"sender": sender}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert json.loads(response.read()) == {"deleted": True}
    assert stored(limited, sender) == []
    assert "can't answer more messages" not in texts(post(rasa, {"sender": sender, "message": "hello"}))


def test_a_busy_database_asks_the_parent_to_try_again_and_the_retry_is_kept_once(limited: Servers) -> None:
    """A database that cannot be read or written: 'try again' in words (503), not an answer that is never stored.

    Rasa's own fallback answered from memory and kept the turn nowhere (a PostgreSQL restart lost messages that way,
    tests/test_chaos.py). The widget's Retry, with the same id, is answered once the database is free, and kept once.
    """
    sender = f"busy-{uuid.uuid4()}"
    assert post(limited["rasa"], {"sender": sender, "message": "hello"})
    before = stored(limited, sender)
    body = {"sender": sender, "message": "what is jdm?", "message_id": f"busy-message-{sender}"}
    blocker = sqlite3.connect(limited.workdir / "tracker.db", isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # no other connection may read or write the file now
        with pytest.raises(urllib.error.HTTPError) as refused:
            post(limited["rasa"], body)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert refused.value.code == 503
    error = json.loads(refused.value.read())
    assert error["error"] == "store_unavailable" and "try again" in error["message"]
    assert stored(limited, sender) == before  # nothing half-kept
    assert "JDM" in texts(post(limited["rasa"], body))  # the widget's Retry: same message, same id
    after = [json.loads(data) for _, kind, data in stored(limited, sender) if kind == "user"]
    assert [event["text"] for event in after] == ["hello", "what is jdm?"]
    assert "The conversation store or its lock failed (OperationalError" in limited.log("rasa")
