"""The triage advice: the tier's words before whatever answers the message, and the crisis reply.

components/triage_guard.py marks a message whose words need the care team
(entity care_note = "urgent" or "soon"), or the emergency advice before an
answer (care_note = "emergency"). Rasa runs `action_validate_slot_mappings`
(its global slot-validation hook) after every message, before any reply, and
keeps the messages it sends: so the advice reaches the parent on every path
(answer, not covered, fallback, support) without each action having to
remember it. The same hook answers the first of two questions (entity
first_question, components/sentence_classifier.py), so it comes after the
advice and before the rules answer the second.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import answer_first_question
from jdm_content.clinic import UNKNOWN_CLINIC, load_clinic, load_crisis_lines
from jdm_content.files import DataFileError
from jdm_content.triage import CARE_NOTE_ENTITY, load_triage

logger = logging.getLogger(__name__)
# A story's medicine words beside a general question: the child-medicine reply before the answer.
CHILD_MEDICINE_NOTE = "ask_child_medicine"
CHILD_MEDICINE_RESPONSE = "utter_child_medicine"
# Replies that stand alone: nothing is answered before them, not even a first question.
ALONE = ("emergency", "crisis")


def care_notes(tracker: Tracker) -> List[str]:
    """The notes the triage step marked the latest message with, in order: a tier, `child_medicine`."""
    return [
        str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == CARE_NOTE_ENTITY
    ]


def care_note(tracker: Tracker) -> str:
    """The tier the triage step marked the latest message with ("" for none)."""
    tiers = [note for note in care_notes(tracker) if note != CHILD_MEDICINE_NOTE]
    return tiers[0] if tiers else ""


class ActionTriageNote(Action):
    """Say the tier's advice (with the clinic's phone and out-of-hours line), then any first question's answer.

    The name is Rasa's hook that runs after every message; the only slot it
    sets is the first answer's topic. An emergency or crisis reply stands alone.
    """

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        self.say_note(dispatcher, tracker)
        if (tracker.latest_message.get("intent") or {}).get("name") in ALONE:
            return []
        return answer_first_question(dispatcher, tracker, domain)

    @staticmethod
    def say_note(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        if CHILD_MEDICINE_NOTE in care_notes(tracker):
            # A story's dose or change of medicine, beside a general question: answered after this.
            dispatcher.utter_message(response=CHILD_MEDICINE_RESPONSE)
        tier = care_note(tracker)
        response = load_triage().tier_responses.get(tier)
        if response:
            try:
                clinic = load_clinic()
            except DataFileError as error:
                logger.error("Clinic details unavailable: %s", error)
                clinic = UNKNOWN_CLINIC
            dispatcher.utter_message(
                response=response, clinic_phone=clinic.phone, clinic_out_of_hours=clinic.out_of_hours
            )


class ActionCrisis(Action):
    """Warm words, the crisis lines the clinic lists, and the emergency number."""

    def name(self) -> Text:
        return "action_crisis"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        try:
            lines = "\n".join(f"- **{line.name}** ({line.region}): {line.contact}" for line in load_crisis_lines())
        except DataFileError as error:
            logger.error("Crisis lines unavailable: %s", error)
            lines = ""
        dispatcher.utter_message(response="utter_crisis", crisis_lines=lines or "- your local emergency number")
        return []
