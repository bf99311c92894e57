"""The NLU data behind the medical answers: enough examples per topic, and honest held-out sets.

The held-out files only measure how well the assistant understands new wordings
if none of their questions is also a training example (punctuation and case aside).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TRAINING_DIR = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
QUESTIONS = ROOT / "tests" / "heldout" / "questions.yml"
TOPICS = ROOT / "data" / "knowledge" / "topics.yml"

MIN_TRAINING_PER_TOPIC = 15
MIN_HELDOUT_PER_TOPIC = 5


def examples_by_intent(*files: Path) -> Dict[str, List[str]]:
    """Intent (full retrieval name, e.g. faq/rash) -> example texts, from Rasa NLU YAML files."""
    found: Dict[str, List[str]] = defaultdict(list)
    for path in files:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            lines = block["examples"].splitlines()
            found[block["intent"]] += [line[2:].strip() for line in lines if line.startswith("- ")]
    return found


def normalised(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def training() -> Dict[str, List[str]]:
    return examples_by_intent(*sorted(TRAINING_DIR.glob("*.yml")))


@pytest.fixture(scope="module")
def heldout() -> Dict[str, List[str]]:
    return examples_by_intent(HELDOUT)


def faq_topics() -> List[str]:
    return [topic["id"] for topic in yaml.safe_load(TOPICS.read_text(encoding="utf-8"))["topics"]]


def test_no_heldout_example_is_also_a_training_example(training, heldout) -> None:
    seen = {normalised(text) for texts in training.values() for text in texts}
    leaked = [text for texts in heldout.values() for text in texts if normalised(text) in seen]
    assert not leaked, f"held-out examples also in data/nlu/: {leaked}"


def test_no_end_to_end_heldout_question_is_a_training_example(training) -> None:
    seen = {normalised(text) for texts in training.values() for text in texts}
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    assert len(questions) >= 250
    leaked = [q["text"] for q in questions if normalised(q["text"]) in seen]
    assert not leaked, f"held-out questions also in data/nlu/: {leaked}"


def test_no_example_is_given_two_intents(training) -> None:
    owners: Dict[str, List[str]] = defaultdict(list)
    for intent, texts in training.items():
        for text in texts:
            owners[normalised(text)].append(intent)
    clashes = {text: intents for text, intents in owners.items() if len(set(intents)) > 1}
    assert not clashes, f"examples labelled with more than one intent: {clashes}"


@pytest.mark.parametrize("topic", faq_topics())
def test_every_topic_has_enough_training_and_heldout_examples(topic, training, heldout) -> None:
    intent = f"faq/{topic}"
    assert len(training[intent]) >= MIN_TRAINING_PER_TOPIC, f"{intent}: too few training examples"
    assert len(heldout[intent]) >= MIN_HELDOUT_PER_TOPIC, f"{intent}: too few held-out examples"


def test_heldout_only_uses_topics_the_assistant_answers(heldout) -> None:
    unknown = {intent for intent in heldout if intent.startswith("faq/")} - {f"faq/{topic}" for topic in faq_topics()}
    assert not unknown, f"held-out topics not in data/knowledge/topics.yml: {sorted(unknown)}"
