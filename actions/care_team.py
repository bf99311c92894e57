"""The safety guard's notes around an answer.

The red-flag guard marks a message that mentions a non-urgent warning sign
(entity care_note = "soon"); whatever answers it adds "tell the care team
soon" after the answer. A message only the classifier took for an emergency
(care_note = "urgent") gets the emergency advice before the answer.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

CARE_TEAM_SOON = "utter_tell_care_team_soon"
EMERGENCY = "utter_emergency"


def _care_note(tracker: Tracker) -> str:
    notes = [str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == "care_note"]
    return notes[0] if notes else ""


def warn_if_urgent(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Emergency advice first when the message may describe an emergency."""
    if _care_note(tracker) == "urgent":
        dispatcher.utter_message(response=EMERGENCY)


def remind_care_team(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Add the safety guard's nudge when it marked a warning sign in the message."""
    if _care_note(tracker) == "soon":
        dispatcher.utter_message(response=CARE_TEAM_SOON)
