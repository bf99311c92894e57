"""A deterministic safety net after the trained classifiers.

The classifiers can misread a frightened parent's message. This component
checks every message against the clinician-edited red-flag list in
data/safety/red_flags.yml: an emergency anywhere in the message overrides
the intent to `emergency`; a question about changing or dosing one child's
medicine overrides it to `ask_child_medicine` (the care team decides those);
a non-urgent warning sign adds the entity `care_note` = "soon" so the answer
also says "tell the care team soon". When only the classifier (no red flag)
calls a message an emergency and its next guess is a question the assistant
answers ("just back from the ER, what does treatment involve?"), the message
gets that answer with the emergency advice before it (`care_note` = "urgent"):
a parent in danger still reads what to do, and one who is not still gets an
answer.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Set, Text, Type

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
from jdm_content.red_flags import RedFlagList

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "emergency"
CHILD_MEDICINE_INTENT = "ask_child_medicine"
CARE_NOTE_ENTITY = "care_note"
CARE_NOTE_VALUE = "soon"
URGENT_NOTE_VALUE = "urgent"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagGuard(GraphComponent):
    """Overrides the intent to `emergency` or `ask_child_medicine`; adds `care_note`.

    Put it last in the pipeline (after FallbackClassifier) so nothing
    downstream can undo the override.
    """

    def __init__(self, red_flags: RedFlagList, config: Optional[Dict[Text, Any]] = None) -> None:
        self._red_flags = red_flags
        self._answer_unconfirmed = set({**self.get_default_config(), **(config or {})}["unconfirmed_emergency_answers"])

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Intents whose answer may follow the emergency advice, for an emergency
        # only the classifier saw or a `with_answer` red flag; their actions put
        # the advice first. Empty: always the emergency reply alone.
        return {"unconfirmed_emergency_answers": []}

    @classmethod
    def required_components(cls) -> List[Type]:
        """Reads only the text and entities any pipeline gives."""
        return []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagGuard:
        # The Rasa server builds this component when it loads the model: check
        # every content file then, so a broken one stops the server at start-up.
        validate_all()
        return cls(RedFlagList.load(), config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload, not words from the parent
            # Care notes point at the words as typed, so only the checks that
            # change the intent read the typo-corrected text.
            corrected = self._red_flags.correct_typos(text)
            emergencies = self._red_flags.emergencies(corrected)
            if emergencies and all(f.with_answer for f in emergencies) and self._answers(message):
                logger.info(
                    "Red flag(s) %s mentioned in a question: emergency advice first", [f.id for f in emergencies]
                )
                self._add_care_note(message, URGENT_NOTE_VALUE)
                continue
            if emergencies:
                logger.info("Red flag(s) %s: intent set to emergency", [f.id for f in emergencies])
                override_intent(message, EMERGENCY_INTENT, 1.0)
                continue
            medicine = self._red_flags.about_a_childs_medicine(corrected)
            if medicine:
                logger.info("Child medicine %s: intent set to %s", [f.id for f in medicine], CHILD_MEDICINE_INTENT)
                override_intent(message, CHILD_MEDICINE_INTENT, 1.0)
            elif self._is_false_alarm(message, corrected):
                self._demote(message)
            elif self._is_emergency(message) and self._demote(message, self._answer_unconfirmed):
                self._add_care_note(message, URGENT_NOTE_VALUE)
                continue
            self._add_care_note(message, CARE_NOTE_VALUE, self._red_flags.care_notes(text))
        return messages

    def _is_false_alarm(self, message: Message, text: str) -> bool:
        """The classifier said emergency, but no red flag matched and it is a general topic question.

        "Can methotrexate cause black stools?" names a warning sign without
        describing a child: it deserves the answer, not the emergency reply.
        """
        return self._is_emergency(message) and self._red_flags.is_topic_question(text)

    def _answers(self, message: Message) -> bool:
        """The classifier took the message for a question whose answer can follow the emergency advice."""
        return (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in self._answer_unconfirmed

    @staticmethod
    def _is_emergency(message: Message) -> bool:
        return (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == EMERGENCY_INTENT

    @staticmethod
    def _demote(message: Message, only_to: Optional[Set[str]] = None) -> bool:
        """Take the classifier's best guess that is neither an emergency nor about one child's medicine.

        With `only_to`, only when that guess is one of these intents. True when the intent changed.
        """
        ranking = message.get(INTENT_RANKING_KEY) or []
        guess = next(
            (r for r in ranking if r.get(INTENT_NAME_KEY) not in (EMERGENCY_INTENT, CHILD_MEDICINE_INTENT)), None
        )
        if not guess or (only_to is not None and guess[INTENT_NAME_KEY] not in only_to):
            return False
        logger.info("No red flag: intent %s instead of emergency", guess[INTENT_NAME_KEY])
        override_intent(message, guess[INTENT_NAME_KEY], guess.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        return True

    @staticmethod
    def _add_care_note(message: Message, value: str, notes: Optional[List[tuple]] = None) -> None:
        """Mark the message for the answering action: "soon" at a warning sign's words, "urgent" on all of it."""
        if notes is not None and not notes:
            return
        if notes:
            flag, match = notes[0]
            start, end = match.start(), match.end()
            logger.info("Care note %s: entity %s added", flag.id, CARE_NOTE_ENTITY)
        else:
            start, end = 0, len(message.get(TEXT) or "")
        entities = list(message.get(ENTITIES) or [])
        entities.append(
            {
                "entity": CARE_NOTE_ENTITY,
                "value": value,
                "start": start,
                "end": end,
                "confidence": 1.0,
                "extractor": RedFlagGuard.__name__,
            }
        )
        message.set(ENTITIES, entities, add_to_output=True)
