"""Deleting a conversation when the parent asks for it (issue 12 part 7).

The action cannot delete the conversation itself: it runs before Rasa saves
the turn, so Rasa would write the events straight back. It only says "done"
and marks that message with a custom payload; the public channel
(channels/guarded_rest.py) deletes the conversation once the turn is saved,
and the widget clears its own copy when it sees the same payload.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

# The custom payload's key; channels/guarded_rest.py and web/jdm-chat.js look for it.
FORGET_KEY = "forget_conversation"
DONE = "utter_forgotten"


class ActionForgetConversation(Action):
    """Confirms the deletion and marks the reply so the channel and the widget delete their copies."""

    def name(self) -> Text:
        return "action_forget_conversation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response=DONE, json_message={FORGET_KEY: True})
        return []
