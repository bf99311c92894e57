"""The clinician's sign-off record (data/review/signoff.yml): which texts and rules were checked, as they were.

Each record names a text or triage rule (its id on the review sheet), the
SHA-256 of its words when it was signed, who signed and when. A text whose
words changed since no longer counts as signed: the review sheet shows it as
"changed since sign-off" and the production profile counts it at start-up.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Dict, Iterable, List, Tuple

import yaml

from jdm_content.files import DataFileError, data_dir, load_yaml, require

SIGNOFF_FILE = "review/signoff.yml"
SIGNED, NEVER, CHANGED = "signed", "never signed", "changed since sign-off"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignOff:
    id: str
    sha256: str
    reviewer: str
    date: str


@dataclass(frozen=True)
class Status:
    state: str  # SIGNED, NEVER or CHANGED
    record: SignOff | None = None

    def describe(self) -> str:
        if self.record is None:
            return NEVER
        who = f"{self.record.reviewer}, {self.record.date}"
        return f"signed by {who}" if self.state == SIGNED else f"{CHANGED} (signed by {who})"


def load_signoffs() -> Dict[str, SignOff]:
    data = load_yaml(SIGNOFF_FILE) or {}
    records = data.get("signed") if isinstance(data, dict) else None
    if records is None:
        return {}
    if not isinstance(records, list):
        raise DataFileError(f"{SIGNOFF_FILE}: 'signed' must be a list of records")
    signed: Dict[str, SignOff] = {}
    for index, record in enumerate(records):
        where = f"{SIGNOFF_FILE}: signed[{index}]"
        values = [str(require(record, field, where)) for field in ("id", "sha256", "reviewer", "date")]
        if len(values[1]) != 64 or any(c not in "0123456789abcdef" for c in values[1]):
            raise DataFileError(f"{where}: sha256 must be 64 lower-case hex digits")
        try:
            datetime.date.fromisoformat(values[3])
        except ValueError:
            raise DataFileError(f"{where}: date must be YYYY-MM-DD, not {values[3]!r}") from None
        signed[values[0]] = SignOff(*values)
    return signed


def status(item_id: str, text: str, signed: Dict[str, SignOff]) -> Status:
    record = signed.get(item_id)
    if record is None:
        return Status(NEVER)
    return Status(SIGNED if record.sha256 == digest(text) else CHANGED, record)


def tally(items: Iterable[Tuple[str, str]], signed: Dict[str, SignOff]) -> Dict[str, int]:
    """How many of the (id, text) items are signed, never signed, changed since sign-off."""
    counts = {SIGNED: 0, NEVER: 0, CHANGED: 0}
    for item_id, text in items:
        counts[status(item_id, text, signed).state] += 1
    return counts


def sign(items: Iterable[Tuple[str, str]], reviewer: str, day: datetime.date) -> List[str]:
    """Record the items' words as signed by `reviewer` today; keep every other record. Returns the ids signed."""
    if not reviewer.strip():
        raise DataFileError("a sign-off needs the reviewer's name")
    signed = load_signoffs()
    done = []
    for item_id, text in items:
        signed[item_id] = SignOff(item_id, digest(text), reviewer.strip(), day.isoformat())
        done.append(item_id)
    path = data_dir() / SIGNOFF_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Clinical sign-off: each text or triage rule a clinician checked, the SHA-256 of its words then,\n"
        "# who and when. Written by `make signoff REVIEWER=...` after reading results/content-review.html;\n"
        "# a text changed since shows as 'changed since sign-off' until it is signed again.\n"
    )
    records = [vars(record) for record in sorted(signed.values(), key=lambda r: r.id)]
    path.write_text(header + yaml.safe_dump({"signed": records}, sort_keys=False, allow_unicode=True), "utf-8")
    return done
