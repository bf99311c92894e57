"""The thing a parent names decides what kind of question it is.

"How do I reach the Arthritis Foundation" is a request for that organisation's
contact, whatever topic the classifier leans to; "plaquenil??" that the
classifier cannot place is still a question about that medicine. The entity
ruler finds these names reliably (data/lexicon.yml), so they set the intent:
`intents` maps an entity to the intent it always brings, `when_unsure` maps
one to the intent it brings when the classifier fell back. Safety intents
(`keep`) are never changed; the red-flag guard runs after this component.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.intent_override import override_intent

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NamedThingIntent(GraphComponent):
    """Sets the intent from a named organisation (always) or term (when unsure)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Reads entities: an extractor (SpacyEntityExtractor here) must come before it."""
        return [EntityExtractorMixin]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # entity -> intent, whatever the classifier said
            "intents": {},
            # entity -> intent, only when the classifier fell back (nlu_fallback)
            "when_unsure": {},
            # intents never changed (safety)
            "keep": [],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NamedThingIntent:
        return cls(config)

    def intent_for(self, intent: Optional[str], entity_labels: List[str]) -> Optional[str]:
        """The intent the named things bring, or None to leave the classifier's."""
        if intent in self._config["keep"]:
            return None
        for label in entity_labels:
            if label in self._config["intents"]:
                return self._config["intents"][label]
        if intent == DEFAULT_NLU_FALLBACK_INTENT_NAME:
            for label in entity_labels:
                if label in self._config["when_unsure"]:
                    return self._config["when_unsure"][label]
        return None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if (message.get(TEXT) or "").startswith("/"):
                continue  # a button payload says its own intent
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            labels = [str(e.get("entity")) for e in message.get(ENTITIES) or []]
            new_intent = self.intent_for(intent, labels)
            if new_intent and new_intent != intent:
                logger.info("Named %s: intent %s set to %s", labels, intent, new_intent)
                override_intent(message, new_intent, 1.0)
        return messages
