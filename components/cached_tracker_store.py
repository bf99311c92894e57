"""Rasa's SQL tracker store, keeping recent conversations in memory between turns.

For every message Rasa's SQLTrackerStore reads the whole conversation back
from the database and replays it event by event into a new tracker, then
counts the stored events again to know which ones to write: together about a
third of the Rasa server's time per message (README, Performance). This store
keeps the tracker it handed out and, at the next turn, gives it back instead,
but only after asking the database for the conversation's newest event id:
if anything else wrote to or deleted from the conversation since (another
Rasa server, the widget's Delete button, `make purge`), or a turn failed
before it was saved, the tracker is read from the database as Rasa would.
The database stays the only record; the cache holds at most `cache_size`
conversations and is never written to on its own.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    saved: int  # how many of tracker.events the database holds
    last_id: Optional[int]  # the conversation's newest event id in the database then


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with the last `cache_size` conversations' trackers kept, checked on every read."""

    def __init__(self, domain: Optional[Domain] = None, cache_size: int = 256, **kwargs: Any) -> None:
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 0:
            raise ValueError(f"tracker_store cache_size must be a whole number of 0 or more, not {cache_size!r}")
        super().__init__(domain, **kwargs)
        self._cache_size = cache_size
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def _last_event_id(self, sender_id: Text) -> Optional[int]:
        with self.session_scope() as session:
            query = session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id)
            return query.scalar()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The kept tracker if the database holds exactly what it held when kept; else Rasa's own read."""
        last_id = self._last_event_id(sender_id)
        kept = self._kept.get(sender_id)
        if kept is not None and kept.last_id == last_id and len(kept.tracker.events) == kept.saved:
            self._kept.move_to_end(sender_id)
            return kept.tracker
        self.evict(sender_id)
        tracker = await super().retrieve(sender_id)
        if tracker is not None and self._cache_size:
            # Read after last_id: if another writer slipped in between, the ids differ next time and it is read again.
            self._kept[sender_id] = _Kept(tracker, len(tracker.events), last_id)
            while len(self._kept) > self._cache_size:
                self._kept.popitem(last=False)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The kept tracker's unsaved events are known without counting the stored ones."""
        kept = self._kept.get(tracker.sender_id)
        if kept is None or kept.tracker is not tracker:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, kept.saved, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        kept = self._kept.get(tracker.sender_id)
        if kept is None or kept.tracker is not tracker:
            self.evict(tracker.sender_id)  # another copy of this conversation was saved: read it back next time
            await super().save(tracker)
            return
        new_session = any(
            isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, kept.saved, None)
        )
        try:
            await super().save(tracker)
        except BaseException:
            self.evict(tracker.sender_id)
            raise
        if new_session:
            # Rasa reads only the latest session back: keep nothing older than the database would give.
            self.evict(tracker.sender_id)
        else:
            kept.saved, kept.last_id = len(tracker.events), self._last_event_id(tracker.sender_id)

    def evict(self, sender_id: Text) -> None:
        """Forget the kept tracker of `sender_id` (the conversation was deleted, or is read again)."""
        self._kept.pop(sender_id, None)
