"""Sends messages made mostly of words the assistant has never seen to the fallback.

A classifier can be sure of itself on keyboard mashing (DIET, our first one,
read "asdf jkl" as `affirm` at 0.6, or as a JDM question at 1.0), so
confidence alone cannot catch it. This component learns the words of the training examples
and, when too few of a message's words are known (or close to a known word,
so typos still count), sets the intent to `nlu_fallback` as Rasa's
FallbackClassifier does. Words inside an entity from the project's spaCy
lexicon count as known. The emergency guard runs after it, so a red flag
still wins.
"""

from __future__ import annotations

import difflib
import json
import logging
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_override import override_intent

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"


def _words(message: Message) -> List[tuple]:
    """(word, start) for each token with a letter in it, lower-cased."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return [(t.text.lower(), t.start) for t in tokens if any(c.isalpha() for c in t.text)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnfamiliarWordsFallback(GraphComponent):
    """Falls back when the share of familiar words is below `min_familiar_share`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Below this share of familiar words, the message goes to the fallback.
            "min_familiar_share": 0.5,
            # A word this similar (0..1) to a known word counts as known: typos.
            "typo_similarity": 0.8,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Iterable[str] = (),
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._use(vocabulary)

    def _use(self, vocabulary: Iterable[str]) -> None:
        self._vocabulary: FrozenSet[str] = frozenset(vocabulary)
        self._by_first_letter: Dict[str, List[str]] = {}
        for word in self._vocabulary:
            self._by_first_letter.setdefault(word[0], []).append(word)

    @classmethod
    def required_components(cls) -> List[Type]:
        """Counts words from the tokens."""
        return [Tokenizer]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnfamiliarWordsFallback:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnfamiliarWordsFallback:
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:
            # A model without a vocabulary must not silence every message.
            logger.warning("No vocabulary in the model (%s): unfamiliar-word check off", error)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary = sorted({word for example in training_data.training_examples for word, _ in _words(example)})
        with self._storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
        self._use(vocabulary)
        return self._resource

    def familiar_share(self, message: Message) -> Optional[float]:
        """The share of the message's words that are known; None if it has none."""
        words = _words(message)
        if not words:
            return None
        in_entities = [(e["start"], e["end"]) for e in message.get(ENTITIES) or []]
        known = sum(1 for word, start in words if any(s <= start < e for s, e in in_entities) or self._is_known(word))
        return known / len(words)

    def _is_known(self, word: str) -> bool:
        if word in self._vocabulary:
            return True
        candidates = self._by_first_letter.get(word[0], [])
        return bool(difflib.get_close_matches(word, candidates, n=1, cutoff=self._config["typo_similarity"]))

    def process(self, messages: List[Message]) -> List[Message]:
        if not self._vocabulary:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if (
                text.startswith("/")
                or (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == DEFAULT_NLU_FALLBACK_INTENT_NAME
            ):
                continue
            share = self.familiar_share(message)
            if share is None or share >= self._config["min_familiar_share"]:
                continue
            logger.info("Only %.0f%% familiar words: intent set to %s", share * 100, DEFAULT_NLU_FALLBACK_INTENT_NAME)
            override_intent(message, DEFAULT_NLU_FALLBACK_INTENT_NAME, 1.0 - share)
        return messages
