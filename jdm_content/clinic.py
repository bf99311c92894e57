"""The clinic's own contact details and crisis lines (data/clinic.yml), as parents should read them.

The assistant cannot see records, so for appointments, results, prescriptions
and bills it gives these; the urgent triage advice gives the phone and the
out-of-hours line, and the crisis reply the crisis lines. Values still marked
"PLACEHOLDER: ..." are shown as not set up yet, never as if real.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List

import phonenumbers

from jdm_content.directory import valid_number
from jdm_content.files import DataFileError, load_yaml, require

CLINIC_FILE = "clinic.yml"
PLACEHOLDER_PREFIX = "PLACEHOLDER:"
FIELDS = ("name", "phone", "hours", "out_of_hours")
CRISIS_LINE_FIELDS = ("region", "name", "contact")


@dataclass(frozen=True)
class ClinicDetails:
    """The clinic's details as parents should read them."""

    name: str
    phone: str
    hours: str
    out_of_hours: str


@dataclass(frozen=True)
class CrisisLine:
    """A free, confidential line for someone in crisis: where it serves, its name, how to reach it."""

    region: str
    name: str
    contact: str


# When clinic.yml is broken the parent still gets a useful pointer.
UNKNOWN_CLINIC = ClinicDetails(
    name="Your child's clinic",
    phone="the number on your clinic letters",
    hours="see your clinic letters",
    out_of_hours="the out-of-hours number on your clinic letters",
)


def is_placeholder(value: str) -> bool:
    return value.strip().upper().startswith(PLACEHOLDER_PREFIX)


def shown_placeholder(value: str) -> str:
    """'PLACEHOLDER: clinic phone' -> '[not set up yet: clinic phone]'."""
    what = value.strip()[len(PLACEHOLDER_PREFIX) :].strip() or "detail"
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
        elif field in ("phone", "out_of_hours"):
            shown[field] = shown_phone(value, where)
        else:
            shown[field] = value.strip()
    return ClinicDetails(**shown)


@lru_cache(maxsize=1)
def load_crisis_lines() -> List[CrisisLine]:
    """The crisis lines the clinic lists, in its order (the reply shows them all)."""
    data = load_yaml(CLINIC_FILE)
    entries = require(data if isinstance(data, dict) else {}, "crisis_lines", CLINIC_FILE)
    if not isinstance(entries, list):
        raise DataFileError(f"{CLINIC_FILE}: crisis_lines: expected a list of lines")
    lines = []
    for index, entry in enumerate(entries):
        where = f"{CLINIC_FILE}: crisis_lines[{index}]"
        values = [require(entry, field, where) for field in CRISIS_LINE_FIELDS]
        if not all(isinstance(value, str) for value in values):
            raise DataFileError(f"{where}: region, name and contact must be text")
        lines.append(CrisisLine(*(value.strip() for value in values)))
    return lines
