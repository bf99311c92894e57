"""Questions about one child's own medicine: the care team decides, we give general facts.

A dose, a missed dose, stopping, changing or combining medicines is for the
child's care team or pharmacist. After saying so, the assistant gives what the
sources say about the medicine the parent named, and nothing about any other.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import described_terms
from jdm_content.lexicon import entry


class ActionChildMedicine(Action):
    """The care-team reply, then the named medicine's general fact (or the steroid one)."""

    def name(self) -> Text:
        return "action_child_medicine"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_child_medicine")
        medicines = [(drug, term) for term in described_terms(tracker) if (drug := entry("drug", term.id))]
        if not medicines:
            dispatcher.utter_message(response="utter_steroid_general")
        for drug, term in medicines:
            dispatcher.utter_message(response="utter_named_medicine_general", medicine=drug.name)
            dispatcher.utter_message(text=term.dose_answer)
        return []
