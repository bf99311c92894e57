"""Rasa's Redis lock store, made safe for several servers: atomic tickets, kept alive by their holders.

Several Rasa servers take a conversation's lock in Redis before answering (the
production profile). Rasa 3.6 keeps each conversation's queue of tickets as one
Redis value and changes it by reading it, changing it and writing it back, and
gives each ticket a lifetime that no one extends. That lets two messages of one
conversation be answered at the same time in three ways, all seen here:

- two servers issuing tickets at the same moment both read the same queue and
  both write ticket 0: both hold the lock (copies of one message sent together
  were both answered and stored);
- a turn that runs longer than `lock_lifetime` (15 s in the profile) loses its
  ticket while it runs, and the next message gets in beside it;
- handing a ticket back deleted the queue when it looked empty, taking with
  it a ticket another server had just issued.

And when a server died holding a lock, a waiter whose own ticket ran out at
about the same time waited for ever (the scale-out test hit it).

Here every change to a queue is one Redis transaction (WATCH/MULTI: a change
that another server's change came between is made again on the new queue), a
queue left empty is deleted in the same transaction, and every live ticket,
held or waiting, is renewed by its request while it lives. A ticket therefore
expires only when its server has died (or stalled for `lock_lifetime`): then
the next one is served. A request whose ticket expired anyway takes a new one at
the back of the queue and goes on waiting. The queue is Rasa's (TicketLock), so
requests are still served in the order their tickets were issued.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator, Callable, Text, TypeVar

import redis  # type: ignore[import-untyped]
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from components.log_privacy import conversation_tag

logger = logging.getLogger(__name__)
# Seconds between a waiting request's looks at the queue: the one before it is often a retry answered in a few ms.
POLL_SECONDS = 0.05
Result = TypeVar("Result")


def holds_live_ticket(lock: TicketLock, ticket: int) -> bool:
    return any(t.number == ticket and not t.has_expired() for t in lock.tickets)


def renewed(lock: TicketLock, ticket: int, lifetime: float) -> bool:
    """Push back the expiry of `ticket` (expired tickets are dropped first); whether it was still there."""
    lock.remove_expired_tickets()
    for held in lock.tickets:
        if held.number == ticket:
            held.expires = time.time() + lifetime
            return True
    return False


class RequeuingRedisLockStore(RedisLockStore):
    """RedisLockStore whose queue changes are atomic and whose live tickets never expire."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # endpoints.yml `type: components.redis_lock_store.RequeuingRedisLockStore`, with Rasa's redis settings.
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: Text, change: Callable[[TicketLock], Result]) -> Result:
        """`change` applied to the conversation's queue in one transaction; the queue is deleted once empty."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else TicketLock(conversation_id)
                    result = change(lock)
                    pipe.multi()
                    if lock.tickets:
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed the queue meanwhile: change the new one

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock: {type(error).__name__}") from error

    def update_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def renew(self, conversation_id: Text, ticket: int, lock_lifetime: float) -> bool:
        """Keep `ticket` alive for another `lock_lifetime` seconds; False if it had expired already."""
        return self._change(conversation_id, lambda lock: renewed(lock, ticket, lock_lifetime))

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        poll = min(wait_time_in_seconds, POLL_SECONDS, lock_lifetime / 3)
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or not holds_live_ticket(lock, ticket):
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)  # back of the queue
                    continue
                if not lock.is_locked(ticket):
                    break
                await asyncio.sleep(poll)
                self.renew(conversation_id, ticket, lock_lifetime)  # and drop dead servers' tickets
            keeper = asyncio.create_task(self._keep_alive(conversation_id, ticket, lock_lifetime))
            try:
                yield lock
            finally:
                keeper.cancel()
                with suppress(asyncio.CancelledError):
                    await keeper
        finally:
            self.cleanup(conversation_id, ticket)

    async def _keep_alive(self, conversation_id: Text, ticket: int, lock_lifetime: float) -> None:
        """Renew the held ticket three times a lifetime, so a long turn keeps its lock until it ends."""
        while True:
            await asyncio.sleep(lock_lifetime / 3)
            try:
                if not self.renew(conversation_id, ticket, lock_lifetime):
                    logger.warning("The lock of conversation %s expired while held.", conversation_tag(conversation_id))
            except redis.RedisError as error:  # Redis restarting: try again at the next renewal
                logger.warning("Could not renew a conversation's lock (%s).", type(error).__name__)
