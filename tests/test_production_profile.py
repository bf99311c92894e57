"""The production profile's own parts: settings, nginx's limits and balancing, and `make run`'s launcher.

nginx is tested in front of two stub upstreams (no model needed): bodies over
the limit get 413 before any server sees them, a client over its rate gets
429, requests alternate between the servers, and the chat page is served.
The launcher test starts the real profile (one Rasa server) through
scripts/run.sh and stops it with SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import yaml
from test_database_role import admin_execute, assert_least_privilege, profile_database_url

from conftest import (
    MODEL,
    accepts,
    free_port,
    fresh_database,
    non_loopback_address,
    port_in_use,
    ports_still_open,
    say,
    two_free_ports,
)
from live_servers import child_pids
from production import NGINX, ProfileError, Settings, nginx_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"RASA_SERVERS": "two"}, "RASA_SERVERS must be a whole number, not 'two'"),
        ({"RASA_SERVERS": "0"}, "RASA_SERVERS must be between 1 and 16"),
        ({"DB_PORT": "99999"}, "DB_PORT must be between 1 and 65535"),
        ({"DB_NAME": "jdm; drop"}, "DB_NAME must be letters, digits or '_'"),
        ({"DB_USER": "jdm user"}, "DB_USER must be letters, digits or '_'"),
        ({"DB_USER": "postgres"}, r"DB_USER \(postgres\) must be a role of its own, not the administrator"),
        ({"JDM_LOG_RETENTION_DAYS": "0"}, "JDM_LOG_RETENTION_DAYS must be a whole number of at least 1, not '0'"),
        ({"JDM_LOG_MAX_MB": "ten"}, "JDM_LOG_MAX_MB must be a whole number of at least 1, not 'ten'"),
        ({"JDM_REQUIRE_SIGNOFF": "maybe"}, "JDM_REQUIRE_SIGNOFF must be true or false, not 'maybe'"),
        ({"NGINX_TRUSTED_PROXIES": "10.0.0.1 proxy.example"}, "NGINX_TRUSTED_PROXIES must list IP addresses"),
    ],
)
def test_a_wrong_setting_is_named(env: Dict[str, str], complaint: str) -> None:
    with pytest.raises(ProfileError, match=complaint):
        Settings.from_env(env)


def test_defaults_are_the_local_postgresql_and_redis() -> None:
    settings = Settings.from_env({})
    assert (settings.db_host, settings.db_port, settings.db_user, settings.db_name) == ("127.0.0.1", 5432, "jdm", "jdm")
    assert settings.db_admin_user == "postgres"
    assert (settings.redis_host, settings.redis_port, settings.rasa_ports()) == ("127.0.0.1", 6379, [5005, 5006])


class Stub(BaseHTTPRequestHandler):
    """A Rasa server stand-in that says which one it is and counts what reaches it."""

    seen: List[Tuple[int, int]] = []
    # A message containing "slow" is answered only once this is set: a request in progress.
    released = threading.Event()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        port = self.server.server_address[1]
        Stub.seen.append((port, length))
        if b"slow" in body:
            Stub.released.wait(timeout=30)
        body = json.dumps([{"text": f"from {port}"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nginx_in_front_of_stubs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tuple[str, List[int]]]:
    """nginx rendered from the template before two stub servers; `request.param` adds settings."""
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"nginx is missing at {NGINX}: apt-get install nginx (make test-tools installs it)")
    first = two_free_ports()
    settings = Settings.from_env(
        {
            "RASA_PORT": str(first),
            "WEB_PORT": str(free_port()),
            "NGINX_RATE_PER_SECOND": "2",
            "NGINX_BURST": "4",
            "JDM_MAX_BODY_BYTES": "2048",
            **getattr(request, "param", {}),
        }
    )
    stubs = [ThreadingHTTPServer(("127.0.0.1", port), Stub) for port in settings.rasa_ports()]
    for stub in stubs:
        threading.Thread(target=stub.serve_forever, daemon=True).start()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(settings, tmp_path))
    assert "{{" not in conf.read_text()
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    # As the profile runs it: the access log on stdout, errors on stderr (the profile keeps both in rotated files).
    with open(tmp_path / "nginx-access.log", "ab") as access, open(tmp_path / "nginx-error.log", "ab") as errors:
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"], stdout=access, stderr=errors
        )
    url = f"http://127.0.0.1:{settings.web_port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", settings.web_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and nginx.poll() is None, "nginx did not start"
                time.sleep(0.1)
        Stub.seen = []
        Stub.released.clear()
        yield url, settings.rasa_ports()
    finally:
        Stub.released.set()
        nginx.terminate()
        nginx.wait(timeout=10)
        for stub in stubs:
            stub.shutdown()
            stub.server_close()


def post(url: str, body: bytes, path: str = "/webhooks/rest/webhook", forwarded_for: str = "") -> int:
    headers = {"Content-Type": "application/json", **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})}
    request = urllib.request.Request(f"{url}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def message(text: str) -> bytes:
    return json.dumps({"sender": f"nginx-{uuid.uuid4()}", "message": text}).encode()


def test_nginx_balances_limits_and_serves_the_page(nginx_in_front_of_stubs: Tuple[str, List[int]]) -> None:
    url, ports = nginx_in_front_of_stubs
    assert [post(url, message("hello")) for _ in range(2)] == [200, 200]
    assert sorted(port for port, _ in Stub.seen) == sorted(ports), "balanced: one request to each idle server"

    assert post(url, message("x" * 5000)) == 413
    assert len(Stub.seen) == 2, "a body over client_max_body_size must not reach a Rasa server"

    statuses = [post(url, message("hello")) for _ in range(12)]
    assert 429 in statuses and statuses[0] == 200, statuses

    with urllib.request.urlopen(f"{url}/", timeout=5) as page:
        assert b"jdm-chat.js" in page.read()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/webhooks/rest/", timeout=5)
    assert refused.value.code == 404


def test_nginx_passes_the_widgets_delete_request_on(nginx_in_front_of_stubs: Tuple[str, List[int]]) -> None:
    url, _ = nginx_in_front_of_stubs
    assert post(url, json.dumps({"sender": f"nginx-{uuid.uuid4()}"}).encode(), path="/webhooks/rest/forget") == 200
    assert len(Stub.seen) == 1, "the delete request must reach a Rasa server"
    assert post(url, b"{}", path="/webhooks/rest/forgetful") == 404


@pytest.mark.parametrize("nginx_in_front_of_stubs", [{"NGINX_CONNECTIONS_PER_CLIENT": "2"}], indirect=True)
def test_nginx_caps_the_requests_one_client_has_in_progress(nginx_in_front_of_stubs: Tuple[str, List[int]]) -> None:
    url, _ = nginx_in_front_of_stubs
    with ThreadPoolExecutor(max_workers=2) as pool:
        held = [pool.submit(post, url, message("slow")) for _ in range(2)]
        deadline = time.monotonic() + 10
        while len(Stub.seen) < 2:
            assert time.monotonic() < deadline, "the two slow requests never reached the servers"
            time.sleep(0.05)
        assert post(url, message("hello")) == 429, "a third request in progress from the same address"
        assert len(Stub.seen) == 2
        Stub.released.set()
        assert [future.result() for future in held] == [200, 200]
    assert post(url, message("hello")) == 200, "once the slow ones end, the client is served again"


def exhaust_then_ask(url: str, forwarded_for: str, other: str) -> int:
    """Exhaust one forwarded address's rate, then the status of one request forwarded for `other`."""
    statuses = [post(url, message("hello"), forwarded_for=forwarded_for) for _ in range(12)]
    assert 429 in statuses, statuses
    return post(url, message("hello"), forwarded_for=other)


