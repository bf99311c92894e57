"""Intent and FAQ-topic classifier: logistic regression on sentence features.

One multinomial logistic regression over the whole message's features (the
MiniLM sentence embedding and the word and character counts, each block scaled
to unit length) predicts the fine label: an intent, or a retrieval intent's
topic such as "faq/rash". It replaces DIET and the ResponseSelector because on
our data it generalises better (5-fold cross-validation on data/nlu, measured
with scripts/evaluate.py) and costs one small matrix product per message.

The output has the shape Rasa's own components give, so the fallback, the
actions, `rasa test` and the other components read it unchanged: the intent
(topic probabilities summed into their retrieval intent), the intent ranking,
and a "default" response selection whose topic confidences are conditional on
the retrieval intent, as the ResponseSelector's are.

A long message is read by its question(s) (jdm_content/questions.py): each
question part's own features, blended with the whole message's probabilities
as context, so a story's words do not choose the topic. Of two distinct
questions, the output is the second's, and the first is marked with the
entity `first_question` for the actions to answer before it.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from components.sentence_vectors import SentenceVectors
from jdm_content.questions import FIRST_QUESTION_ENTITY, QuestionFinder, Span

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.npz"
LABELS_FILE = "labels.json"
RESPONSE_SELECTOR = "response_selector"
SELECTOR_KEY = "default"  # the key Rasa's ResponseSelector uses without `retrieval_intent`


def _sentence_blocks(message: Message) -> List[Features]:
    """The message's sentence features, one per featurizer, dense first, so training and prediction line up."""
    return sorted(
        (f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE),
        key=lambda f: (f.is_sparse(), f.origin if isinstance(f.origin, str) else ",".join(f.origin)),
    )


def _scaled(blocks: List[Tuple[Any, bool]], sparse_weight: float) -> List[Tuple[Any, float]]:
    """Each (features, is_sparse) block with the scale that makes it unit length.

    Unit length keeps a long message's counts from outweighing the
    embedding; `sparse_weight` sets how much the counts count beside it.
    """
    scaled = []
    for features, is_sparse in blocks:
        norm = float(np.sqrt(np.square(features.data if is_sparse else features, dtype=np.float64).sum()))
        scaled.append((features, (sparse_weight if is_sparse else 1.0) / norm if norm > 0 else 0.0))
    return scaled


def feature_blocks(message: Message, sparse_weight: float) -> List[Tuple[Any, float]]:
    """The message's sentence features, one block per featurizer, each with the scale that makes it unit length."""
    blocks = _sentence_blocks(message)  # sparse ones as CSR: duplicates summed
    return _scaled(
        [(b.features.tocsr() if b.is_sparse() else b.features, b.is_sparse()) for b in blocks], sparse_weight
    )


def part_blocks(
    message: Message, span: Tuple[int, int], vector: np.ndarray, sparse_weight: float
) -> Optional[List[Tuple[Any, float]]]:
    """The blocks feature_blocks gives, for one part of the message (a question in a story).

    The counts are the part's own tokens' rows of the count featurizers'
    sequence features (their sum is what the featurizer gives a text); the
    embedding is the part's own `vector` from the same encoder. None when
    the message's features cannot be matched up that way.
    """
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    rows = [index for index, token in enumerate(tokens) if span[0] <= token.start < span[1]]
    sequences = {
        f.origin if isinstance(f.origin, str) else ",".join(f.origin): f
        for f in message.features
        if f.attribute == TEXT and f.type == FEATURE_TYPE_SEQUENCE and f.is_sparse()
    }
    blocks: List[Tuple[Any, bool]] = []
    for block in _sentence_blocks(message):
        if not block.is_sparse():
            if block.features.shape[1] != vector.shape[0] or blocks:  # one dense block, first
                return None
            blocks.append((vector[None, :].astype(np.float64), False))
            continue
        origin = block.origin if isinstance(block.origin, str) else ",".join(block.origin)
        sequence = sequences.get(origin)
        if sequence is None or sequence.features.shape[0] != len(tokens) or not rows:
            return None
        blocks.append((scipy.sparse.csr_matrix(sequence.features.tocsr()[rows].sum(axis=0)), True))
    return _scaled(blocks, sparse_weight)


