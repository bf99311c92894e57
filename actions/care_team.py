"""The "tell the care team soon" nudge that follows an answer.

The red-flag guard marks a message that mentions a non-urgent warning sign
(entity care_note); whatever answers it adds this nudge after the answer.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

CARE_TEAM_SOON = "utter_tell_care_team_soon"


def remind_care_team(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Add the safety guard's nudge when it marked the message (entity care_note)."""
    if any(e.get("entity") == "care_note" for e in tracker.latest_message.get("entities", [])):
        dispatcher.utter_message(response=CARE_TEAM_SOON)
