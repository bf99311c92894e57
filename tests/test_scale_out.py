"""Scale-out (issue 12, part 5): two Rasa servers of the production profile behind nginx.

50 conversations of 12 turns run at once. Turns of one conversation go to
different servers (some directly to each server's port, the rest round-robin
through nginx); rasa-1 is killed with SIGKILL mid-run and started again while
the clients retry, each message with the same id at every try as the widget
does. Last, each parent "double-clicks": two messages of one conversation
sent at the same moment, one to each server, which only the lock store keeps
apart. Then PostgreSQL must hold every user message exactly once
and in order (the double-click's two in either order, each turn's reply
before the next message), every message must have had a reply, the region and the last
topic must have carried across servers, and no log may hold an error.

Needs PostgreSQL and Redis (DB_HOST/DB_PORT/..., REDIS_HOST/REDIS_PORT, as the
profile); without them it skips loudly, and under CI (CI=true) it fails.
Uses its own database, dropped and created again at each run.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import uuid
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import aiohttp
import pytest

from conftest import MODEL, fresh_database, two_servers_env
from production import Settings, Stack

CONVERSATIONS = 50
OUTAGE_RETRY_SECONDS = 240.0
# (where, message, words the reply must contain). "rasa-1"/"rasa-2": straight to that
# server's port; "nginx": through the balancer. The kill comes after turn 4.
TURNS: List[Tuple[str, str, Optional[str]]] = [
    ("rasa-1", "is there a support group for parents of children with jdm?", "United Kingdom"),
    ("rasa-2", '/inform_region{"region": "uk"}', "the United Kingdom"),
    ("nginx", "our paediatrician mentioned jdm today, can you tell me what that illness is", None),
    ("nginx", "where does the long word dermatomyositis come from", None),
    # rasa-1 is killed here, while these are in flight
    ("nginx", "do children with jdm have aching muscles", None),
    ("nginx", "we found hard chalky lumps under her skin", None),
    ("nginx", "her arms won't straighten all the way anymore", None),
    ("nginx", "roughly how many children get juvenile dermatomyositis", None),
    # after rasa-1 is back
    ("rasa-2", "my son has a purplish rash on his eyelids and knuckles, is that the jdm rash", None),
    ("rasa-1", "why?", "vasculitis"),  # the last topic, known to the restarted server
    ("nginx", "can I talk to other parents?", "Myositis Support Group (UK)"),  # the region, never asked again
    ("nginx", "thank you", None),
]
KILL_AFTER_TURN = 4
RESUME_AFTER_TURN = 8
# Sent at the same moment, one to each server, after the turns above.
DOUBLE_CLICK: List[Tuple[str, str]] = [("rasa-1", "hello"), ("rasa-2", "thanks a lot")]


def settings_for_test() -> Settings:
    return Settings.from_env(two_servers_env(DB_NAME="jdm_scale_test"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    settings = settings_for_test()
    fresh_database(settings, "SCALE-OUT TEST NOT RUN", with_redis=True)
    stack = Stack(settings, tmp_path_factory.mktemp("production"), MODEL)
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()


class Client:
    """Parents' browsers: one message at a time per conversation, retrying while a server is down."""

    def __init__(self, session: aiohttp.ClientSession, stack: Stack) -> None:
        self.session = session
        self.stack = stack
        self.retries = 0
        self.replies: Dict[Tuple[str, int], List[dict]] = {}

    async def say(self, where: str, sender: str, turn: int, text: str) -> List[dict]:
        url = f"{self.stack[where]}/webhooks/rest/webhook"
        deadline = time.monotonic() + OUTAGE_RETRY_SECONDS
        while True:
            try:
                # The same id at every try, as the widget does: a message stored before its server died
                # is answered from the store when sent again, not stored twice.
                body = {"sender": sender, "message": text, "message_id": f"{sender}-turn-{turn}"}
                async with self.session.post(url, json=body) as response:
                    if response.status == 200:
                        reply = await response.json()
                        self.replies[(sender, turn)] = reply
                        return reply
                    if response.status not in (502, 503, 504):
                        raise AssertionError(f"{where} answered {response.status}: {await response.text()}")
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{where} gave no answer to turn {turn} within {OUTAGE_RETRY_SECONDS:.0f} s")
            self.retries += 1
            await asyncio.sleep(0.5)


