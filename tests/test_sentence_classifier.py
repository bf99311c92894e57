"""The sentence classifier: trained, stored and loaded for real, read as Rasa's own output."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.fallback import ranked_topic_ids
from actions.faq import selected_topic
from components.sentence_classifier import SentenceClassifier, sentence_features

RESOURCE = Resource("sentence_classifier")
CONTEXT = ExecutionContext(GraphSchema({}), "test")
# Four made-up "meanings", each a direction in a 4-dimensional embedding.
DIRECTIONS = {"greet": 0, "faq/rash": 1, "faq/outlook": 2, "emergency": 3}


def message(direction: Optional[int], label: Optional[str] = None, counts: int = 1) -> Message:
    """A message with a dense sentence embedding near `direction` and a sparse count block."""
    data: Dict[str, str] = {"text": "x"}
    if label:
        intent, _, topic = label.partition("/")
        data["intent"] = intent
        if topic:
            data["intent_response_key"] = label
    features: List[Features] = []
    if direction is not None:
        rng = np.random.default_rng(direction * 100 + counts)
        dense = rng.normal(0, 0.1, (1, 4))
        dense[0, direction] += 1.0
        features = [
            Features(dense, "sentence", "text", "embedding"),
            Features(scipy.sparse.coo_matrix(np.full((1, 3), counts, dtype=float)), "sentence", "text", "counts"),
            Features(np.ones((2, 4)), "sequence", "text", "embedding"),
        ]
    return Message(data=data, features=features)


def training_data() -> TrainingData:
    examples = [message(d, label, counts=n) for label, d in DIRECTIONS.items() for n in range(1, 9)]
    responses = {"utter_faq/rash": [{"text": "About the rash."}], "utter_faq/outlook": [{"text": "About the outlook."}]}
    return TrainingData(training_examples=examples, responses=responses)


@pytest.fixture
def trained(tmp_path: Path) -> LocalModelStorage:
    storage = LocalModelStorage(tmp_path)
    SentenceClassifier.create({}, storage, RESOURCE, CONTEXT).train(training_data())
    return storage


def loaded(storage: LocalModelStorage) -> SentenceClassifier:
    return SentenceClassifier.load({}, storage, RESOURCE, CONTEXT)


def classify(classifier: SentenceClassifier, direction: Optional[int]) -> Message:
    new = message(direction)
    classifier.process([new])
    return new


def test_each_block_counts_at_unit_length_with_the_counts_weighted() -> None:
    row = sentence_features(message(1, counts=50), sparse_weight=0.5)
    assert row is not None and row.shape == (1, 7)
    dense, sparse = row.toarray()[0, :4], row.toarray()[0, 4:]
    assert np.linalg.norm(dense) == pytest.approx(1.0)
    assert np.linalg.norm(sparse) == pytest.approx(0.5)  # 50 counts weigh no more than 1


def test_a_topic_question_after_loading_is_its_retrieval_intent_with_the_topic_selected(
    trained: LocalModelStorage,
) -> None:
    result = classify(loaded(trained), DIRECTIONS["faq/outlook"])
    intent, ranking = result.get("intent"), result.get("intent_ranking")
    assert intent["name"] == "faq"
    assert [r["name"] for r in ranking][0] == "faq" and len(ranking) == 3  # topics summed into one intent
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    # The actions read the selection exactly as they read the ResponseSelector's.
    topic, confidence = selected_topic(result.as_dict())
    assert topic == "outlook" and confidence > 0.5
    assert ranked_topic_ids(result.as_dict()) == ["outlook", "rash"]
    selection = result.get("response_selector")
    assert selection["all_retrieval_intents"] == ["faq"]
    assert selection["default"]["response"]["responses"] == [{"text": "About the outlook."}]
    assert sum(r["confidence"] for r in selection["default"]["ranking"]) == pytest.approx(1.0)


def test_other_intents_are_told_apart_and_ranked_best_first(trained: LocalModelStorage) -> None:
    classifier = loaded(trained)
    for label in ("greet", "emergency"):
        ranking = classify(classifier, DIRECTIONS[label]).get("intent_ranking")
        assert ranking[0]["name"] == label
        assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_the_loaded_classifier_predicts_what_the_trained_one_did(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    fresh = SentenceClassifier.create({}, storage, RESOURCE, CONTEXT)
    fresh.train(training_data())
    for direction in DIRECTIONS.values():
        before = classify(fresh, direction).get("intent_ranking")
        after = classify(loaded(storage), direction).get("intent_ranking")
        assert [r["name"] for r in before] == [r["name"] for r in after]
        assert [r["confidence"] for r in before] == pytest.approx([r["confidence"] for r in after])


def test_a_message_scores_as_scikit_learn_scores_its_training_row(tmp_path: Path) -> None:
    """Prediction works block by block; it must equal the model fitted on whole rows."""
    from sklearn.linear_model import LogisticRegression

    data = training_data()
    rows = scipy.sparse.vstack([sentence_features(m, 0.5) for m in data.training_examples], format="csr")
    labels = [m.get("intent_response_key") or m.get("intent") for m in data.training_examples]
    reference = LogisticRegression(C=30, max_iter=1000).fit(rows, labels)
    storage = LocalModelStorage(tmp_path)
    SentenceClassifier.create({"C": 30, "sparse_weight": 0.5}, storage, RESOURCE, CONTEXT).train(data)
    classifier = SentenceClassifier.load({"C": 30, "sparse_weight": 0.5}, storage, RESOURCE, CONTEXT)
    for direction in DIRECTIONS.values():
        new = message(direction, counts=5)
        expected = reference.predict_proba(sentence_features(new, 0.5))[0]
        assert classifier.probabilities(new) == pytest.approx(expected, abs=1e-6)


def test_two_intents_are_enough(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    examples = [message(d, label, counts=n) for label, d in (("greet", 0), ("emergency", 3)) for n in range(1, 9)]
    SentenceClassifier.create({}, storage, RESOURCE, CONTEXT).train(TrainingData(training_examples=examples))
    result = classify(loaded(storage), 3)
    assert result.get("intent")["name"] == "emergency" and result.get("intent")["confidence"] > 0.5
    assert result.get("response_selector") is None  # no retrieval intent, no selection


def test_a_message_without_features_is_unclassified_not_a_crash(trained: LocalModelStorage) -> None:
    result = classify(loaded(trained), None)
    assert result.get("intent") == {"name": None, "confidence": 0.0}
    assert result.get("intent_ranking") == []


def test_a_model_without_a_trained_classifier_leaves_messages_unclassified(tmp_path: Path) -> None:
    result = classify(loaded(LocalModelStorage(tmp_path)), DIRECTIONS["greet"])
    assert result.get("intent")["name"] is None
