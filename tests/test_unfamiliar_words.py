"""The unfamiliar-words fallback: keyboard mashing goes to the fallback, typos do not."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.unfamiliar_words import UnfamiliarWordsFallback

TRAINING = [
    "what is juvenile dermatomyositis",
    "what is methotrexate for",
    "how is jdm treated",
    "does the rash come back",
    "hello there",
]
RESOURCE = Resource("unfamiliar_words")
CONTEXT = ExecutionContext(GraphSchema({}), "test")


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def tokenized(texts: List[str]) -> List[Message]:
    tokenizer = WhitespaceTokenizer.create({**WhitespaceTokenizer.get_default_config()}, None, None, None)  # type: ignore[arg-type]
    messages = [Message(data={"text": text}) for text in texts]
    tokenizer.process(messages)
    return messages


def trained(storage: LocalModelStorage, **config: float) -> UnfamiliarWordsFallback:
    component = UnfamiliarWordsFallback.create(config, storage, RESOURCE, CONTEXT)
    component.train(TrainingData(tokenized(TRAINING)))
    return UnfamiliarWordsFallback.load(config, storage, RESOURCE, CONTEXT)


def intent_after(component: UnfamiliarWordsFallback, text: str, entities: Optional[list] = None) -> str:
    message = tokenized([text])[0]
    message.set("intent", {"name": "faq", "confidence": 0.99})
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.99}])
    message.set("entities", entities or [])
    component.process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize("text", ["asdf jkl", "zzzz qqqq xkcd", "qwerty uiop", "blah blah blah"])
def test_keyboard_mashing_goes_to_the_fallback(storage: LocalModelStorage, text: str) -> None:
    assert intent_after(trained(storage), text) == "nlu_fallback"


@pytest.mark.parametrize(
    "text",
    [
        "what is methotrexate for?",
        "wat is metotrexate for",  # typos of known words count as known
        "HOW IS JDM TREATED",
        "hello there xyzzy",  # two of three words known
        "👍",  # no words at all: left to the classifiers
    ],
)
def test_familiar_messages_keep_their_intent(storage: LocalModelStorage, text: str) -> None:
    assert intent_after(trained(storage), text) == "faq"


def test_words_inside_a_lexicon_entity_count_as_known(storage: LocalModelStorage) -> None:
    component = trained(storage)
    assert intent_after(component, "plaquenil") == "nlu_fallback"
    entity = {"entity": "drug", "value": "hydroxychloroquine", "start": 0, "end": 9}
    assert intent_after(component, "plaquenil", entities=[entity]) == "faq"


def test_the_fallback_keeps_the_classifiers_ranking(storage: LocalModelStorage) -> None:
    message = tokenized(["asdf jkl"])[0]
    message.set("intent", {"name": "affirm", "confidence": 0.6})
    message.set("intent_ranking", [{"name": "affirm", "confidence": 0.6}])
    trained(storage).process([message])
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "affirm"]


def test_the_share_is_configurable(storage: LocalModelStorage) -> None:
    assert intent_after(trained(storage, min_familiar_share=0.9), "hello there xyzzy") == "nlu_fallback"


def test_a_model_without_a_vocabulary_silences_nothing(storage: LocalModelStorage) -> None:
    component = UnfamiliarWordsFallback.load({}, storage, RESOURCE, CONTEXT)
    assert intent_after(component, "asdf jkl") == "faq"
