"""Parents' long stories and two questions in one message, through the REST channel (issue 22, item 1).

The messages were written for these tests: a story whose words point
elsewhere, ending in the question that matters; and two questions at once,
answered in the order asked.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
import yaml

from conftest import ROOT, say
from jdm_content.knowledge import load_follow_ups, load_terms

RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def opening(label: str) -> str:
    """The first paragraph of the answer a label stands for: faq/<topic>, term/<id> or followup/<kind>."""
    kind, name = label.split("/", 1)
    if kind == "faq":
        text = RESPONSES[f"utter_faq/{name}"][0]["text"]
    elif kind == "term":
        text = load_terms().by_id[name].answer
    else:
        text = load_follow_ups().defaults[name].text or ""
    return text.split("\n\n")[0]


def where(messages: List[Dict[str, Any]], label: str) -> int:
    """The index of the reply that opens with the label's answer (-1: none)."""
    return next((i for i, m in enumerate(messages) if (m.get("text") or "").startswith(opening(label))), -1)


@pytest.mark.parametrize(
    "story, label",
    [
        pytest.param(
            "We spent three weeks on the ward in the spring. The rash on her eyelids was awful, she could not "
            "manage the stairs at home and she has been so moody. She is back at school now. "
            "Do children usually get completely better from this?",
            "faq/outlook",
            # The question alone is the outlook (0.91), but the whole story reads as not covered (0.92), and
            # at the context weight the held-out questions chose (0.5) the story still wins: not covered.
            marks=pytest.mark.xfail(reason="the story's 'not covered' outweighs its question", strict=True),
        ),
        (
            "My son is nine and football mad. Since the diagnosis he gets tired after ten minutes and his "
            "thighs ache. His coach has been very kind about it. Why are his muscles so weak?",
            "faq/muscle_weakness",
        ),
        (
            "We moved house last year, then she had a nasty flu, then the purple rash came. My mum keeps "
            "saying we did something wrong. What actually causes JDM?",
            "faq/cause",
        ),
        (
            "My twins share a room and do everything together. One of them has JDM and the other one keeps "
            "cuddling her when she is poorly. Can her sister catch it?",
            "faq/others_get_it",
        ),
    ],
)
def test_a_long_story_gets_the_answer_to_its_question(live_servers, story: str, label: str) -> None:
    assert_answered(live_servers, story, label)


def assert_answered(live_servers, story: str, label: str) -> None:
    replies = say(live_servers["rasa"], f"story-{uuid.uuid4()}", story)
    assert where(replies, label) >= 0, [m.get("text", "")[:80] for m in replies]


@pytest.mark.parametrize(
    "message, first, second",
    [
        ("What causes JDM? And can her brother catch it from her?", "faq/cause", "faq/others_get_it"),
        (
            "Why does she need hydroxychloroquine, and how long will she take it?",
            "term/hydroxychloroquine",
            "followup/how_long",
        ),
        ("How is JDM diagnosed, and what is the outlook?", "faq/diagnosis", "faq/outlook"),
        ("Why is he so weak? And will he get better?", "faq/muscle_weakness", "faq/outlook"),
    ],
)
def test_two_questions_get_two_answers_in_the_order_asked(live_servers, message: str, first: str, second: str) -> None:
    replies = say(live_servers["rasa"], f"two-{uuid.uuid4()}", message)
    seen = [m.get("text", "")[:80] for m in replies]
    assert 0 <= where(replies, first) < where(replies, second), seen


def test_after_two_answers_a_follow_up_is_about_the_second(live_servers) -> None:
    rasa, sender = live_servers["rasa"], f"two-{uuid.uuid4()}"
    say(rasa, sender, "What causes JDM? And how is it treated?")
    replies = say(rasa, sender, "how long?")
    answer = load_follow_ups().answer("treatment_overview", "how_long").text or ""
    assert any((m.get("text") or "").startswith(answer.split("\n\n")[0]) for m in replies)


def test_an_emergency_in_a_two_question_message_gets_the_emergency_reply_and_no_answer(live_servers) -> None:
    replies = say(
        live_servers["rasa"], f"two-{uuid.uuid4()}", "What causes JDM? And why are her lips blue and she can't breathe?"
    )
    texts = [m.get("text") or "" for m in replies]
    assert any(t.startswith(RESPONSES["utter_emergency"][0]["text"].split("\n\n")[0]) for t in texts), texts
    assert where(replies, "faq/cause") == -1


@pytest.mark.parametrize(
    "story, label",
    [
        (
            "She has been on methotrexate and hydroxychloroquine since the spring. The rash on her knuckles is "
            "fading and she is back at dancing. Will she grow out of it one day?",
            "faq/outlook",
        ),
        (
            "Our son had an MRI and a muscle biopsy before they found it. He is eleven and hates the hospital. "
            "What actually causes JDM?",
            "faq/cause",
        ),
    ],
)
def test_a_medicine_or_test_the_story_names_does_not_answer_its_question(live_servers, story: str, label: str) -> None:
    assert_answered(live_servers, story, label)


def test_a_storys_medicine_dose_beside_a_general_question_gets_the_care_team_note_and_the_answer(
    live_servers,
) -> None:
    story = (
        "He is on a high dose of prednisolone and methotrexate every Friday. He has tummy aches most evenings "
        "and his school has noticed. Can JDM affect the gut?"
    )
    replies = say(live_servers["rasa"], f"story-{uuid.uuid4()}", story)
    texts = [m.get("text") or "" for m in replies]
    note = RESPONSES["utter_child_medicine"][0]["text"].split("\n\n")[0]
    at = next((i for i, t in enumerate(texts) if t.startswith(note)), -1)
    assert 0 <= at < where(replies, "faq/gut"), [t[:80] for t in texts]


def test_a_story_that_asks_what_to_do_about_a_missed_dose_gets_only_the_care_team_reply(live_servers) -> None:
    story = "She forgot her methotrexate injection last night. She seems fine today. What should we do?"
    replies = say(live_servers["rasa"], f"story-{uuid.uuid4()}", story)
    texts = [m.get("text") or "" for m in replies]
    assert any(t.startswith(RESPONSES["utter_child_medicine"][0]["text"].split("\n\n")[0]) for t in texts), texts
