"""Appointments, results, prescriptions and bills belong to the clinic.

The assistant cannot see records, so it gives the clinic's own contact
details from data/clinic.yml, the one file the clinic edits. Values still
marked "PLACEHOLDER: ..." are shown as not set up yet, never as if real.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Text

import phonenumbers
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.data_files import DataFileError, load_yaml, require
from actions.directory import valid_number

logger = logging.getLogger(__name__)

CLINIC_FILE = "clinic.yml"
PLACEHOLDER_PREFIX = "PLACEHOLDER:"
FIELDS = ("name", "phone", "hours")


@dataclass(frozen=True)
class ClinicDetails:
    """The clinic's details as parents should read them."""

    name: str
    phone: str
    hours: str


# When clinic.yml is broken the parent still gets a useful pointer.
UNKNOWN_CLINIC = ClinicDetails(
    name="Your child's clinic",
    phone="the number on your clinic letters",
    hours="see your clinic letters",
)


def is_placeholder(value: str) -> bool:
    return value.strip().upper().startswith(PLACEHOLDER_PREFIX)


def shown_placeholder(value: str) -> str:
    """'PLACEHOLDER: clinic phone' -> '[not set up yet: clinic phone]'."""
    what = value.strip()[len(PLACEHOLDER_PREFIX):].strip() or "detail"
    return f"[not set up yet: {what}]"


def shown_phone(value: str, where: str) -> str:
    """A real number as a tap-to-call link; anything else is an error in the file."""
    number = valid_number(value, where)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"[{international}](tel:{e164})"


@lru_cache(maxsize=1)
def load_clinic() -> ClinicDetails:
    data = load_yaml(CLINIC_FILE)
    record = require(data if isinstance(data, dict) else {}, "clinic", CLINIC_FILE)
    shown: Dict[str, str] = {}
    for field in FIELDS:
        where = f"{CLINIC_FILE}: clinic.{field}"
        value = require(record, field, f"{CLINIC_FILE}: clinic")
        if not isinstance(value, str):
            raise DataFileError(f"{where}: must be text in quotes, got {value!r}")
        if is_placeholder(value):
            shown[field] = shown_placeholder(value)
        elif field == "phone":
            shown[field] = shown_phone(value, where)
        else:
            shown[field] = value.strip()
    return ClinicDetails(**shown)


class ActionClinicAdmin(Action):
    """Fills the clinic_* slots that utter_clinic_contact shows."""

    def name(self) -> Text:
        return "action_clinic_admin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
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
