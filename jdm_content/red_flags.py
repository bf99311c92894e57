"""The clinician-edited red-flag list (data/safety/red_flags.yml), compiled.

Emergencies, questions about one child's medicine and non-urgent warning
signs, matched in a parent's message; the NLU component
components/red_flag_guard.py acts on the matches.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Pattern, Sequence

from jdm_content.files import DataFileError, load_yaml, require

RED_FLAGS_FILE = "safety/red_flags.yml"
_TERM = re.compile(r"\{([A-Za-z_]+)\}")
_WORD = re.compile(r"[^\W\d_][\w-]*")
# Shorter words are too easily mistaken for one another ("pred", "dose").
MIN_TYPO_LENGTH = 5
TYPO_SIMILARITY = 0.85


def _loosen(regex: str) -> str:
    """A space matches any run of spaces (" ?" none or more); an apostrophe is optional."""
    return regex.replace(" ?", r"\s*").replace(" ", r"\s+").replace("'", "['’]?")


def _phrase_regex(phrase: str) -> str:
    return _loosen(re.escape(str(phrase)).replace("\\ ", " ").replace("\\'", "'"))


def _whole_words(regex: str) -> str:
    return rf"(?<!\w)(?:{regex})(?!\w)"


def _compile(regex: str, where: str) -> Pattern[str]:
    try:
        return re.compile(_whole_words(regex), re.IGNORECASE)
    except re.error as error:
        raise DataFileError(f"{where}: not a valid pattern ({error}): {regex!r}") from error


def _string_list(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise DataFileError(f"{where}: expected a list of non-empty texts")
    return value


@dataclass(frozen=True)
class RedFlag:
    """One clinician-written entry: any of `patterns`, and one of `also_needs` if given."""

    id: str
    description: str
    patterns: Sequence[Pattern[str]]
    also_needs: Sequence[Pattern[str]] = ()
    # Mentions, not states ("back from the ER"): the emergency advice comes
    # first, then the answer to the question asked, if there is one.
    with_answer: bool = False

    def first_match(self, text: str) -> Optional[re.Match]:
        if self.also_needs and not any(p.search(text) for p in self.also_needs):
            return None
        for pattern in self.patterns:
            match = pattern.search(text)
            if match:
                return match
        return None


class RedFlagList:
    """The parsed, validated red_flags.yml; errors name the file, entry and field."""

    def __init__(self, data: Any, source: str) -> None:
        if not isinstance(data, dict):
            raise DataFileError(f"{source}: expected a mapping with 'emergency' and 'care_soon'")
        self._source = source
        terms = data.get("terms") or {}
        self._terms = self._parse_terms(terms)
        self._typo_targets = self._parse_typo_targets(terms, data.get("typo_tolerant", []))
        self.emergency = self._parse_flags(require(data, "emergency", source), "emergency")
        self.care_soon = self._parse_flags(require(data, "care_soon", source), "care_soon")
        self.child_medicine = self._parse_flags(data.get("child_medicine", []), "child_medicine")
        self._general_questions = [
            self._pattern(regex, f"{source}: general_questions[{i}]")
            for i, regex in enumerate(_string_list(data.get("general_questions", []), f"{source}: general_questions"))
        ]
        self._personal = self._words(data, "personal_words", source)
        # Questions about a medicine are about one child in more ways ("should I ...", "a 30kg child").
        self._medicine_personal = self._personal + self._words(data, "medicine_personal_words", source)

    @staticmethod
    def _words(data: Dict[str, Any], key: str, source: str) -> List[Pattern[str]]:
        return [
            _compile(_phrase_regex(word), f"{source}: {key}")
            for word in _string_list(data.get(key, []), f"{source}: {key}")
        ]

    @classmethod
    def load(cls) -> RedFlagList:
        return cls(load_yaml(RED_FLAGS_FILE), RED_FLAGS_FILE)

    def _parse_terms(self, terms: Any) -> Dict[str, str]:
        if not isinstance(terms, dict):
            raise DataFileError(f"{self._source}: terms: expected a mapping of name -> list of spellings")
        return {
            name: "(?:"
            + "|".join(_phrase_regex(s) for s in _string_list(spellings, f"{self._source}: terms.{name}"))
            + ")"
            for name, spellings in terms.items()
        }

    def _parse_typo_targets(self, terms: Dict[str, Any], words: Any) -> List[str]:
        where = f"{self._source}: typo_tolerant"
        spellings = {str(s).lower() for values in terms.values() if isinstance(values, list) for s in values}
        targets = [word.lower() for word in _string_list(words, where)] if words else []
        for word in targets:
            if word not in spellings:
                raise DataFileError(f"{where}: {word!r} is not a spelling under 'terms'")
            if not word.isalpha() or len(word) < MIN_TYPO_LENGTH:
                raise DataFileError(f"{where}: {word!r} must be one word of {MIN_TYPO_LENGTH} letters or more")
        return sorted(targets)

    def correct_typos(self, text: str) -> str:
        """Spell a near-miss of a `typo_tolerant` word ("plaquenill") the way the list does."""
        if not self._typo_targets:
            return text

        def fix(match: re.Match) -> str:
            word = match.group(0)
            if len(word) < MIN_TYPO_LENGTH or word.lower() in self._typo_targets:
                return word
            close = difflib.get_close_matches(word.lower(), self._typo_targets, n=1, cutoff=TYPO_SIMILARITY)
            return close[0] if close else word

        return _WORD.sub(fix, text)

    def _pattern(self, regex: str, where: str) -> Pattern[str]:
        def expand(match: re.Match) -> str:
            name = match.group(1)
            if name not in self._terms:
                raise DataFileError(f"{where}: unknown term {{{name}}} (define it under 'terms')")
            return self._terms[name]

        return _compile(_TERM.sub(expand, _loosen(regex)), where)

    def _parse_flags(self, entries: Any, section: str) -> List[RedFlag]:
        where = f"{self._source}: {section}"
        if not isinstance(entries, list):
            raise DataFileError(f"{where}: expected a list of entries")
        flags = []
        for index, entry in enumerate(entries):
            here = f"{where}[{index}]"
            flag_id = require(entry, "id", here)
            here = f"{where}[{index}] (id {flag_id})"
            phrases = _string_list(entry.get("phrases", []), f"{here}: phrases")
            regexes = _string_list(entry.get("patterns", []), f"{here}: patterns")
            if not phrases and not regexes:
                raise DataFileError(f"{here}: needs 'phrases' or 'patterns'")
            patterns = [_compile(_phrase_regex(p), f"{here}: phrases") for p in phrases]
            patterns += [self._pattern(r, f"{here}: patterns") for r in regexes]
            also = [
                self._pattern(r, f"{here}: also_needs")
                for r in _string_list(entry.get("also_needs", []), f"{here}: also_needs")
            ]
            with_answer = entry.get("with_answer", False)
            if not isinstance(with_answer, bool):
                raise DataFileError(f"{here}: with_answer must be true or false")
            description = str(require(entry, "description", here))
            flags.append(RedFlag(str(flag_id), description, patterns, also, with_answer))
        return flags

    def is_topic_question(self, text: str) -> bool:
        """A question about JDM or a medicine in general ("does jdm affect breathing?"), not about one child."""
        return not any(p.search(text) for p in self._personal) and any(p.search(text) for p in self._general_questions)

    def _is_general_question(self, text: str, match: re.Match) -> bool:
        """True when the match sits in a topic question and the message is not about a child."""
        if any(p.search(text) for p in self._personal):
            return False
        start = max(text.rfind(c, 0, match.start()) for c in ".?!;\n") + 1
        ends = [i for i in (text.find(c, match.end()) for c in ".?!;\n") if i != -1]
        clause = text[start : min(ends) if ends else len(text)]
        return any(p.search(clause) for p in self._general_questions)

    def _matches(self, flags: Sequence[RedFlag], text: str) -> List[tuple]:
        found = []
        for flag in flags:
            match = flag.first_match(text)
            if match and not self._is_general_question(text, match):
                found.append((flag, match))
        return found

    def emergencies(self, text: str) -> List[RedFlag]:
        """The emergency entries this message describes (empty: none)."""
        return [flag for flag, _ in self._matches(self.emergency, text)]

    def about_a_childs_medicine(self, text: str) -> List[RedFlag]:
        """The child_medicine entries that match, if the message is about one child."""
        if not any(p.search(text) for p in self._medicine_personal):
            return []
        return [flag for flag in self.child_medicine if flag.first_match(text)]

    def care_notes(self, text: str) -> List[tuple]:
        """(entry, match) pairs for non-urgent warning signs in this message."""
        return self._matches(self.care_soon, text)
