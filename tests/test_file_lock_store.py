"""The default profile's conversation locks: one conversation at a time across the Rasa processes of a machine.

Other processes here are real ones (multiprocessing, forked as Sanic forks its
workers), holding locks on the same file as the Rasa processes would.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
import uuid
from pathlib import Path
from typing import List

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from components.file_lock_store import FileLockStore
from components.log_privacy import conversation_tag

FORK = multiprocessing.get_context("fork")


def store_at(path: Path, **settings: object) -> FileLockStore:
    config = EndpointConfig(type="components.file_lock_store.FileLockStore", path=str(path), **settings)
    store = LockStore.create(config)  # as Rasa builds it from endpoints.yml
    assert isinstance(store, FileLockStore)
    return store


def hold_in_another_process(path: Path, conversation: str, seconds: float) -> multiprocessing.Process:
    """Another Rasa process answering `conversation` for `seconds`; returns once it holds the lock."""
    holding = FORK.Event()

    def hold() -> None:
        async def answer() -> None:
            async with store_at(path).lock(conversation):
                holding.set()
                await asyncio.sleep(seconds)

        asyncio.run(answer())

    process = FORK.Process(target=hold, daemon=True)
    process.start()
    assert holding.wait(timeout=10)
    return process


async def time_to_lock(store: FileLockStore, conversation: str, lifetime: float = 30) -> float:
    start = time.monotonic()
    async with store.lock(conversation, lock_lifetime=lifetime):
        return time.monotonic() - start


def test_a_conversation_held_by_another_process_waits_until_that_turn_is_done(tmp_path: Path) -> None:
    path = tmp_path / "conversation.locks"
    other = hold_in_another_process(path, "parent-a", seconds=0.6)
    waited = asyncio.run(time_to_lock(store_at(path), "parent-a"))
    other.join(timeout=10)
    assert 0.3 <= waited < 3


def test_other_conversations_do_not_wait(tmp_path: Path) -> None:
    path = tmp_path / "conversation.locks"
    other = hold_in_another_process(path, "parent-a", seconds=2)
    try:
        assert asyncio.run(time_to_lock(store_at(path), "parent-b")) < 0.5
    finally:
        other.join(timeout=10)


def test_a_process_killed_holding_a_lock_blocks_nobody(tmp_path: Path) -> None:
    path = tmp_path / "conversation.locks"
    other = hold_in_another_process(path, "parent-a", seconds=60)
    assert other.pid is not None
    os.kill(other.pid, signal.SIGKILL)
    other.join(timeout=10)
    assert asyncio.run(time_to_lock(store_at(path), "parent-a")) < 0.5


def test_a_lock_held_too_long_is_a_clear_error_not_an_endless_wait(tmp_path: Path) -> None:
    path = tmp_path / "conversation.locks"
    other = hold_in_another_process(path, "parent-a", seconds=5)
    try:
        # Named by its tag, not its id: the error is logged, and the id is the conversation's credential.
        with pytest.raises(LockError, match=conversation_tag("parent-a")) as error:
            asyncio.run(time_to_lock(store_at(path), "parent-a", lifetime=0.5))
        assert "parent-a" not in str(error.value)
    finally:
        other.kill()
        other.join(timeout=10)


def test_messages_of_one_conversation_in_one_process_are_answered_one_at_a_time_in_order(tmp_path: Path) -> None:
    store = store_at(tmp_path / "conversation.locks")
    events: List[str] = []

    async def turn(name: str) -> None:
        async with store.lock("parent-a"):
            events.append(f"{name} in")
            await asyncio.sleep(0.05)
            events.append(f"{name} out")

    async def three_turns() -> None:
        await asyncio.gather(turn("first"), turn("second"), turn("third"))

    asyncio.run(three_turns())
    assert events == ["first in", "first out", "second in", "second out", "third in", "third out"]


def test_a_turn_that_fails_gives_the_lock_back(tmp_path: Path) -> None:
    path = tmp_path / "conversation.locks"
    store = store_at(path)

    async def failing_turn() -> None:
        async with store.lock("parent-a"):
            raise RuntimeError("the action server is down")

    with pytest.raises(RuntimeError):
        asyncio.run(failing_turn())
    # Free for this process and for another one.
    assert asyncio.run(time_to_lock(store, "parent-a")) < 0.5
    other = hold_in_another_process(path, "parent-a", seconds=0)
    other.join(timeout=10)
    assert other.exitcode == 0


def test_many_conversations_leave_nothing_behind_in_memory(tmp_path: Path) -> None:
    store = store_at(tmp_path / "conversation.locks")

    async def conversations() -> None:
        for _ in range(200):
            async with store.lock(f"parent-{uuid.uuid4()}"):
                pass

    asyncio.run(conversations())
    assert store._queues == {}


@pytest.mark.parametrize("poll", [0, -1, 5, "fast", True])
def test_a_wrong_poll_interval_is_refused_at_startup(tmp_path: Path, poll: object) -> None:
    with pytest.raises(ValueError, match="poll_seconds"):
        store_at(tmp_path / "conversation.locks", poll_seconds=poll)


def test_a_lock_file_that_cannot_be_written_is_refused_at_startup(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the folder should be")
    with pytest.raises(OSError):
        store_at(tmp_path / "var" / "conversation.locks")
