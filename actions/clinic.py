"""Appointments, results, prescriptions and bills belong to the clinic.

The assistant cannot see records, so it gives the clinic's own contact
details from data/clinic.yml (jdm_content/clinic.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from jdm_content.clinic import UNKNOWN_CLINIC, load_clinic
from jdm_content.files import DataFileError

logger = logging.getLogger(__name__)


class ActionClinicAdmin(Action):
    """Fills the clinic_* slots that utter_clinic_contact shows."""

    def name(self) -> Text:
        return "action_clinic_admin"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        try:
            clinic = load_clinic()
        except DataFileError as error:
            logger.error("Clinic details unavailable: %s", error)
            clinic = UNKNOWN_CLINIC
        return [
            SlotSet("clinic_name", clinic.name),
            SlotSet("clinic_phone", clinic.phone),
            SlotSet("clinic_hours", clinic.hours),
        ]
