"""Texts of the two-stage fallback (data/safety/fallback.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict

from jdm_content.files import DataFileError, load_yaml, require

FALLBACK_FILE = "safety/fallback.yml"


@dataclass(frozen=True)
class FallbackTexts:
    first: str
    again: str
    max_suggestions: int
    # intent -> domain response, for an unsure message whose best guess is that intent
    harmless_guesses: Dict[str, str]
    min_guess: float
    max_guess: float
    # Two best guesses this close made the classifier fall back (a close call, not a weak guess).
    close_call: float


@lru_cache(maxsize=1)
def load_fallback_texts() -> FallbackTexts:
    data = load_yaml(FALLBACK_FILE)
    data = data if isinstance(data, dict) else {}
    limit = require(data, "max_suggestions", FALLBACK_FILE)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 5:
        raise DataFileError(f"{FALLBACK_FILE}: 'max_suggestions' must be a whole number from 1 to 5")
    guesses = data.get("harmless_guesses") or {}
    if not isinstance(guesses, dict) or not all(
        isinstance(intent, str) and isinstance(response, str) and response.startswith("utter_")
        for intent, response in guesses.items()
    ):
        raise DataFileError(f"{FALLBACK_FILE}: 'harmless_guesses' must map intents to responses (utter_...)")
    bounds = [data.get(field, default) for field, default in (("min_guess", 0.3), ("max_guess", 0.5))]
    if (
        any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in bounds)
        or not 0 <= bounds[0] <= bounds[1] <= 1
    ):
        raise DataFileError(f"{FALLBACK_FILE}: 'min_guess' and 'max_guess' must be numbers with 0 <= min <= max <= 1")
    min_guess, max_guess = bounds
    close_call = data.get("close_call", 0.0)
    if isinstance(close_call, bool) or not isinstance(close_call, (int, float)) or not 0 <= close_call <= 1:
        raise DataFileError(f"{FALLBACK_FILE}: 'close_call' must be a number from 0 to 1")
    return FallbackTexts(
        first=str(require(data, "first", FALLBACK_FILE)),
        again=str(require(data, "again", FALLBACK_FILE)),
        max_suggestions=limit,
        harmless_guesses=dict(guesses),
        min_guess=float(min_guess),
        max_guess=float(max_guess),
        close_call=float(close_call),
    )
