"""The named-thing component: what a parent names decides the kind of question."""

from __future__ import annotations

from typing import List, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.named_things import NamedThingIntent

CONFIG = {
    "intents": {"organisation": "ask_org_contact"},
    "when_unsure": {"drug": "ask_term", "symptom": "ask_term"},
    "keep": ["emergency", "ask_child_medicine"],
}


def intent_after(text: str, intent: str, labels: List[str]) -> Optional[str]:
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.6},
            "intent_ranking": [{"name": intent, "confidence": 0.6}],
            "entities": [{"entity": label, "value": "x", "start": 0, "end": 1} for label in labels],
        }
    )
    NamedThingIntent(CONFIG).process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize("intent", ["faq", "ask_support", "nlu_fallback", "ask_term"])
def test_a_named_organisation_is_always_a_contact_request(intent: str) -> None:
    assert intent_after("how do I reach the Arthritis Foundation", intent, ["organisation"]) == "ask_org_contact"


def test_a_named_medicine_the_classifier_could_not_place_is_a_term_question() -> None:
    assert intent_after("plaquenil??", "nlu_fallback", ["drug"]) == "ask_term"


def test_a_named_medicine_in_a_placed_question_keeps_its_intent() -> None:
    assert intent_after("side effects of methotrexate", "followup_side_effects", ["drug"]) == "followup_side_effects"


@pytest.mark.parametrize("intent", ["emergency", "ask_child_medicine"])
def test_safety_intents_are_never_changed(intent: str) -> None:
    assert intent_after("he swallowed NORD's leaflet and MTX", intent, ["organisation", "drug"]) == intent


def test_button_payloads_and_messages_without_names_are_left_alone() -> None:
    assert (
        intent_after('/ask_org_contact{"organisation": "nord"}', "ask_org_contact", ["organisation"])
        == "ask_org_contact"
    )
    assert intent_after("what is jdm", "faq", []) == "faq"
