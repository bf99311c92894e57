"""The thing a parent names decides what kind of question it is.

"How do I reach the Arthritis Foundation" is a request for that organisation's
contact, whatever topic the classifier leans to; "plaquenil??" that the
classifier cannot place is still a question about that medicine; "how long
will she be on prednisolone?" is the how-long follow-up about prednisolone,
not the last topic's. The entity ruler finds these names reliably
(data/lexicon.yml), so they set the intent: `intents` maps an entity to the
intent it always brings, `follow_ups_about` lists the entities whose message
becomes a follow-up when it has that follow-up's words (`named_cues` in
data/knowledge/follow_ups.yml), `when_unsure` maps one to the intent it brings
when the classifier fell back. Safety intents (`keep`) are never changed; the
red-flag guard runs after this component.

A misspelt name ("plaquenel", "methotrexat") that the ruler cannot find is
found by `MisspeltNames` (jdm_content/fuzzy_names.py), which runs after the
ruler and adds it as an entity with the lexicon spelling as its value: from
there it counts as named, here and in the actions. The featurizers after it
read the word as the lexicon spells it, so the classifier does too.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.intent_override import override_intent
from jdm_content.aspects import question_finder, whole_words
from jdm_content.fuzzy_names import NameMatcher
from jdm_content.knowledge import load_follow_ups
from jdm_content.questions import asked_last, named_in_question
from jdm_content.triage import english_words

FOLLOW_UP_INTENT_PREFIX = "followup_"

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
            # entities whose message is a follow-up about them when it has its words
            "follow_ups_about": [],
            # entity -> intent, only when the classifier fell back (nlu_fallback)
            "when_unsure": {},
            # intents never changed (safety)
            "keep": [],
        }

    def __init__(self, config: Dict[Text, Any], cues: Optional[Dict[str, Tuple[str, ...]]] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._terms = {*self._config["follow_ups_about"], *self._config["when_unsure"]}
        self._named = {*self._config["intents"], *self._terms}
        self._cues: List[Tuple[str, Pattern[str]]] = [
            (FOLLOW_UP_INTENT_PREFIX + kind, whole_words(phrases)) for kind, phrases in (cues or {}).items() if phrases
        ]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NamedThingIntent:
        return cls(config, load_follow_ups().named_cues)

    def intent_for(self, intent: Optional[str], entity_labels: List[str], text: str = "") -> Optional[str]:
        """The intent the named things bring, or None to leave the classifier's."""
        if intent in self._config["keep"]:
            return None
        for label in entity_labels:
            if label in self._config["intents"]:
                return self._config["intents"][label]
        if any(label in self._config["follow_ups_about"] for label in entity_labels):
            for follow_up, cue in self._cues:
                if cue.search(text):
                    return follow_up
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
            # With two questions, the intent is the second's (jdm_content/questions.py): its own words.
            whole = message.get(TEXT) or ""
            text, entities = asked_last(whole, message.get(ENTITIES) or [], self._named)
            # A story's follow-up words and things count in its question parts ("... she's on
            # methotrexate. How long until she's better?" is no follow-up about methotrexate);
            # with no thing named there, the story's.
            if text == whole:
                text, named = named_in_question(question_finder(), whole, entities, self._terms)
                if any(e.get("entity") in self._terms for e in named):
                    entities = named
            labels = [str(e.get("entity")) for e in entities]
            new_intent = self.intent_for(intent, labels, text)
            if new_intent and new_intent != intent:
                # DEBUG only: at INFO its timestamp beside the proxy's would say which address asked about what.
                logger.debug("Named %s: intent %s set to %s", labels, intent, new_intent)
                override_intent(message, new_intent, 1.0)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class MisspeltNames(GraphComponent, EntityExtractorMixin):
    """Adds the lexicon names the entity ruler missed because they are misspelt."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Leaves alone what an extractor before it (SpacyEntityExtractor) found; respells its tokens."""
        return [Tokenizer, EntityExtractorMixin]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # min_similarity (0..1, rapidfuzz ratio) and min_length (shorter words count only as listed)
        # have no default: config.yml gives them, as measured by scripts/measure_fuzzy_names.py.
        return {"labels": ["drug", "test", "symptom"]}

    def __init__(self, matcher: NameMatcher) -> None:
        self._matcher = matcher

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MisspeltNames:
        settings = {**cls.get_default_config(), **config}
        missing = [key for key in ("min_similarity", "min_length") if key not in settings]
        if missing:
            raise ValueError(f"config.yml: {cls.__name__} needs {' and '.join(missing)}")
        matcher = NameMatcher.from_lexicon(
            settings["labels"], float(settings["min_similarity"]), int(settings["min_length"]), english_words()
        )
        return cls(matcher)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload names its own entities
            entities = message.get(ENTITIES) or []
            matches = self._matcher.find(text, [(int(e["start"]), int(e["end"])) for e in entities])
            if not matches:
                continue
            found = [
                {
                    "entity": match.label,
                    "value": match.spelling,
                    "start": match.start,
                    "end": match.end,
                    "confidence": round(match.similarity, 3),
                }
                for match in matches
            ]
            message.set(ENTITIES, entities + self.add_extractor_name(found), add_to_output=True)
            spelt_right(message, {(s, e): word for match in matches for s, e, word in match.corrections})
        return messages


def spelt_right(message: Message, words: Dict[Tuple[int, int], str]) -> None:
    """Give the featurizers after this the lexicon's word for each misspelt one.

    The classifier has never seen "electromiography" and reads "electromiography
    for jdm" as not covered; spelt right, it reads what the parent asked. The
    message's text (and every entity's place in it) stays as typed.
    """
    for token in message.get(TOKENS_NAMES[TEXT]) or []:
        word = words.get((token.start, token.end))
        if word:
            token.text = token.lemma = word
