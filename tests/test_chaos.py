"""Faults (issue 23, item 7): the production profile's servers under a killed server, restarted stores, slow clients.

The stack is the production profile's (scripts/production.py's Stack: two Rasa servers behind nginx, the action
server, the PostgreSQL tracker store and the Redis lock store), on a PostgreSQL cluster and a Redis of this test's
own, made in a temporary directory on free ports: the machine's own servers are never restarted. Parents chat as the
widget does: one message at a time, each with its `message_id`, sent again with the same id after anything but an
answer. During each run of conversations one fault is injected:

1. a Rasa server killed (SIGKILL) while its turns are in flight, and started again;
2. PostgreSQL (the tracker store) restarted;
3. Redis (the lock store) restarted;
4. slow clients holding sockets open (one byte every few seconds), to nginx and to a Rasa server.

For each: every message gets an answer, and on the way only a clear "try again" (a status and body the widget
shows as Retry: nginx's 502/504, or the channel's JSON error in words), never a hang, an empty answer or a crash
page; each message is stored exactly once (user events per message_id in PostgreSQL); what was stored before the
fault is still there after it; and the recovery time (from the fault to the first good answer to a message sent
after it) is measured. The figures go to results/chaos.json.

JDM_CHAOS_ROUNDS (read once, below) sets the length: `make test` runs 1 round, `make chaos` more (more parents,
more turns after each fault, more slow clients, and each store restart repeated).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple

import aiohttp
import pytest
from test_scale_out import stored_events

from conftest import MODEL, ROOT, free_port, fresh_database, skip_loudly, trickle, two_servers_env
from production import ProfileError, Settings, Stack, check_nginx

# The one place the suite's length is read: `make chaos` sets it higher than `make test`'s 1.
ROUNDS = int(os.environ.get("JDM_CHAOS_ROUNDS") or "1")
PARENTS = 4 + 2 * ROUNDS  # conversations chatting at once during each fault
TURNS_AFTER_FAULT = 1 + ROUNDS  # good answers each conversation must get after the fault is over
SLOW_CLIENTS = 2 + ROUNDS  # sockets sending one byte every SLOW_BYTE_SECONDS
SLOW_BYTE_SECONDS = 3.0
WIDGET_TIMEOUT = 30.0  # web/jdm-chat.js TIMEOUT_MS: after this a parent sees Retry
GIVE_UP_SECONDS = 150.0  # a message still unanswered after this is lost
RESULTS = ROOT / "results" / "chaos.json"
POSTGRESQL_BIN = Path("/usr/lib/postgresql/15/bin")
DB_NAME = "jdm_chaos"
TEXTS = [
    "what is jdm?",
    "do children with jdm have aching muscles",
    "we found hard chalky lumps under her skin",
    "roughly how many children get juvenile dermatomyositis",
    "where does the long word dermatomyositis come from",
    "thank you",
]


class OwnPostgreSQL:
    """A throwaway PostgreSQL cluster (initdb) on a free port, trust authentication, administrator `postgres`.

    initdb and the server refuse to run as root: as root they run as the `postgres` user, owning the directory.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="jdm-chaos-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_owner: List[str] = []
        if os.geteuid() == 0:
            self.as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_owner, str(POSTGRESQL_BIN / tool), *args]
        subprocess.run(command, check=True, capture_output=True, cwd=self.dir, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        # Fast: sessions are ended at once, as on a restart by the clinic's IT (or a crash of a session's process).
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A throwaway Redis on a free port that keeps nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        ping = ["redis-cli", "-p", str(self.port), "ping"]
        while subprocess.run(ping, capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("the test's own Redis did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@dataclass
class Chaos:
    stack: Stack
    postgresql: OwnPostgreSQL
    redis: OwnRedis
    figures: Dict[str, Any] = field(default_factory=dict)
    killed_mid_turn: Optional[Parents] = None  # the conversations rasa-1 was answering when killed


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    if not (POSTGRESQL_BIN / "initdb").exists() or not shutil.which("redis-server"):
        skip_loudly(f"FAULTS NOT TESTED: no {POSTGRESQL_BIN}/initdb or redis-server to make throwaway servers with")
    try:
        check_nginx()
    except ProfileError as error:
        skip_loudly(f"FAULTS NOT TESTED: {error}")
    postgresql, redis = OwnPostgreSQL(), OwnRedis()
    stack: Optional[Stack] = None
    try:
        postgresql.start()
        redis.start()
        env = two_servers_env(
            DB_HOST="127.0.0.1",
            DB_PORT=str(postgresql.port),
            DB_ADMIN_USER="postgres",
            DB_ADMIN_PASSWORD="",
            DB_PASSWORD=uuid.uuid4().hex,
            DB_NAME=DB_NAME,
            REDIS_HOST="127.0.0.1",
            REDIS_PORT=str(redis.port),
            REDIS_DB="0",
        )
        settings = Settings.from_env(env)
        fresh_database(settings, "FAULTS NOT TESTED", with_redis=True)
        stack = Stack(settings, tmp_path_factory.mktemp("chaos"), MODEL, env=env)
        stack.start_all()
        chaos = Chaos(stack, postgresql, redis, {"rounds": ROUNDS, "parents_per_fault": PARENTS, "faults": {}})
        yield chaos
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(chaos.figures, indent=2) + "\n")
    finally:
        if stack is not None:
            stack.stop_all()
        redis.stop()
        postgresql.remove()


@dataclass
class Outcome:
    """One try of one message, as the parent's widget saw it."""

    sender: str
    message_id: str
    sent_at: float  # time.monotonic()
    done_at: float
    kind: str  # "answer", "retry" (the widget shows Retry), "empty", "crash", "hang"
    status: int = 0
    detail: str = ""


RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


def classify(status: int, body: bytes) -> Tuple[str, str]:
    """What the widget shows for this response: an answer, Retry, or something a parent cannot act on."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if status == 200:
        shown = isinstance(parsed, list) and all(isinstance(m, dict) for m in parsed)
        if shown and any(m.get("text") or m.get("buttons") for m in parsed):
            return "answer", ""
        return "empty", body[:200].decode(errors="replace")  # the widget shows nothing: the parent waits for ever
    if status in (502, 504):
        return "retry", "nginx"  # nginx's own error page: the widget's fetch is not ok, so it shows Retry
    if status in RETRY_STATUSES and isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return "retry", str(parsed.get("error"))
    return "crash", body[:200].decode(errors="replace")  # an HTML error page, a traceback, or a status to give up on


class Parents:
    """Conversations chatting as the widget does, every try recorded."""

    def __init__(self, session: aiohttp.ClientSession, stack: Stack, first_url: str) -> None:
        self.session = session
        self.stack = stack
        self.first_url = first_url  # where first tries go (a Rasa server's own port, or nginx)
        self.outcomes: List[Outcome] = []
        self.sent: Dict[str, List[Tuple[str, str]]] = {}  # sender -> [(message_id, text)]
        self.in_flight = 0
        self.fault_over = asyncio.Event()

    async def say(self, sender: str, text: str) -> None:
        message_id = uuid.uuid4().hex
        self.sent.setdefault(sender, []).append((message_id, text))
        url, give_up = self.first_url, time.monotonic() + GIVE_UP_SECONDS
        body = {"sender": sender, "message": text, "message_id": message_id}
        while True:
            sent_at = time.monotonic()
            self.in_flight += 1
            try:
                async with self.session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
                    kind, detail = classify(response.status, await response.read())
                    status = response.status
            except asyncio.TimeoutError:
                kind, detail, status = "hang", f"no answer within {WIDGET_TIMEOUT:.0f} s", 0
            except aiohttp.ClientError as error:
                kind, detail, status = "retry", type(error).__name__, 0  # the widget's fetch failed: Retry
            finally:
                self.in_flight -= 1
            self.outcomes.append(Outcome(sender, message_id, sent_at, time.monotonic(), kind, status, detail))
            if kind in ("answer", "empty") or time.monotonic() > give_up:
                return
            # The parent presses Retry: the same message and id, through nginx as the widget talks to it.
            url = self.stack["nginx"]
            await asyncio.sleep(0.3)

    async def converse(self, sender: str) -> None:
        """Chat until the fault is over and TURNS_AFTER_FAULT answers have come since."""
        turn, after = 0, 0
        while after < TURNS_AFTER_FAULT:
            over = self.fault_over.is_set()
            await self.say(sender, TEXTS[turn % len(TEXTS)])
            turn += 1
            after += over

    def answered(self) -> int:
        return sum(o.kind == "answer" for o in self.outcomes)


async def conversations_through(
    chaos: Chaos,
    name: str,
    fault: Callable[[Parents], Awaitable[float]],
    first_url: Optional[str] = None,
    all_servers: bool = True,
) -> Dict[str, Any]:
    """PARENTS conversations with `fault` injected once each has had an answer; the figures, and the checks' inputs.

    `fault` returns when the fault began (time.monotonic()); the parents go on until it has ended.
    """
    stack = chaos.stack
    # `all_servers`: first wait for a Rasa server still loading its model after the kill (a store restarted while
    # it opens its own connections is another fault). Otherwise nginx sends its share to the other meanwhile.
    for server in stack.rasa_names() if all_servers else []:
        await asyncio.get_running_loop().run_in_executor(None, stack.wait_ready, server)
    before = stored_rows(stack.settings)
    senders = [f"chaos-{name}-{uuid.uuid4()}" for _ in range(PARENTS)]
    timeout = aiohttp.ClientTimeout(total=WIDGET_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=100)) as session:
        parents = Parents(session, stack, first_url or stack["nginx"])
        chatting = asyncio.gather(*(parents.converse(s) for s in senders))
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while parents.answered() < PARENTS:  # everyone is mid-conversation
            assert time.monotonic() < deadline, f"{parents.answered()} of {PARENTS} parents answered before the fault"
            await asyncio.sleep(0.02)
        fault_at = await fault(parents)
        fault_ended = time.monotonic()
        parents.fault_over.set()
        bad_input = await send_bad_input(session, stack["nginx"], senders[0])
        await chatting
    result = report(chaos, name, parents, fault_at, before, bad_input)
    result["figures"]["fault_lasted_seconds"] = round(fault_ended - fault_at, 2)
    return result


async def send_bad_input(session: aiohttp.ClientSession, url: str, sender: str) -> Tuple[int, Any]:
    """Broken JSON naming a conversation: refused in words, and nothing of that conversation changes."""
    data = b'{"sender": "' + sender.encode() + b'", "message": '
    headers = {"Content-Type": "application/json"}
    async with session.post(f"{url}/webhooks/rest/webhook", data=data, headers=headers) as response:
        return response.status, await response.json(content_type=None)


def stored_rows(settings: Settings) -> Dict[int, Tuple[str, str]]:
    """Every stored event's id, conversation and type: what no fault may take away."""
    import psycopg2

    login = {"host": settings.db_host, "port": settings.db_port, "user": settings.db_user}
    with psycopg2.connect(**login, password=settings.db_password, dbname=settings.db_name) as db, db.cursor() as cur:
        cur.execute("SELECT id, sender_id, type_name FROM events")
        return {row[0]: (row[1], row[2]) for row in cur.fetchall()}


def report(
    chaos: Chaos,
    name: str,
    parents: Parents,
    fault_at: float,
    before: Dict[int, Tuple[str, str]],
    bad_input: Tuple[int, Any],
) -> Dict[str, Any]:
    settings = chaos.stack.settings
    events = stored_events(settings, list(parents.sent))
    stored = {
        sender: Counter(event.get("message_id") for kind, event in found if kind == "user")
        for sender, found in events.items()
    }
    after = stored_rows(settings)
    outcomes = parents.outcomes
    first_good = min((o.done_at for o in outcomes if o.kind == "answer" and o.sent_at >= fault_at), default=None)
    kinds = Counter(o.kind for o in outcomes)
    figures = {
        "conversations": len(parents.sent),
        "messages_sent": sum(len(sent) for sent in parents.sent.values()),
        "answered": len({o.message_id for o in outcomes if o.kind == "answer"}),
        "retry_responses": kinds["retry"],
        "messages_retried": len({o.message_id for o in outcomes if o.kind == "retry"}),
        "retry_statuses": dict(Counter(str(o.status or o.detail) for o in outcomes if o.kind == "retry")),
        "stored": sum(sum(count.values()) for count in stored.values()),
        # From the fault's start (the kill, the stop) to the first answer to a message sent after it.
        "recovery_seconds": None if first_good is None else round(first_good - fault_at, 2),
        "slowest_answer_seconds": round(max(o.done_at - o.sent_at for o in outcomes if o.kind == "answer"), 2),
    }
    runs = chaos.figures["faults"].setdefault(name, [])
    runs.append(figures)
    return {
        "figures": figures,
        "parents": parents,
        "stored": stored,
        "lost_rows": sorted(set(before) - set(after)),
        "changed_rows": sorted(i for i in before if i in after and before[i] != after[i]),
        "bad_input": bad_input,
        "unacceptable": [o for o in outcomes if o.kind in ("empty", "crash", "hang")],
    }


def assert_no_parent_let_down(result: Dict[str, Any]) -> None:
    """What a parent would notice: an answer to every message, only 'try again' on the way, nothing lost or doubled."""
    parents: Parents = result["parents"]
    figures = result["figures"]
    assert not result["unacceptable"], [(o.kind, o.status, o.detail) for o in result["unacceptable"][:5]]
    unanswered = [mid for sent in parents.sent.values() for mid, _ in sent if mid not in answered_ids(parents)]
    assert not unanswered, f"{len(unanswered)} messages never answered within {GIVE_UP_SECONDS:.0f} s"
    for sender, sent in parents.sent.items():
        counts = result["stored"][sender]
        wrong = {mid: counts[mid] for mid, _ in sent if counts[mid] != 1}
        assert not wrong, f"{sender}: messages stored other than once (id: times): {wrong}"
        assert sum(counts.values()) == len(sent), f"{sender}: stored messages nobody sent"
    assert not result["lost_rows"], f"{len(result['lost_rows'])} events stored before the fault are gone"
    assert not result["changed_rows"], "events stored before the fault changed"
    status, body = result["bad_input"]
    assert status == 400 and isinstance(body, dict) and body.get("message"), (status, body)
    assert figures["recovery_seconds"] is not None, "no message sent after the fault was answered"


def answered_ids(parents: Parents) -> set:
    return {o.message_id for o in parents.outcomes if o.kind == "answer"}


def test_classify_tells_retry_from_crash_and_empty() -> None:
    assert classify(200, b'[{"recipient_id": "x", "text": "JDM is ..."}]')[0] == "answer"
    assert classify(200, b"[]")[0] == "empty"
    assert classify(502, b"<html>502 Bad Gateway</html>")[0] == "retry"
    assert classify(503, b'{"error": "busy", "message": "Please try again."}')[0] == "retry"
    assert classify(500, b"<html>Traceback ...</html>")[0] == "crash"
    assert classify(404, b'{"error": "x", "message": "y"}')[0] == "crash"


def test_a_rasa_server_killed_mid_turn_loses_and_doubles_nothing(chaos: Chaos) -> None:
    stack = chaos.stack

    async def kill(parents: Parents) -> float:
        # First tries go straight to rasa-1: the kill cuts its turns in flight; retries go through nginx.
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while parents.in_flight < PARENTS // 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        killed_at = time.monotonic()
        stack.processes["rasa-1"].send_signal(signal.SIGKILL)
        stack.processes["rasa-1"].wait()
        stack.start("rasa-1")
        parents.first_url = stack["nginx"]
        return killed_at

    result = asyncio.run(conversations_through(chaos, "rasa_server_killed", kill, first_url=stack["rasa-1"]))
    print(f"\nrasa-1 killed: {result['figures']}")
    assert_no_parent_let_down(result)
    assert result["figures"]["messages_retried"] > 0, "the kill cut no turn: nothing was in flight"
    chaos.killed_mid_turn = result["parents"]  # rasa-1 loads its model again during the slow clients: checked last


def test_slow_clients_do_not_keep_parents_waiting(chaos: Chaos) -> None:
    stack = chaos.stack
    slow: List[Tuple[float, bytes]] = []
    seen: Dict[str, int] = {}
    head = b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: 99\r\n"

    def hold(port: int) -> None:
        body = b'\r\n{"sender": "slow-client", "message": "' + b"a" * 60
        slow.append(trickle(port, head, body, every=SLOW_BYTE_SECONDS, give_up=2.5 * SLOW_BYTE_SECONDS))

    async def open_slow_clients(parents: Parents) -> float:
        # Half to nginx, half straight to a Rasa server: each must go on serving parents meanwhile.
        ports = [int(stack[name].rsplit(":", 1)[1]) for name in ("nginx", "rasa-2")]
        threads = [threading.Thread(target=hold, args=(ports[i % 2],)) for i in range(SLOW_CLIENTS)]
        opened_at = time.monotonic()
        for thread in threads:
            thread.start()
        answered, deadline = parents.answered(), opened_at + GIVE_UP_SECONDS
        while parents.answered() < answered + PARENTS * TURNS_AFTER_FAULT and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        seen["answered_while_slow_clients_open"] = parents.answered() - answered
        seen["slow_clients_still_open"] = sum(thread.is_alive() for thread in threads)
        await asyncio.get_running_loop().run_in_executor(None, lambda: [thread.join() for thread in threads])
        return opened_at

    result = asyncio.run(conversations_through(chaos, "slow_clients", open_slow_clients, all_servers=False))
    figures = result["figures"]
    figures.update(seen, slow_clients=SLOW_CLIENTS, slow_byte_every_seconds=SLOW_BYTE_SECONDS)
    figures["slow_clients_got"] = sorted(got.split(b"\r\n")[0].decode(errors="replace") or "nothing" for _, got in slow)
    print(f"\nslow clients: {figures}")
    assert_no_parent_let_down(result)
    # The parents had their answers while every slow client still held its socket open.
    assert seen["answered_while_slow_clients_open"] >= PARENTS * TURNS_AFTER_FAULT, seen
    assert seen["slow_clients_still_open"] == SLOW_CLIENTS, seen
    assert all(process.poll() is None for process in stack.processes.values()), "a server died"


@pytest.mark.parametrize("store", ["postgresql", "redis"])
def test_a_store_restarted_mid_run_loses_and_doubles_nothing(chaos: Chaos, store: str) -> None:
    """PostgreSQL (the tracker store) or Redis (the lock store, its locks gone) stopped and started again."""
    server = getattr(chaos, store)

    async def restart(parents: Parents) -> float:
        stopped_at = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, server.stop)
        await asyncio.sleep(1.0)  # down long enough for the parents' next messages to meet it
        await asyncio.get_running_loop().run_in_executor(None, server.start)
        return stopped_at

    for _ in range(ROUNDS):
        result = asyncio.run(conversations_through(chaos, f"{store}_restarted", restart))
        print(f"\n{store} restarted: {result['figures']}")
        assert_no_parent_let_down(result)


def test_the_killed_server_started_again_goes_on_with_its_conversations(chaos: Chaos) -> None:
    """Last, so the other faults run while it loads: it answers a conversation it was answering when killed."""
    if chaos.killed_mid_turn is None:
        pytest.fail("the kill test did not run or failed before its conversations ended")
    chaos.stack.wait_ready("rasa-1")
    asyncio.run(answered_by_restarted_server(chaos, chaos.killed_mid_turn))


async def answered_by_restarted_server(chaos: Chaos, parents: Parents) -> None:
    sender = next(iter(parents.sent))
    timeout = aiohttp.ClientTimeout(total=WIDGET_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        again = Parents(session, chaos.stack, chaos.stack["rasa-1"])
        await again.say(sender, "thank you")
    assert [o.kind for o in again.outcomes] == ["answer"]
    events = stored_events(chaos.stack.settings, [sender])[sender]
    counts = Counter(event.get("message_id") for kind, event in events if kind == "user")
    assert sum(counts.values()) == len(parents.sent[sender]) + 1