@pytest.mark.parametrize("nginx_in_front_of_stubs", [{"NGINX_TRUSTED_PROXIES": "127.0.0.1"}], indirect=True)
def test_behind_a_trusted_proxy_each_parent_has_their_own_limits(
    nginx_in_front_of_stubs: Tuple[str, List[int]], tmp_path: Path
) -> None:
    url, _ = nginx_in_front_of_stubs
    assert exhaust_then_ask(url, "203.0.113.5", "203.0.113.6") == 200, "another parent behind the same proxy"
    assert "203.0.113.5 [" in (tmp_path / "nginx-access.log").read_text()


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(
    nginx_in_front_of_stubs: Tuple[str, List[int]], tmp_path: Path
) -> None:
    url, _ = nginx_in_front_of_stubs
    # Otherwise anyone could escape their limits by writing a new X-Forwarded-For each time.
    assert exhaust_then_ask(url, "203.0.113.5", "203.0.113.6") == 429
    assert "203.0.113.5" not in (tmp_path / "nginx-access.log").read_text()


def test_the_chat_page_is_served_with_security_headers(nginx_in_front_of_stubs: Tuple[str, List[int]]) -> None:
    url, _ = nginx_in_front_of_stubs
    with urllib.request.urlopen(f"{url}/", timeout=5) as page:
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self';" in policy and "unsafe" not in policy


