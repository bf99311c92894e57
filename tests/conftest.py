"""Shared pytest fixtures: the domain, trackers for action tests, live servers."""

from __future__ import annotations

import os
import select
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NoReturn, Optional, Tuple

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
# free_port and say are imported from here by the live tests.
from live_servers import Servers, free_port, running_servers, say, two_free_ports  # noqa: E402,F401
from production import ProfileError, Settings, check_redis, ensure_database, tracker_store_args  # noqa: E402


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def non_loopback_address() -> str:
    """An IPv4 address of this machine other than 127.x (from `ip -4 addr`), to knock on from outside loopback."""
    import subprocess

    shown = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    for line in shown.splitlines():
        address = line.split()[3].split("/")[0]
        if not address.startswith("127."):
            return address
    skip_loudly("THIS MACHINE HAS NO NON-LOOPBACK IPv4 ADDRESS: what listens beyond loopback is not tested")


def accepts(address: str, port: int) -> bool:
    """Whether a TCP connection to address:port is accepted."""
    with socket.socket() as sock:
        sock.settimeout(5)
        return sock.connect_ex((address, port)) == 0


def trickle(port: int, at_once: bytes, slowly: bytes, every: float = 0.5, give_up: float = 30) -> Tuple[float, bytes]:
    """A slow client: `at_once`, then `slowly` one byte every `every` s until the server answers or closes.

    Returns the seconds from the first byte until then (or until it gave up), and what the server sent.
    """
    with socket.create_connection(("127.0.0.1", port)) as sock:
        start = time.monotonic()
        sock.sendall(at_once)
        for byte in slowly:
            if select.select([sock], [], [], every)[0] or time.monotonic() - start > give_up:
                break
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
        elapsed = time.monotonic() - start
        sock.settimeout(5)
        try:
            return elapsed, sock.recv(65536)
        except OSError:
            return elapsed, b""


def ports_still_open(ports: Dict[str, int], wait_s: float = 20.0) -> List[str]:
    """The named ports something still listens on after up to `wait_s` seconds for them to close."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(port_in_use(p) for p in ports.values()):
        time.sleep(0.5)
    return [name for name, port in ports.items() if port_in_use(port)]


def skip_loudly(reason: str) -> NoReturn:
    """Skip with the reason in capitals; under CI=true (CI sets it) the skip is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def fresh_database(settings: Settings, untested: str, with_redis: bool = False) -> None:
    """An empty PostgreSQL database (and a reachable Redis), or a loud skip naming what goes untested."""
    try:
        if with_redis:
            check_redis(settings)
        ensure_database(settings, fresh=True)
    except ProfileError as error:
        skip_loudly(f"{untested}: {error}")


def postgresql_tracker_store(store_class: Any, db_name: str, untested: str, **kwargs: Any) -> Any:
    """`store_class` (Rasa's SQLTrackerStore or ours) on a fresh PostgreSQL database `db_name`, or a loud skip."""
    settings = Settings.from_env(dict(os.environ, JDM_PROFILE="production", DB_NAME=db_name))
    fresh_database(settings, untested)
    return store_class(**tracker_store_args(settings), **kwargs)


def analyze_as_administrator(db_name: str, table: str) -> None:
    """ANALYZE a table as its owner (DB_ADMIN_USER): the planner's statistics, for tests of query plans."""
    import psycopg2

    s = Settings.from_env(dict(os.environ, JDM_PROFILE="production", DB_NAME=db_name))
    connection = psycopg2.connect(
        host=s.db_host, port=s.db_port, user=s.db_admin_user, password=s.db_admin_password, dbname=db_name
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    finally:
        connection.close()


# JDM_MODEL lets a developer test a model trained elsewhere (rasa train --out).
MODEL = Path(os.environ.get("JDM_MODEL", ROOT / "models" / "jdm.tar.gz"))
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: nothing is downloaded


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def shown(message: Dict[str, Any], domain: Dict[str, Any]) -> str:
    """The text a parent sees: plain text, or the domain response filled with the action's values."""
    if message.get("text"):
        return message["text"]
    template = domain["responses"][message["response"]][0]["text"]
    return template.format(**{k: v for k, v in message.items() if v is not None})


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
            base: {"response": {"intent_response_key": retrieval_intent, "utter_action": f"utter_{retrieval_intent}"}}
        }
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": slots or {},
            "latest_message": latest,
            "events": events or [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def two_servers_env(**settings: str) -> Dict[str, str]:
    """The production profile's environment with two Rasa servers on free ports, and nginx's
    per-client limits lifted: one test client sends for every parent from one address."""
    return dict(
        os.environ,
        RASA_SERVERS="2",
        RASA_PORT=str(two_free_ports()),
        ACTIONS_PORT=str(free_port()),
        WEB_PORT=str(free_port()),
        NGINX_RATE_PER_SECOND="10000",
        NGINX_BURST="10000",
        NGINX_CONNECTIONS_PER_CLIENT="10000",
        **settings,
    )


def rasa_server_profile(servers: Servers, out: Path, messages: List[str]) -> Callable[[str], int]:
    """py-spy samples of the running Rasa server while it answers `messages` (a new conversation
    each): a count of the samples whose stack has a frame containing a given part."""
    import bench  # py-spy's start and stop, as `make profile` uses them

    profiler = bench.start_profiler(servers.processes["rasa"].pid, out, rate=200)
    try:
        time.sleep(2)  # py-spy attaches
        for message in messages:
            assert say(servers["rasa"], f"profiled-{uuid.uuid4()}", message)
    finally:
        said = bench.stop_profiler(profiler)
    if not out.exists():
        skip_loudly(f"PY-SPY COULD NOT PROFILE THE RASA SERVER (it needs ptrace): {said}")
    stacks = bench.read_collapsed(out.read_text())
    return lambda part: sum(count for stack, count in stacks.items() if any(part in frame for frame in stack))


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The trained model served as `make run` does, on free ports.

    Yields the base URLs: {"rasa": ..., "actions": ..., "web": ...}, with each
    server's log and memory (live_servers.Servers).
    """
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    with running_servers(MODEL, tmp_path_factory.mktemp("servers")) as urls:
        yield urls


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package, driven by Playwright (no browser download).

    Per module: Playwright's sync API keeps an event loop running while it is open,
    and other tests run their own (asyncio.run) after the browser tests.
    """
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        yield browser
        browser.close()
