"""The production profile's conversation locks: one turn at a time, and a dead server blocks nobody for long.

One turn of a conversation at a time, even when two servers take tickets at the
same moment and when a turn outlasts the ticket's lifetime.

Needs Redis (REDIS_HOST/REDIS_PORT, as the profile); without it the tests skip
loudly, and under CI (CI=true) they fail. They use Redis database 3 and their
own random conversation ids.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from typing import Iterator, List

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from components.redis_lock_store import RequeuingRedisLockStore
from conftest import skip_loudly
from production import ProfileError, Settings, check_redis

TEST_DB = 3
LIFETIME = 1.0  # seconds a ticket lives (the profile uses 15)
POLL = 0.2


def new_store() -> RequeuingRedisLockStore:
    """The profile's lock store on the test database: each one has its own connections, as each server has."""
    settings = Settings.from_env(dict(os.environ))
    try:
        check_redis(settings)
    except ProfileError as error:
        skip_loudly(f"LOCK STORE NOT TESTED: {error}")
    config = EndpointConfig(
        url=settings.redis_host, type="unused", port=settings.redis_port, db=TEST_DB, key_prefix="jdmtest"
    )
    return RequeuingRedisLockStore(config)


@pytest.fixture(scope="module")
def store() -> Iterator[RequeuingRedisLockStore]:
    yield new_store()


def dead_servers_ticket(store: RedisLockStore, conversation: str) -> None:
    """What a server killed while answering leaves behind: a ticket nobody will hand back."""
    store.issue_ticket(conversation, LIFETIME)


async def wait_for_lock(store: RedisLockStore, conversation: str) -> float:
    start = time.monotonic()
    async with store.lock(conversation, lock_lifetime=LIFETIME, wait_time_in_seconds=POLL):
        return time.monotonic() - start


def test_a_request_behind_a_dead_servers_ticket_gets_the_lock_once_it_expires(store: RequeuingRedisLockStore) -> None:
    conversation = f"lock-{uuid.uuid4()}"
    dead_servers_ticket(store, conversation)
    # Issued at once, both tickets run out together: Rasa 3.6's own store then waits forever.
    waited = asyncio.run(asyncio.wait_for(wait_for_lock(store, conversation), timeout=10))
    assert LIFETIME - POLL <= waited < LIFETIME + 3 * POLL
    assert store.get_lock(conversation) is None  # handed back and cleaned up


def test_rasas_own_store_is_the_one_that_waits_forever(store: RequeuingRedisLockStore) -> None:
    """Why the profile uses our store: this fails the day Rasa fixes its loop, and ours can go."""
    settings = Settings.from_env(dict(os.environ))
    stock = RedisLockStore(host=settings.redis_host, port=settings.redis_port, db=TEST_DB, key_prefix="jdmtest")
    conversation = f"lock-{uuid.uuid4()}"
    dead_servers_ticket(stock, conversation)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(wait_for_lock(stock, conversation), timeout=4 * LIFETIME))
    stock.delete_lock(conversation)


def test_a_live_holder_still_keeps_others_waiting_in_order(store: RequeuingRedisLockStore) -> None:
    conversation = f"lock-{uuid.uuid4()}"
    served: List[str] = []

    async def turn(name: str, hold: float) -> None:
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.05):
            served.append(f"{name} in")
            await asyncio.sleep(hold)
            served.append(f"{name} out")

    async def three_turns() -> None:
        first = asyncio.create_task(turn("first", 0.3))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(turn("second", 0.0))
        await asyncio.sleep(0.05)
        await asyncio.gather(first, second, turn("third", 0.0))

    asyncio.run(three_turns())
    assert served == ["first in", "first out", "second in", "second out", "third in", "third out"]


def test_servers_taking_tickets_at_the_same_moment_answer_one_at_a_time(store: RequeuingRedisLockStore) -> None:
    conversation, servers = f"lock-{uuid.uuid4()}", [store, new_store()]
    requests = 8
    start, served = threading.Barrier(requests), []

    async def turn(name: int) -> None:
        async with servers[name % 2].lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.05):
            served.append(f"{name} in")
            await asyncio.sleep(0.05)
            served.append(f"{name} out")

    def request(name: int) -> None:  # a thread of its own: the requests reach Redis truly at once
        start.wait()
        asyncio.run(turn(name))

    threads = [threading.Thread(target=request, args=(name,)) for name in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(served) == 2 * requests
    pairs = zip(served[::2], served[1::2], strict=True)
    assert all(entered.split()[0] == left.split()[0] for entered, left in pairs), served  # no turn inside another
    assert store.get_lock(conversation) is None


def test_a_turn_longer_than_the_tickets_lifetime_keeps_its_lock(store: RequeuingRedisLockStore) -> None:
    conversation, served = f"lock-{uuid.uuid4()}", []

    async def turn(name: str, hold: float) -> None:
        async with store.lock(conversation, lock_lifetime=LIFETIME, wait_time_in_seconds=POLL):
            served.append(f"{name} in")
            await asyncio.sleep(hold)
            served.append(f"{name} out")

    async def a_long_turn_and_the_next() -> None:
        long = asyncio.create_task(turn("long", 3 * LIFETIME))
        await asyncio.sleep(0.1)
        await asyncio.gather(long, turn("next", 0.0))

    asyncio.run(a_long_turn_and_the_next())
    assert served == ["long in", "long out", "next in", "next out"]
