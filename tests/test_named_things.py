"""The named-thing component: what a parent names decides the kind of question."""

from __future__ import annotations

from typing import List, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.named_things import NamedThingIntent
from jdm_content.knowledge import load_follow_ups

CONFIG = {
    "intents": {"organisation": "ask_org_contact"},
    "follow_ups_about": ["drug", "test", "symptom"],
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
    NamedThingIntent(CONFIG, load_follow_ups().named_cues).process([message])
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


@pytest.mark.parametrize(
    ("text", "intent", "follow_up"),
    [
        ("how long will she have to be on prednisolone for??", "ask_not_covered", "followup_how_long"),
        ("consultant wants monthly IVIG, for how long do kids get it", "faq", "followup_how_long"),
        ("Methotrexate side-effects in children", "ask_term", "followup_side_effects"),
        ("does an MRI have any side effects", "faq", "followup_side_effects"),
    ],
)
def test_a_named_thing_with_a_follow_ups_words_is_that_follow_up_about_it(
    text: str, intent: str, follow_up: str
) -> None:
    assert intent_after(text, intent, ["drug"]) == follow_up


def test_follow_up_words_without_a_named_thing_leave_the_classifier_alone() -> None:
    assert intent_after("how long does the rash last", "faq", []) == "faq"
    assert intent_after("how long does the rash last", "faq", ["region"]) == "faq"


@pytest.mark.parametrize("intent", ["emergency", "ask_child_medicine"])
def test_follow_up_words_never_change_a_safety_intent(intent: str) -> None:
    assert intent_after("how long should I keep giving the prednisone", intent, ["drug"]) == intent


def story_intent_after(text: str, intent: str, named: str) -> Optional[str]:
    """The intent after the component, for a message naming the drug `named` where it stands."""
    start = text.index(named)
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.6},
            "intent_ranking": [{"name": intent, "confidence": 0.6}],
            "entities": [{"entity": "drug", "value": named, "start": start, "end": start + len(named)}],
        }
    )
    NamedThingIntent(CONFIG, load_follow_ups().named_cues).process([message])
    return message.get("intent")["name"]


def test_a_storys_follow_up_words_outside_its_question_leave_the_classifier_alone() -> None:
    text = "She has had side effects from methotrexate for months. Will she grow out of JDM?"
    assert story_intent_after(text, "faq", "methotrexate") == "faq"


def test_a_storys_question_with_follow_up_words_is_that_follow_up_about_the_storys_medicine() -> None:
    text = "He started methotrexate in May. How long will he be on it?"
    assert story_intent_after(text, "faq", "methotrexate") == "followup_how_long"
