"""Rasa's Redis lock store, without the wait that never ends.

Several Rasa servers take a conversation's lock in Redis before answering
(the production profile). Rasa 3.6 gives each waiting request a ticket that
expires `lock_lifetime` seconds after it was issued, counting the time spent
waiting. When a server dies holding a lock (its ticket lives on in Redis), the
next request for that conversation waits for the dead ticket to expire; if its
own ticket expires at about the same time, which happens whenever the retry
came less than one poll interval after the crash, Rasa's loop waits for a
ticket that no longer exists, forever. The scale-out test hit this: answers
stuck until nginx gave up (504).

This store does what the loop meant to do: a request whose own ticket expired
while it waited takes a new one at the back of the queue and goes on waiting,
so the conversation stays in order and the wait ends once live holders are done.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


def holds_live_ticket(lock: TicketLock, ticket: int) -> bool:
    return any(t.number == ticket and not t.has_expired() for t in lock.tickets)


class RequeuingRedisLockStore(RedisLockStore):
    """RedisLockStore whose waiters take a new ticket when theirs expires instead of waiting forever."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # endpoints.yml `type: components.redis_lock_store.RequeuingRedisLockStore`, with Rasa's redis settings.
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or not holds_live_ticket(lock, ticket):
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)  # back of the queue
                    continue
                if not lock.is_locked(ticket):
                    break
                await asyncio.sleep(wait_time_in_seconds)
                self.update_lock(conversation_id)
            yield lock
        finally:
            self.cleanup(conversation_id, ticket)