def sentence_features(message: Message, sparse_weight: float) -> Optional[scipy.sparse.csr_matrix]:
    """The message's sentence features as one row (for training): the scaled blocks side by side."""
    blocks = feature_blocks(message, sparse_weight)
    if not blocks:
        return None
    return scipy.sparse.hstack(
        [scipy.sparse.csr_matrix(features, dtype=np.float64) * scale for features, scale in blocks], format="csr"
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceClassifier(GraphComponent, IntentClassifier):
    """Predicts intents and retrieval-intent topics from sentence features."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Needs sentence features: the count and sentence-embedding featurizers before it."""
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # inverse regularisation strength of the logistic regression
            "C": 30.0,
            # weight of each count-featurizer block beside the embedding (both at unit length)
            "sparse_weight": 0.5,
            # intents listed in the ranking
            "ranking_length": 10,
            "max_iter": 3000,
            # Reading a story's questions (jdm_content/questions.py): words that open a
            # question; empty, the whole message is read as one.
            "question_openers": [],
            # the verified MiniLM folder that encodes each question part
            "sentence_model": None,
            "threads": 1,
            # share of the whole message's probabilities in each question's (the story as context)
            "context_weight": 0.5,
            # the intents (the whole message's best guess) whose messages are read by their questions
            "question_intents": [],
            # A second question gets its own answer when the first is one of these intents
            # and at least this likely (else the two are read as one question).
            "answers_first": [],
            "first_question_confidence": 0.4,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        labels: Optional[List[str]] = None,
        weights: Optional[np.ndarray] = None,
        bias: Optional[np.ndarray] = None,
        responses: Optional[Dict[str, List[Dict[str, Any]]]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._labels: List[str] = labels or []
        self._set_weights(weights, bias)
        self._responses = responses or {}
        self._reader: Optional[Tuple[QuestionFinder, SentenceVectors]] = None
        if self._config["question_openers"] and self._config["sentence_model"] and self._weights is not None:
            self._reader = (
                QuestionFinder(self._config["question_openers"]),
                SentenceVectors(Path(self._config["sentence_model"]), int(self._config["threads"])),
            )

    def _set_weights(self, weights: Optional[np.ndarray], bias: Optional[np.ndarray]) -> None:
        # Kept one row per feature, in memory order: a sparse row times a
        # transposed (non-contiguous) matrix made scipy copy all of it on every
        # message (1.7 ms instead of 0.01).
        self._weights = None if weights is None else np.ascontiguousarray(weights.T)
        self._bias = bias

    @property
    def _retrieval_intents(self) -> List[str]:
        """Retrieval intents ("faq"): the labels with a topic after a slash."""
        return sorted({label.split("/", 1)[0] for label in self._labels if "/" in label})

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
                with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
                    weights, bias = arrays["weights"], arrays["bias"]
        except (ValueError, OSError, KeyError) as error:
            # Rasa loads an untrained component for a model trained without NLU data.
            logger.warning("No trained classifier in the model (%s): every message is unclassified", error)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, stored["labels"], weights, bias, stored["responses"])

    def train(self, training_data: TrainingData) -> Resource:
        rows, labels = [], []
        for example in training_data.intent_examples:
            features = sentence_features(example, self._config["sparse_weight"])
            if features is not None:
                rows.append(features)
                labels.append(example.get(INTENT_RESPONSE_KEY) or example.get(INTENT))
        if len(set(labels)) < 2:
            logger.warning("Fewer than two intents in the training data: the classifier is not trained")
            return self._resource
        model = LogisticRegression(C=self._config["C"], max_iter=self._config["max_iter"])
        model.fit(scipy.sparse.vstack(rows, format="csr"), labels)
        weights, bias = np.asarray(model.coef_), np.asarray(model.intercept_)
        if len(model.classes_) == 2:  # one row for the second class: as softmax rows, [0, w]
            weights, bias = np.vstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
        self._labels = [str(label) for label in model.classes_]
        self._set_weights(weights, bias)
        self._responses = {
            label: list(training_data.responses.get(f"utter_{label}", [])) for label in self._labels if "/" in label
        }
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, weights=weights, bias=bias)
            (directory / LABELS_FILE).write_text(
                json.dumps({"labels": self._labels, "responses": self._responses}), encoding="utf-8"
            )
        return self._resource

    def probabilities(self, message: Message) -> Optional[np.ndarray]:
        """The probability of each fine label, or None for a message without features."""
        return self._score(feature_blocks(message, self._config["sparse_weight"]))

    def _score(self, blocks: List[Tuple[Any, float]]) -> Optional[np.ndarray]:
        """Softmax of the linear scores of scaled feature blocks; None without weights or with the wrong width."""
        if self._weights is None or self._bias is None:
            return None
        if not blocks or sum(features.shape[1] for features, _ in blocks) != self._weights.shape[0]:
            return None
        # Block by block against the matching rows of the weights: the same
        # product as sentence_features(...) @ weights, without building that row.
        scores, start = self._bias.astype(np.float64), 0
        for features, scale in blocks:
            end = start + features.shape[1]
            scores = scores + scale * np.asarray(features @ self._weights[start:end]).ravel()
            start = end
        scores = np.exp(scores - scores.max())
        return np.asarray(scores / scores.sum())

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            probabilities = self.probabilities(message)
            if probabilities is None:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            probabilities, first = self._read_questions(message, probabilities)
            if first:
                _mark_first_question(message, *first)
            intents, topics = self._group(probabilities)
            ranking = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: p} for name, p in intents]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[: self._config["ranking_length"]], add_to_output=True)
            if self._retrieval_intents:
                message.set(RESPONSE_SELECTOR, self._selection(intents, topics), add_to_output=True)
        return messages

    def _read_questions(
        self, message: Message, whole: np.ndarray
    ) -> Tuple[np.ndarray, Optional[Tuple[Span, str, float]]]:
        """The probabilities to answer with, and the first of two distinct questions (span, label, probability).

        A message of several parts with one or two questions, read as a whole
        as one of `question_intents` (a request for a person or for support
        is left whole), is read by its questions, each blended with the whole
        message (the story is their context). Otherwise, or when a part
        cannot be featurized, the whole message's probabilities stand.
        """
        text = message.get(TEXT) or ""
        best = self._labels[int(np.argmax(whole))].split("/", 1)[0]
        if self._reader is None or text.startswith("/") or best not in self._config["question_intents"]:
            return whole, None
        finder, vectors = self._reader
        parts = finder.split(text)
        if len(parts.parts) < 2 or not 1 <= len(parts.asking) <= 2:
            return whole, None
        weight = float(self._config["context_weight"])
        blended = []
        for span, vector in zip(parts.asking, vectors([text[s:e] for s, e in parts.asking]), strict=True):
            own = self._score(part_blocks(message, span, vector, self._config["sparse_weight"]) or [])
            if own is None:
                return whole, None
            blended.append(_blend(whole, own, weight))
        if len(blended) == 2:
            first, second = (int(np.argmax(p)) for p in blended)
            label, confidence = self._labels[first], float(blended[0][first])
            if (
                first != second
                and label.split("/", 1)[0] in self._config["answers_first"]
                and confidence >= self._config["first_question_confidence"]
            ):
                return blended[1], (parts.asking[0], label, confidence)
        return np.mean(blended, axis=0), None

    def _group(self, probabilities: np.ndarray) -> Tuple[List[Tuple[str, float]], Dict[str, List[Tuple[str, float]]]]:
        """Intents best first (a retrieval intent sums its topics) and each retrieval intent's topics."""
        intents: Dict[str, float] = defaultdict(float)
        topics: Dict[str, List[Tuple[str, float]]] = defaultdict(list)
        for label, p in zip(self._labels, probabilities.tolist(), strict=True):
            intent = label.split("/", 1)[0]
            intents[intent] += p
            if "/" in label:
                topics[intent].append((label, p))
        return sorted(intents.items(), key=lambda item: -item[1]), topics

    def _selection(
        self, intents: List[Tuple[str, float]], topics: Dict[str, List[Tuple[str, float]]]
    ) -> Dict[str, Any]:
        """The response selection of the likeliest retrieval intent, as the ResponseSelector gives it."""
        intent = next(name for name, _ in intents if name in self._retrieval_intents)
        total = sum(p for _, p in topics[intent]) or 1.0
        ranked = sorted(((label, p / total) for label, p in topics[intent]), key=lambda item: -item[1])
        best, confidence = ranked[0]
        return {
            "all_retrieval_intents": self._retrieval_intents,
            SELECTOR_KEY: {
                "response": {
                    "responses": self._responses.get(best, []),
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: best,
                    "utter_action": f"utter_{best}",
                },
                "ranking": [
                    {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: label}
                    for label, p in ranked[: self._config["ranking_length"]]
                ],
            },
        }


def _blend(whole: np.ndarray, own: np.ndarray, weight: float) -> np.ndarray:
    """A question's probabilities with the whole message's as context: a weighted geometric mean.

    A vague question ("is this normal?") spreads its probability thin, so the
    story decides; a clear one outweighs the story's words.
    """
    logs = weight * np.log(np.maximum(whole, 1e-12)) + (1 - weight) * np.log(np.maximum(own, 1e-12))
    blended = np.exp(logs - logs.max())
    return np.asarray(blended / blended.sum())


def _mark_first_question(message: Message, span: Span, label: str, confidence: float) -> None:
    """The entity that asks action_validate_slot_mappings to answer the first question before the second."""
    entity = {
        "entity": FIRST_QUESTION_ENTITY,
        "value": label,
        "start": span[0],
        "end": span[1],
        "confidence": confidence,
        "extractor": SentenceClassifier.__name__,
    }
    message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
