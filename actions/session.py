"""Every conversation opens with the disclaimer.

A parent may arrive in a panic, so before anything else they read that this
is an automated assistant giving general information, not medical advice,
and what to do in an emergency.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

DISCLAIMER = "utter_disclaimer"


class ActionSessionStart(Action):
    """Rasa's session start (as in the Rasa docs) plus the disclaimer."""

    def name(self) -> Text:
        return "action_session_start"

    @staticmethod
    def carried_over_slots(tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """The slots to keep, if the domain's session_config asks for that."""
        if not domain.get("session_config", {}).get("carry_over_slots_to_new_session", True):
            return []
        return [SlotSet(name, value) for name, value in tracker.slots.items() if value is not None]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response=DISCLAIMER)
        return [SessionStarted(), *self.carried_over_slots(tracker, domain), ActionExecuted("action_listen")]
