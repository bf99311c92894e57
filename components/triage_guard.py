"""The triage step: after the trained classifiers, the clinician's triage table decides.

The classifiers can misread a frightened parent's message, and a phrase list
alone answers "this rash is killing me" with "call 911". This component reads
every message against data/safety/triage.yml (jdm_content/triage.py), whose
rules fire only where their words describe the child now:

- emergency: the intent becomes `emergency` (the emergency reply alone); a
  rule that only mentions help (`with_answer`, "back from the ER, what does
  treatment involve?") keeps the answer, with the emergency advice first;
- crisis: the intent becomes `crisis` (crisis lines and the emergency number),
  with the emergency reply first when an emergency rule fired too;
- urgent, soon: the answer stays, and the entity `care_note` tells
  action_triage_note to put the tier's advice before it, whatever answers;
- a question about dosing or changing one child's medicine becomes
  `ask_child_medicine` (the care team decides those).

The classifier's own `emergency` guess counts only when no rule's words are
in the message at all: the rules' context ("two years ago", "no", "what if")
is what the classifier cannot see, and an emergency a rule finds is never
silenced by the classifier. Which rule fired is logged at DEBUG only: the
logs sit beside addresses in the web server's.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Set, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from components.intent_override import override_intent
from jdm_content import validate_all
from jdm_content.triage import CARE_NOTE_ENTITY, Assessment, Triage, load_triage

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "emergency"
CRISIS_INTENT = "crisis"
CHILD_MEDICINE_INTENT = "ask_child_medicine"
# care_note values: the tier whose advice goes before the answer.
EMERGENCY_FIRST = "emergency"
NOTE_TIERS = ("urgent", "soon")
OVERRIDES = (EMERGENCY_INTENT, CRISIS_INTENT, CHILD_MEDICINE_INTENT)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TriageGuard(GraphComponent):
    """Sets the intent to `emergency`, `crisis` or `ask_child_medicine`; adds `care_note`.

    Put it last in the pipeline (after FallbackClassifier) so nothing
    downstream can undo it.
    """

    def __init__(self, triage: Triage, config: Optional[Dict[Text, Any]] = None) -> None:
        self._triage = triage
        self._answer_after_advice = set({**self.get_default_config(), **(config or {})}["emergency_first_answers"])

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Intents whose answer may follow the emergency advice, for an emergency only the
        # classifier saw or a `with_answer` rule. Empty: always the emergency reply alone.
        return {"emergency_first_answers": []}

    @classmethod
    def required_components(cls) -> List[Type]:
        """Reads only the text and the intent ranking any pipeline gives."""
        return []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TriageGuard:
        # The Rasa server builds this component when it loads the model: check
        # every content file then, so a broken one stops the server at start-up.
        validate_all()
        return cls(load_triage(), config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.startswith("/"):  # a button payload is not the parent's words
                self._triage_one(message, self._triage.correct_typos(text))
        return messages

    def _triage_one(self, message: Message, text: str) -> None:
        assessment = self._triage.assess(text)
        tier = assessment.tier
        logger.debug("Triage %s: %s", tier, [rule.id for rule in assessment.fired])
        tiers = {rule.tier for rule in assessment.fired}
        if CRISIS_INTENT in tiers:
            override_intent(message, CRISIS_INTENT, 1.0)
            if EMERGENCY_INTENT in tiers:  # "she took all her tablets on purpose": both replies
                _add_care_note(message, EMERGENCY_FIRST)
        elif tier == EMERGENCY_INTENT:
            mentions_only = all(rule.with_answer for rule in assessment.fired if rule.tier == EMERGENCY_INTENT)
            if mentions_only and self._intent(message) in self._answer_after_advice:
                _add_care_note(message, EMERGENCY_FIRST)
            else:
                override_intent(message, EMERGENCY_INTENT, 1.0)
        else:
            self._answer_with_note(message, text, assessment)

    def _answer_with_note(self, message: Message, text: str, assessment: Assessment) -> None:
        if self._triage.about_a_childs_medicine(text):
            override_intent(message, CHILD_MEDICINE_INTENT, 1.0)
        elif self._intent(message) in (EMERGENCY_INTENT, CRISIS_INTENT):
            self._weigh_classifier(message, text, assessment)
        if assessment.tier in NOTE_TIERS:
            finding = assessment.first(assessment.tier)
            _add_care_note(message, assessment.tier, finding.match.span() if finding else None)

    def _weigh_classifier(self, message: Message, text: str, assessment: Assessment) -> None:
        """The classifier alone said emergency or crisis: believe it only where no rule's words stand."""
        if assessment.findings or self._triage.is_topic_question(text) or self._triage.context.has_figure(text):
            # The rules saw the words and their context ("two years ago"), a general question,
            # or a figure of speech ("she threw a fit about her tablets").
            _demote(message)
        elif self._intent(message) == EMERGENCY_INTENT and _demote(message, self._answer_after_advice):
            _add_care_note(message, EMERGENCY_FIRST)

    @staticmethod
    def _intent(message: Message) -> Optional[str]:
        return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)


def _demote(message: Message, only_to: Optional[Set[str]] = None) -> bool:
    """Take the classifier's best guess that is no safety override; with `only_to`, only one of those.

    True when the intent changed.
    """
    ranking = message.get(INTENT_RANKING_KEY) or []
    guess = next((r for r in ranking if r.get(INTENT_NAME_KEY) not in OVERRIDES), None)
    if not guess or (only_to is not None and guess[INTENT_NAME_KEY] not in only_to):
        return False
    override_intent(message, guess[INTENT_NAME_KEY], guess.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    return True


def _add_care_note(message: Message, value: str, span: Optional[Tuple[int, int]] = None) -> None:
    """Mark the message for action_triage_note: the tier whose advice goes before the answer."""
    start, end = span or (0, len(message.get(TEXT) or ""))
    entities = list(message.get(ENTITIES) or [])
    entities.append(
        {
            "entity": CARE_NOTE_ENTITY,
            "value": value,
            "start": start,
            "end": end,
            "confidence": 1.0,
            "extractor": TriageGuard.__name__,
        }
    )
    message.set(ENTITIES, entities, add_to_output=True)