def test_run_sh_refuses_an_unknown_profile() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=dict(os.environ, JDM_PROFILE="staging"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "JDM_PROFILE must be default or production" in result.stderr


def test_an_unreachable_redis_stops_the_profile_before_anything_starts() -> None:
    ports = {"RASA_PORT": two_free_ports(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
    env = dict(os.environ, JDM_PROFILE="production", REDIS_PORT="1", **{k: str(v) for k, v in ports.items()})
    result = subprocess.run(
        [str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "Redis at 127.0.0.1:1 did not answer" in result.stderr
    assert not [port for port in ports.values() if port_in_use(port)]


def test_a_clinic_that_requires_sign_off_is_refused_while_texts_are_unsigned() -> None:
    ports = {"RASA_PORT": two_free_ports(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
    env = dict(
        os.environ, JDM_PROFILE="production", JDM_REQUIRE_SIGNOFF="true", **{k: str(v) for k, v in ports.items()}
    )
    result = subprocess.run(
        [str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"Clinical sign-off: \d+ texts and triage rules signed, [1-9]\d* never signed", result.stderr)
    assert "JDM_REQUIRE_SIGNOFF=true: not starting" in result.stderr
    assert not [port for port in ports.values() if port_in_use(port)]


def test_the_production_profile_starts_answers_through_nginx_and_stops_on_sigterm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env({**os.environ, "DB_NAME": "jdm_profile_test"})
    fresh_database(settings, "PRODUCTION PROFILE NOT TESTED", with_redis=True)
    # The logs of an earlier run: the current one is set aside at start, a rotated one past its retention goes.
    logs = ROOT / "var" / "production"
    logs.mkdir(parents=True, exist_ok=True)
    earlier_run = f"an earlier run {uuid.uuid4()}\n"
    (logs / "actions.log").write_text(earlier_run)
    expired, recent = logs / "rasa-1.log.20200101-000000", logs / "rasa-1.log.20200102-000000"
    for path, days_old in ((expired, 31), (recent, 29)):
        path.write_text("old lines\n")
        os.utime(path, (time.time() - days_old * 86400,) * 2)
    ports = {"RASA_PORT": two_free_ports(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
    env = dict(
        os.environ,
        JDM_PROFILE="production",
        DB_NAME="jdm_profile_test",
        DB_ADMIN_PASSWORD=ADMIN_PASSWORD,  # trust authentication here: any password is let in
        RASA_SERVERS="1",
        MODEL=str(MODEL),
        **{k: str(v) for k, v in ports.items()},
    )
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: List[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "is ready" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(timeout=300), "".join(lines)
        assert any(re.match(r"Clinical sign-off: \d+ texts and triage rules signed", line) for line in lines)
        nginx = f"http://127.0.0.1:{ports['WEB_PORT']}"
        sender = f"profile-{uuid.uuid4()}"
        replies = say(nginx, sender, "hello")
        assert any("not medical advice" in reply.get("text", "") for reply in replies), "".join(lines)
        assert not accepts(non_loopback_address(), ports["ACTIONS_PORT"]), "the action server is open to the network"
        # Every connection the running servers hold is the assistant's own role's, which can only keep conversations.
        assert {user for (user,) in admin_execute(settings, CONNECTED)} == {"jdm"}
        servers = child_pids(process.pid)
        assert len(servers) == 3 and not [pid for pid in servers if ADMIN_PASSWORD in environment(pid)]
        assert_least_privilege(profile_database_url(env, monkeypatch))
        assert 'POST /webhooks/rest/webhook HTTP/1.1" 200' in (logs / "nginx-access.log").read_text()
        assert not expired.exists() and recent.exists()
        assert earlier_run not in (logs / "actions.log").read_text()
        assert any(earlier_run in path.read_text() for path in logs.glob("actions.log.*"))
        import psycopg2

        with (
            psycopg2.connect(
                host=settings.db_host, port=settings.db_port, user=settings.db_user, dbname="jdm_profile_test"
            ) as db,
            db.cursor() as cursor,
        ):
            cursor.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user'", (sender,))
            assert [json.loads(row[0])["text"] for row in cursor.fetchall()] == ["hello"]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not ports_still_open(ports), "".join(lines)


ADMIN_PASSWORD = f"administrator-{uuid.uuid4()}"


def environment(pid: int) -> str:
    return (Path("/proc") / str(pid) / "environ").read_bytes().decode(errors="replace")


# The logins of the profile test's database, but the test's own.
CONNECTED = (
    "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'jdm_profile_test' AND pid <> pg_backend_pid()"
)


def profile_variables() -> set:
    """The ${VARS} endpoints.production.yml reads: what every deployment must set."""
    return set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.production.yml").read_text()))


def test_docker_compose_and_helm_set_the_profiles_variables() -> None:
    variables = profile_variables()
    assert {"DB_HOST", "DB_NAME", "REDIS_HOST", "ACTION_SERVER_URL"} <= variables
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    for service in ("prepare", "actions", "rasa"):
        missing = variables - set(compose["services"][service]["environment"])
        assert not missing, f"docker compose service {service} lacks {missing}"
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
    # Set by the chart itself when it installs PostgreSQL and Redis (its values.yaml says so).
    from_chart = {"DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"}
    assert values["postgresql"]["install"] and values["redis"]["install"]
    ours = {entry["name"] for entry in values["extraEnv"]}
    # The action URL is the chart's own (rasa-action-server.install).
    assert not variables - from_chart - ours - {"ACTION_SERVER_URL"}
    store = values["applicationSettings"]["endpoints"]
    assert store["trackerStore"]["dialect"] == "postgresql" and store["trackerStore"]["db"] == "${DB_NAME}"
    # The same stores as endpoints.production.yml, so a cluster behaves as the tested profile.
    profile = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())
    assert store["trackerStore"]["type"] == profile["tracker_store"]["type"]
    assert store["lockStore"]["enabled"] and store["lockStore"]["type"] == profile["lock_store"]["type"]
    assert values["replicaCount"] >= 2 and values["rasa-action-server"]["install"]
    assert values["applicationSettings"]["enableAPI"] is False and values["applicationSettings"]["cors"] != "*"


def test_deployments_log_the_assistant_in_as_its_own_role_and_keep_the_administrators_password_from_it() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())["services"]
    for service in ("rasa", "actions"):
        env = compose[service]["environment"]
        assert env["DB_USER"] == "${DB_USER:-jdm}" and not [name for name in env if name.startswith("DB_ADMIN")]
    assert compose["prepare"]["environment"]["DB_ADMIN_PASSWORD"].startswith("${DB_ADMIN_PASSWORD:?")
    assert compose["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${DB_ADMIN_PASSWORD:?")

    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
    assert {"name": "DB_USER", "value": "jdm"} in values["extraEnv"]
    assert "login_db" not in values["applicationSettings"]["endpoints"]["trackerStore"], "jdm creates no database"
    (prepare,) = values["initContainers"]
    secret_keys = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in prepare["env"] if "valueFrom" in e}
    # The chart's DB_PASSWORD in the Rasa containers comes from postgresql.existingSecretKey: jdm's, as prepare sets it.
    assert values["postgresql"]["existingSecretKey"] == secret_keys["DB_PASSWORD"] != secret_keys["DB_ADMIN_PASSWORD"]


def test_the_compose_nginx_keeps_the_profiles_limits() -> None:
    rendered = nginx_config(Settings.from_env({}), Path("/tmp/x"))
    compose = (ROOT / "deploy" / "nginx.compose.conf").read_text()
    directives = ("client_max_body_size", "limit_req zone", "limit_req_zone", "proxy_next_upstream")
    for directive in (*directives, "limit_conn_zone", "limit_conn ", "limit_conn_status"):
        line = next(x.strip() for x in rendered.splitlines() if x.strip().startswith(directive))
        if directive == "limit_req_zone":
            line = line.split("rate=")[1]
        assert line in compose, f"deploy/nginx.compose.conf differs from the template: {line}"
    headers = [x.strip() for x in rendered.splitlines() if x.strip().startswith("add_header")]
    assert len(headers) >= 5 and all(line in compose for line in headers), "the chat page's security headers"


def test_nginx_workers_run_as_whoever_starts_the_profile() -> None:
    # So they can read web/ in a clone only its owner may open (issue 23: a private home directory).
    import grp
    import pwd

    rendered = nginx_config(Settings.from_env({}), Path("/tmp/x"))
    me = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    assert me in rendered.splitlines()
