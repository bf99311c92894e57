"""The clinic's own contact details (data/clinic.yml), as parents should read them.

The assistant cannot see records, so for appointments, results, prescriptions
and bills it gives these. Values still marked "PLACEHOLDER: ..." are shown as
not set up yet, never as if real.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict

import phonenumbers

from jdm_content.directory import valid_number
from jdm_content.files import DataFileError, load_yaml, require

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
        elif field == "phone":
            shown[field] = shown_phone(value, where)
        else:
            shown[field] = value.strip()
    return ClinicDetails(**shown)
