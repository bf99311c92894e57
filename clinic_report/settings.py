"""The report's settings (data/report/settings.yml), checked when read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Pattern

from jdm_content.files import DataFileError, load_yaml, require

SETTINGS_FILE = "report/settings.yml"
ENDINGS = ("thanks", "goodbye", "handoff", "silence_after_did_you_mean", "other")


@dataclass(frozen=True)
class ReportSettings:
    group_similarity: float
    close_topic: float
    min_group_size: int
    wordings_per_group: int
    top_topics: int
    top_terms: int
    top_groups: int
    # intent -> ending ("thanks", "goodbye")
    ending_intents: Dict[str, str]
    # greetings and pleasantries at the start or end of a question
    filler: Pattern[str]


def _whole(data: Dict[str, Any], field: str, low: int) -> int:
    value = require(data, field, SETTINGS_FILE)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DataFileError(f"{SETTINGS_FILE}: '{field}' must be a whole number of {low} or more, not {value!r}")
    return value


def _fraction(data: Dict[str, Any], field: str) -> float:
    value = require(data, field, SETTINGS_FILE)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise DataFileError(f"{SETTINGS_FILE}: '{field}' must be a number between 0 and 1, not {value!r}")
    return float(value)


def _ending_intents(data: Dict[str, Any]) -> Dict[str, str]:
    endings = require(data, "ending_intents", SETTINGS_FILE)
    by_intent: Dict[str, str] = {}
    for ending, intents in (endings if isinstance(endings, dict) else {}).items():
        where = f"{SETTINGS_FILE}: ending_intents: {ending}"
        if ending not in ENDINGS[:2]:
            raise DataFileError(f"{where}: unknown ending (use {' or '.join(ENDINGS[:2])})")
        if not isinstance(intents, list) or not all(isinstance(i, str) and i for i in intents):
            raise DataFileError(f"{where}: expected a list of intent names")
        by_intent.update({intent: ending for intent in intents})
    if not by_intent:
        raise DataFileError(f"{SETTINGS_FILE}: 'ending_intents' must map thanks and goodbye to intents")
    return by_intent


def _filler(data: Dict[str, Any]) -> Pattern[str]:
    phrases = data.get("filler") or []
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
        raise DataFileError(f"{SETTINGS_FILE}: 'filler' must be a list of words or phrases")
    # Longest first, so "thank you" goes whole, not only "thank".
    alternatives = "|".join(re.escape(p.strip().lower()) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives})\b|\b(?:{alternatives})$" if alternatives else r"(?!)")


def load_report_settings() -> ReportSettings:
    data = load_yaml(SETTINGS_FILE)
    if not isinstance(data, dict):
        raise DataFileError(f"{SETTINGS_FILE}: expected settings (group_similarity, min_group_size, ...)")
    return ReportSettings(
        group_similarity=_fraction(data, "group_similarity"),
        close_topic=_fraction(data, "close_topic"),
        min_group_size=_whole(data, "min_group_size", 1),
        wordings_per_group=_whole(data, "wordings_per_group", 1),
        top_topics=_whole(data, "top_topics", 1),
        top_terms=_whole(data, "top_terms", 1),
        top_groups=_whole(data, "top_groups", 1),
        ending_intents=_ending_intents(data),
        filler=_filler(data),
    )
