"""What happened in each conversation, read from its events.

A turn is one message from the parent and everything the assistant did
before the next one. Which events mean what comes from the actions and the
content files, so a reworded "did you mean" or a renamed action is followed:

- answered: an answering action (action_answer_faq, action_explain_term,
  action_follow_up) gave an answer: a topic's response (utter_faq/<topic>), the
  `topic` slot, or a text of its own. The topic is the slot it set or the
  response it sent, else the topic the conversation was on (a follow-up).
- did you mean: the fallback's first text, or the topic menu's prompt
  (data/safety/fallback.yml `first`, data/knowledge/topics.yml `prompt`).
- fallback: action_jdm_fallback's later stages; its reply to small talk
  (`harmless_guesses`) is not a question.
- not covered: utter_not_covered, or a term with no answer
  (data/knowledge/terms.yml `not_covered`, `unknown`).
- triage tier: the intent `emergency` or `crisis` (set by the triage step), or
  the `care_note` entity (data/safety/triage.yml `tiers`); the most severe counts.
- hand-off: a turn that showed at least one organisation's contact card
  (actions/support.py), with the `support_need` slot it set.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Set, Tuple

from actions.fallback import ActionJdmFallback
from actions.faq import TERM_LABELS, TOPIC_SLOT, ActionAnswerFaq, ActionExplainTerm, ActionFollowUp
from clinic_report.store import Row
from jdm_content.fallback import load_fallback_texts
from jdm_content.knowledge import load_terms, load_topic_menu
from jdm_content.lexicon import canonical_id
from jdm_content.triage import CARE_NOTE_ENTITY, RULE_TIERS

NEED_SLOT = "support_need"
CONTACT_CARD = "utter_contact_card"
NOT_COVERED_RESPONSE = "utter_not_covered"
FAQ_RESPONSE_PREFIX = "utter_faq/"
BUTTON_PREFIX = "/"  # a button's payload, not words the parent wrote
OUTCOMES = ("answered", "fallback", "not_covered", "did_you_mean")


@dataclass(frozen=True)
class Vocabulary:
    """The names and texts that mark each kind of turn."""

    answer_actions: Tuple[str, ...]
    fallback_action: str
    did_you_mean: frozenset
    not_covered: Tuple[re.Pattern, ...]
    small_talk: frozenset  # responses the fallback sends to small talk
    ending_intents: Dict[str, str]

    @classmethod
    def load(cls, ending_intents: Dict[str, str]) -> Vocabulary:
        fallback = load_fallback_texts()
        terms = load_terms()
        # "{name}" in the not-covered text stands for the term the parent named.
        not_covered = re.escape(terms.not_covered).replace(re.escape("{name}"), ".+")
        return cls(
            answer_actions=(ActionAnswerFaq().name(), ActionExplainTerm().name(), ActionFollowUp().name()),
            fallback_action=ActionJdmFallback().name(),
            did_you_mean=frozenset({fallback.first, load_topic_menu().prompt}),
            not_covered=(re.compile(not_covered, re.DOTALL), re.compile(re.escape(terms.unknown))),
            small_talk=frozenset(fallback.harmless_guesses.values()),
            ending_intents=ending_intents,
        )

    @property
    def actions(self) -> Tuple[str, ...]:
        """The actions whose runs the report reads."""
        return (*self.answer_actions, self.fallback_action)

    def is_not_covered(self, text: str) -> bool:
        return any(pattern.fullmatch(text) for pattern in self.not_covered)


@dataclass
class Turn:
    """One parent message and what followed it, as stored."""

    timestamp: float
    intent: Optional[str]
    text: str
    entities: Optional[str]
    actions: Set[str] = field(default_factory=set)
    responses: List[str] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)
    organisations: List[str] = field(default_factory=list)
    slots: Dict[str, Optional[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnResult:
    """What the report counts of one turn."""

    day: str
    tier: Optional[str]
    terms: Tuple[Tuple[str, str], ...]  # (label, lexicon id)
    outcome: Optional[str]  # one of OUTCOMES, or None for anything that is not a question
    topic: Optional[str]
    question: Optional[str]  # the parent's words, for a question not answered
    organisations: Tuple[str, ...]  # cards shown: a hand-off when not empty
    need: Optional[str]
    ending: str


@lru_cache(maxsize=4096)
def _term(label: str, value: str) -> Optional[str]:
    return canonical_id(label, value)


def _entities(raw: Optional[str]) -> List[Dict[str, object]]:
    if not raw or raw == "[]":
        return []
    found = json.loads(raw)
    return [entity for entity in found if isinstance(entity, dict)] if isinstance(found, list) else []


def _tier(intent: Optional[str], entities: List[Dict[str, object]]) -> Optional[str]:
    tiers = {intent} if intent in RULE_TIERS else set()
    tiers |= {str(e.get("value")) for e in entities if e.get("entity") == CARE_NOTE_ENTITY}
    return next((tier for tier in RULE_TIERS if tier in tiers), None)


def _terms(entities: List[Dict[str, object]]) -> Tuple[Tuple[str, str], ...]:
    found: List[Tuple[str, str]] = []
    for entity in entities:
        label = str(entity.get("entity"))
        term = _term(label, str(entity.get("value", ""))) if label in TERM_LABELS else None
        if term and (label, term) not in found:
            found.append((label, term))
    return tuple(found)


def day_of(timestamp: float) -> str:
    """The local calendar day of a timestamp, as the clinic's week runs."""
    return _day_of_minute(int(timestamp // 60))


@lru_cache(maxsize=65536)
def _day_of_minute(minute: int) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(minute * 60))


class Conversation:
    """One conversation's turns, read event by event."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._vocabulary = vocabulary
        self._turn: Optional[Turn] = None
        self._topic: Optional[str] = None
        self.results: List[TurnResult] = []

    def add(self, row: Row) -> None:
        if row.kind == "user":
            self.close()
            self._turn = Turn(row.timestamp, row.intent, row.text or "", row.entities)
            return
        turn = self._turn
        if turn is None:
            return  # the session's start (the disclaimer), before any message
        if row.kind == "action" and row.action:
            turn.actions.add(row.action)
        elif row.kind == "bot":
            if row.response:
                turn.responses.append(row.response)
                if row.response == CONTACT_CARD and row.organisation:
                    turn.organisations.append(row.organisation)
            elif row.text:
                turn.texts.append(row.text)
        elif row.kind == "slot" and row.slot:
            turn.slots[row.slot] = row.value

    def close(self) -> None:
        """Count the open turn (at the next message, or once every event is read)."""
        if self._turn is not None:
            self.results.append(self._result(self._turn))
            self._turn = None

    def _result(self, turn: Turn) -> TurnResult:
        entities = _entities(turn.entities)
        outcome, topic = self._outcome(turn)
        if TOPIC_SLOT in turn.slots:
            self._topic = turn.slots[TOPIC_SLOT]
        unanswered = outcome not in (None, "answered") and not turn.text.startswith(BUTTON_PREFIX)
        return TurnResult(
            day=day_of(turn.timestamp),
            tier=_tier(turn.intent, entities),
            terms=_terms(entities),
            outcome=outcome,
            topic=topic,
            question=turn.text.strip() if unanswered else None,
            organisations=tuple(dict.fromkeys(turn.organisations)),
            need=turn.slots.get(NEED_SLOT) if turn.organisations else None,
            ending=self._ending(turn, outcome),
        )

    def _outcome(self, turn: Turn) -> Tuple[Optional[str], Optional[str]]:
        vocabulary = self._vocabulary
        if any(text in vocabulary.did_you_mean for text in turn.texts):
            return "did_you_mean", None
        if vocabulary.fallback_action in turn.actions:
            small_talk = any(response in vocabulary.small_talk for response in turn.responses)
            return (None if small_talk else "fallback"), None
        faq = next((r[len(FAQ_RESPONSE_PREFIX) :] for r in turn.responses if r.startswith(FAQ_RESPONSE_PREFIX)), None)
        own_text = any(not vocabulary.is_not_covered(text) for text in turn.texts)
        answering = any(action in turn.actions for action in vocabulary.answer_actions)
        if answering and (faq or TOPIC_SLOT in turn.slots or own_text):
            return "answered", turn.slots.get(TOPIC_SLOT) or faq or self._topic
        if NOT_COVERED_RESPONSE in turn.responses or any(vocabulary.is_not_covered(t) for t in turn.texts):
            return "not_covered", None
        return None, None

    def _ending(self, turn: Turn, outcome: Optional[str]) -> str:
        ending = self._vocabulary.ending_intents.get(turn.intent or "")
        if ending:
            return ending
        if turn.organisations:
            return "handoff"
        return "silence_after_did_you_mean" if outcome == "did_you_mean" else "other"


def read_conversations(rows: Iterable[Row], vocabulary: Vocabulary) -> Dict[str, List[TurnResult]]:
    """Each conversation's turn results, by sender id (the ids go no further than the caller)."""
    conversations: Dict[str, Conversation] = {}
    for row in rows:
        conversation = conversations.get(row.sender_id)
        if conversation is None:
            conversation = conversations[row.sender_id] = Conversation(vocabulary)
        conversation.add(row)
    results = {}
    for sender_id, conversation in conversations.items():
        conversation.close()
        if conversation.results:
            results[sender_id] = conversation.results
    return results
