"""Conversation locks shared by the Rasa server processes of one machine, with no server to run.

The default profile answers with several Rasa processes (Sanic workers) on one
machine, and one conversation's messages must still be answered one at a
time, whichever process gets them. Rasa's in-memory lock store is private to
a process and its Redis store needs Redis. This store holds each lock as a
POSIX record lock on one byte of one file (`var/conversation.locks`), the byte
chosen by a hash of the conversation id:

- taking or giving back a lock is one system call: no disk write, no network;
- the kernel drops every lock of a process that dies, so a crashed server
  never leaves a conversation locked (no lifetime to wait out);
- record locks belong to a process, not to a coroutine, so within a process
  an asyncio lock per conversation queues the requests first, in arrival order.

Waiting for another process is a poll every `poll_seconds` (two processes
rarely get the same conversation at the same moment). A request that cannot
get the lock within `lock_lifetime` seconds (Rasa's TICKET_LOCK_LIFETIME)
gets a LockError instead of waiting for ever; it names the conversation by
its tag (components/log_privacy.py), never its id, as it ends up in the log.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Dict, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from components.log_privacy import conversation_tag

DEFAULT_PATH = "var/conversation.locks"
DEFAULT_POLL_SECONDS = 0.005
# Offsets below 2**62: far from off_t's limit, and a clash of two ids (one
# waits for the other's turn) as likely as a clash of 62-bit hashes.
OFFSET_BITS = 62


def lock_offset(conversation_id: Text) -> int:
    """The byte of the lock file that stands for `conversation_id`, the same in every process."""
    digest = hashlib.blake2b(conversation_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - OFFSET_BITS)


def could_not_lock(conversation_id: Text) -> LockError:
    """Rasa's LockError, naming the conversation by its tag: the channel logs it, and the id is a credential."""
    return LockError(f"Could not acquire lock for conversation {conversation_tag(conversation_id)}.")


@dataclass
class _Queue:
    """This process's requests for one conversation: the first holds it, the rest wait in order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class FileLockStore(LockStore):
    """Per-conversation locks as record locks on one file, for several Rasa processes on one machine."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None) -> None:
        # endpoints.yml: `type: components.file_lock_store.FileLockStore`, optional `path`, `poll_seconds`.
        settings = endpoint_config.kwargs if endpoint_config else {}
        self.path = Path(settings.get("path") or DEFAULT_PATH)
        poll = settings.get("poll_seconds", DEFAULT_POLL_SECONDS)
        if isinstance(poll, bool) or not isinstance(poll, (int, float)) or not 0 < poll <= 1:
            raise ValueError(f"lock_store poll_seconds must be a number of seconds above 0 and at most 1, not {poll!r}")
        self.poll_seconds = float(poll)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()  # fails here, at startup, if the folder cannot be written
        self._fd: Optional[int] = None
        self._fd_pid: Optional[int] = None
        self._queues: Dict[Text, _Queue] = {}

    def _file(self) -> int:
        # Opened in the process that locks: Sanic forks its workers after this store may exist,
        # and record locks are never inherited. Never closed: closing any descriptor of the
        # file would drop every lock this process holds on it.
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    def _try_lock(self, offset: int) -> bool:
        try:
            fcntl.lockf(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        except OSError as error:
            if error.errno in (errno.EACCES, errno.EAGAIN):
                return False  # another process holds it
            raise
        return True

    def _unlock(self, offset: int) -> None:
        fcntl.lockf(self._file(), fcntl.LOCK_UN, 1, offset)

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Hold `conversation_id`'s lock in this process and against every other; LockError after `lock_lifetime` s."""
        deadline = time.monotonic() + lock_lifetime
        queue = self._queues.setdefault(conversation_id, _Queue())
        queue.users += 1
        try:
            try:
                await asyncio.wait_for(queue.lock.acquire(), timeout=lock_lifetime)
            except asyncio.TimeoutError:
                raise could_not_lock(conversation_id) from None
            try:
                offset = lock_offset(conversation_id)
                while not self._try_lock(offset):
                    if time.monotonic() >= deadline:
                        raise could_not_lock(conversation_id)
                    await asyncio.sleep(self.poll_seconds)
                try:
                    yield TicketLock(conversation_id)
                finally:
                    self._unlock(offset)
            finally:
                queue.lock.release()
        finally:
            queue.users -= 1
            if not queue.users:
                del self._queues[conversation_id]
