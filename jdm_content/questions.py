"""Where a message asks: its sentences, and which of them are questions.

Parents write stories: three weeks in hospital, the rash, the stairs, then
"Will she have to take steroids for years?". Read as one text, the story's
words choose the topic; the question is in one or two of its parts. A part is
a sentence (pysbd, shared with the triage step: jdm_content/context.py) or,
inside a question, a clause joined by "and" that opens like a question ("why
is it given, and how long will she take it?"). A part asks when it ends with
"?" or opens with one of the configured question openers.

The classifier reads the asking parts (components/sentence_classifier.py), and
when it finds two questions it marks the first with the entity
`first_question`, which action_validate_slot_mappings answers before the
second (actions/care_team.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Dict, List, Optional, Sequence, Tuple

from jdm_content.context import sentence_spans

Span = Tuple[int, int]
FIRST_QUESTION_ENTITY = "first_question"
# Conjunctions that may join a second question inside one sentence.
JOINERS = ("and", "also", "plus", "&")


@dataclass(frozen=True)
class Parts:
    """A message's parts (character spans, in order) and the ones that ask."""

    parts: Tuple[Span, ...]
    asking: Tuple[Span, ...]


class QuestionFinder:
    """Splits a message into parts and tells which ones ask."""

    def __init__(self, openers: Sequence[str]) -> None:
        words = "|".join(re.escape(word) for word in sorted(openers, key=len, reverse=True))
        # "can't get her to eat" is no question: an opener is a whole word without an apostrophe after it.
        opener = rf"(?:{words})\b(?!['’])"
        self._opens = re.compile(rf"^\W*{opener}", re.IGNORECASE)
        joiners = "|".join(re.escape(word) for word in JOINERS)
        self._joined = re.compile(rf"(?:\s*,\s*|\s+)(?:{joiners})\s+(?={opener})", re.IGNORECASE)

    def asks(self, part: str) -> bool:
        return part.rstrip().endswith("?") or bool(self._opens.match(part))

    def split(self, text: str) -> Parts:
        parts: List[Span] = []
        for start, end in sentence_spans(text):
            if not self.asks(text[start:end]):
                parts.append((start, end))
                continue
            cut = start
            for joint in self._joined.finditer(text, start, end):
                parts.append((cut, joint.start()))
                cut = joint.end()
            parts.append((cut, end))
        spans = tuple(trimmed for span in parts if (trimmed := _trim(text, span)))
        return Parts(spans, tuple(span for span in spans if self.asks(text[span[0] : span[1]])))


def _trim(text: str, span: Span) -> Optional[Span]:
    """The span without surrounding spaces; None when nothing is left."""
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def first_question(
    text: str, entities: Sequence[Dict[str, Any]]
) -> Optional[Tuple[str, List[Dict[str, Any]], str, float]]:
    """The first question the classifier marked: its words, the entities in it, its label and probability."""
    marks = [e for e in entities if e.get("entity") == FIRST_QUESTION_ENTITY]
    if not marks:
        return None
    start, end = int(marks[0]["start"]), int(marks[0]["end"])
    inside = [e for e in entities if start <= int(e.get("start", -1)) < end and e is not marks[0]]
    return text[start:end], inside, str(marks[0]["value"]), float(marks[0].get("confidence") or 0.0)


def asked_last(
    text: str, entities: Sequence[Dict[str, Any]], named: Collection[str]
) -> Tuple[str, List[Dict[str, Any]]]:
    """The words and entities the message's (last) question is about.

    Without a marked first question, the whole message. With one, the rest of
    the message; its things named (entity labels in `named`) are the first
    question's when it names none itself ("why is plaquenil given, and how
    long will she take it?").
    """
    marks = [e for e in entities if e.get("entity") == FIRST_QUESTION_ENTITY]
    if not marks:
        return text, list(entities)
    start, end = int(marks[0]["start"]), int(marks[0]["end"])
    own = [e for e in entities if not start <= int(e.get("start", -1)) < end]
    rest = f"{text[:start]} {text[end:]}".strip()
    return rest, own if any(e.get("entity") in named for e in own) else list(entities)


def named_in_question(
    finder: QuestionFinder, text: str, entities: Sequence[Dict[str, Any]], labels: Collection[str]
) -> Tuple[str, List[Dict[str, Any]]]:
    """A story's question words, and the entities it names there: the story's own names left out.

    "... now she's on pred and methotrexate. Will she grow out of it?" asks
    about the outlook, not about the medicines the story names. In a message
    the classifier reads by its questions (several parts, one or two of them
    asking), the entities of `labels` count only inside the asking parts;
    any other entity, and every entity of any other message, is kept, with
    the whole text.
    """
    parts = finder.split(text)
    if len(parts.parts) < 2 or not 1 <= len(parts.asking) <= 2:
        return text, list(entities)
    kept = [
        e
        for e in entities
        if e.get("entity") not in labels or any(s <= int(e.get("start", -1)) < end for s, end in parts.asking)
    ]
    return " ".join(text[s:end] for s, end in parts.asking), kept