@dataclass
class Run:
    """What the clients saw: every reply by (conversation, turn), and how the outage went."""

    replies: Dict[Tuple[str, int], List[dict]]
    retries: int
    replies_before_kill: int
    replies_after_kill_before_restart_ready: int
    killed_at: float  # time.time() of the SIGKILL


async def run_conversations(stack: Stack, senders: List[str]) -> Run:
    timeout = aiohttp.ClientTimeout(total=90)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=200)) as session:
        client = Client(session, stack)

        async def turns(sender: str, first: int, last: int) -> None:
            for turn in range(first, last):
                where, text, _ = TURNS[turn]
                await client.say(where, sender, turn, text)

        await asyncio.gather(*(turns(s, 0, KILL_AFTER_TURN) for s in senders))
        phase_b = asyncio.gather(*(turns(s, KILL_AFTER_TURN, RESUME_AFTER_TURN) for s in senders))
        await asyncio.sleep(1.0)
        in_flight = len(client.replies)
        killed_at = time.time()
        stack.processes["rasa-1"].send_signal(signal.SIGKILL)
        stack.processes["rasa-1"].wait()
        stack.start("rasa-1")
        await phase_b
        await asyncio.get_running_loop().run_in_executor(None, stack.wait_ready, "rasa-1")
        during_outage = len(client.replies) - in_flight
        await asyncio.gather(*(turns(s, RESUME_AFTER_TURN, len(TURNS)) for s in senders))

        # Half the parents double-click at a time: as many requests at once as the phases above.
        at_once = asyncio.Semaphore(CONVERSATIONS // len(DOUBLE_CLICK))

        async def double_click(sender: str) -> None:
            clicks = enumerate(DOUBLE_CLICK, start=len(TURNS))
            async with at_once:
                await asyncio.gather(*(client.say(where, sender, turn, text) for turn, (where, text) in clicks))

        await asyncio.gather(*(double_click(s) for s in senders))
        return Run(client.replies, client.retries, in_flight, during_outage, killed_at)


def stored_events(settings: Settings, senders: List[str]) -> Dict[str, List[Tuple[str, dict]]]:
    import psycopg2

    with (
        psycopg2.connect(
            host=settings.db_host,
            port=settings.db_port,
            user=settings.db_user,
            password=settings.db_password,
            dbname=settings.db_name,
        ) as db,
        db.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT sender_id, type_name, data FROM events WHERE sender_id = ANY(%s) ORDER BY id", (senders,)
        )
        rows = cursor.fetchall()
    events: Dict[str, List[Tuple[str, dict]]] = {sender: [] for sender in senders}
    for sender, kind, data in rows:
        events[sender].append((kind, json.loads(data)))
    return events


def replies_between_messages(events: List[Tuple[str, dict]]) -> bool:
    """Each user message is answered before the next one is stored: no two turns ran at once."""
    kinds = [kind for kind, _ in events if kind in ("user", "bot")]
    return all(kind == "bot" for previous, kind in pairwise(kinds) if previous == "user")


def last_slot(events: List[Tuple[str, dict]], name: str) -> object:
    values = [event["value"] for kind, event in events if kind == "slot" and event["name"] == name]
    return values[-1] if values else None


def text_of(reply: List[dict]) -> str:
    return "\n".join((m.get("text") or "") + " " + " ".join(b["title"] for b in m.get("buttons") or []) for m in reply)


ALARM = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")


def unexpected_alarms(log: str, killed_at: float) -> List[str]:
    """Error lines of a server log, but for the one the kill itself causes.

    A call from rasa-1 to the action server that was running when rasa-1 was
    killed loses its caller: Sanic cancels it and rasa_sdk logs ERROR with
    "ServiceUnavailable: Cancelled". Allowed only within 3 s of the kill.
    """
    lines = log.splitlines()
    bad = []
    for i, line in enumerate(lines):
        if not ALARM.search(line):
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if "Exception occurred during execution of request" in line and "ServiceUnavailable: Cancelled" in following:
            logged_at = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
            if abs(logged_at - killed_at) <= 3:
                continue
        bad.append(line)
    return bad


def test_unexpected_alarms_allows_only_the_kills_cancelled_call() -> None:
    at = time.mktime(time.strptime("2026-11-30 16:20:21", "%Y-%m-%d %H:%M:%S"))
    cancelled = (
        "2026-11-30 16:20:21 ERROR    rasa_sdk.endpoint  - Exception occurred during execution of request\n"
        "sanic.exceptions.ServiceUnavailable: Cancelled\n"
    )
    assert unexpected_alarms(cancelled, at) == []
    assert unexpected_alarms(cancelled, at + 60) != []  # the same, long after the kill
    assert unexpected_alarms("2026-11-30 16:20:21 ERROR    rasa.core  - boom\n", at) != []
    assert unexpected_alarms("Traceback (most recent call last):\n", at) != []


def test_fifty_conversations_across_two_servers_survive_a_killed_server(stack: Stack) -> None:
    senders = [f"scale-{uuid.uuid4()}" for _ in range(CONVERSATIONS)]
    started = time.monotonic()
    result = asyncio.run(run_conversations(stack, senders))
    elapsed = time.monotonic() - started
    replies = result.replies
    print(
        f"\n{CONVERSATIONS * (len(TURNS) + len(DOUBLE_CLICK))} messages in {elapsed:.0f} s;"
        f" rasa-1 killed after {result.replies_before_kill}"
        f" replies; {result.replies_after_kill_before_restart_ready} answered before it was back;"
        f" {result.retries} retries"
    )

    # Every message got a reply, with the words that show the state carried over.
    for sender in senders:
        for turn in range(len(TURNS), len(TURNS) + len(DOUBLE_CLICK)):
            assert replies[(sender, turn)], f"the double-click's message {turn} of {sender} got an empty reply"
        for turn, (where, text, words) in enumerate(TURNS):
            reply = replies[(sender, turn)]
            assert reply, f"turn {turn} ({text!r}) of {sender} via {where} got an empty reply"
            if words:
                assert words in text_of(reply), f"turn {turn} ({text!r}) via {where}: {text_of(reply)!r}"
        assert "United Kingdom" not in [
            b["title"] for m in replies[(sender, 10)] for b in m.get("buttons") or []
        ], "the region was asked again"

    # The kill happened mid-run: replies came after it while rasa-1 was down.
    assert result.replies_after_kill_before_restart_ready > 0
    assert stack.log("rasa-1").count("Rasa server is up and running") >= 2

    # PostgreSQL: every user message once, in order; the region and last topic kept.
    events = stored_events(stack.settings, senders)
    for sender in senders:
        said = [event["text"] for kind, event in events[sender] if kind == "user"]
        assert said[: len(TURNS)] == [text for _, text, _ in TURNS], f"{sender}: {said}"
        assert sorted(said[len(TURNS) :]) == sorted(text for _, text in DOUBLE_CLICK), f"{sender}: {said}"
        assert replies_between_messages(events[sender]), f"{sender}: two turns ran at once"
        assert last_slot(events[sender], "region") == "uk"
        assert last_slot(events[sender], "topic") == "rash"

    # nginx sent turns to both servers.
    access = (Path(stack.workdir) / "nginx-access.log").read_text()
    for name in stack.rasa_names():
        port = stack[name].rsplit(":", 1)[1]
        assert re.search(rf"upstream=(\S+, )?127\.0\.0\.1:{port} upstream_status=(\S+, )?200", access), name

    # Nothing else failed: no error in any server log; nginx logs only the refused connections of the outage.
    for name in ["actions", *stack.rasa_names()]:
        bad = unexpected_alarms(stack.log(name), result.killed_at)
        assert not bad, f"{name}: {bad[:5]}"
    nginx_errors = (Path(stack.workdir) / "nginx-error.log").read_text().splitlines()
    unexpected = [
        line
        for line in nginx_errors
        if "[error]" in line and not re.search(r"Connection refused|prematurely closed|Connection reset", line)
    ]
    assert not unexpected, unexpected[:5]
