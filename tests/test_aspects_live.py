"""An answer must answer (issue 22, item 2), through the REST channel.

A question about a season, a part of the body, an age or food that the
chosen answer's facts don't name is first told honestly that the sources
don't cover it, with the care team, then given the nearest help; a question
whose aspect the answer's facts do name gets its answer unchanged; a question
that asks "how long" or "side effects" about a topic gets that part first.
The messages were written for these tests.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
import yaml

from conftest import ROOT, say
from jdm_content.aspects import load_aspects
from jdm_content.knowledge import load_follow_ups

RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
KINDS = {kind.id: kind for kind in load_aspects().kinds}
MISSING = {kind.id: kind.missing for kind in KINDS.values()}


def opening(response: str) -> str:
    """The first paragraph of a domain response (the REST channel sends each paragraph apart)."""
    return str(RESPONSES[response][0]["text"]).split("\n\n")[0]


def texts(rasa: str, message: str) -> List[str]:
    replies: List[Dict[str, Any]] = say(rasa, f"aspects-{uuid.uuid4()}", message)
    return [m.get("text") or "" for m in replies]


def index_of(replies: List[str], paragraph: str) -> int:
    return next((i for i, text in enumerate(replies) if text.startswith(paragraph)), -1)


def faq_openings() -> Dict[str, str]:
    return {name: opening(name) for name in RESPONSES if name.startswith("utter_faq/")}


@pytest.mark.parametrize(
    "kind, message",
    [
        ("season", "is JDM worse in winter"),
        ("season", "does cold weather make JDM flare up?"),
        ("season", "will the rash get worse in the summer heat?"),
        ("season", "does JDM change with the seasons?"),
        ("body_part", "does the rash spread to the feet?"),
        ("body_part", "will JDM damage her kidneys?"),
        ("body_part", "can JDM affect the liver?"),
        ("body_part", "can the rash spread to her scalp?"),
        ("age", "can babies get JDM?"),
        ("age", "at what age does JDM usually start?"),
        ("age", "is JDM different in teenagers?"),
        ("food", "can food trigger JDM?"),
        ("food", "is dairy a trigger for JDM flares?"),
        ("food", "does her diet affect the rash?"),
    ],
)
def test_an_aspect_the_sources_do_not_cover_is_said_first_then_the_nearest_help(
    live_servers, kind: str, message: str
) -> None:
    replies = texts(live_servers["rasa"], message)
    honest = index_of(replies, opening(MISSING[kind]))
    assert honest >= 0, replies
    assert "care team" in replies[honest]
    answers = [i for i, text in enumerate(replies) for start in faq_openings().values() if text.startswith(start)]
    assert all(honest < i for i in answers), replies
    # The nearest help follows: the chosen answer when it still helps, else the kind's nearest facts.
    nearest = KINDS[kind].nearest
    assert answers or (nearest and index_of(replies, opening(nearest)) > honest), replies


@pytest.mark.parametrize(
    "message, topic",
    [
        ("does the rash show on the eyelids?", "rash"),
        ("can the rash be on her knuckles and knees?", "rash"),
        ("is JDM different in adults?", "children_vs_adults"),
        ("does the sun make JDM worse?", "sun_protection"),
        ("does JDM affect her voice?", "voice_swallowing"),
        # "my baby" is the child, not an age asked about.
        ("will my baby get better?", "outlook"),
    ],
)
def test_a_question_whose_aspect_the_answer_covers_gets_its_answer_unchanged(live_servers, message, topic) -> None:
    replies = texts(live_servers["rasa"], message)
    assert index_of(replies, opening(f"utter_faq/{topic}")) >= 0, replies
    assert not [text for text in replies for name in MISSING.values() if text.startswith(opening(name))], replies


@pytest.mark.parametrize(
    "message, kind",
    [
        ("how many years does treatment usually go on", "how_long"),
        ("what are the side effects of JDM treatment", "side_effects"),
    ],
)
def test_a_follow_up_asked_about_a_topic_gets_that_part_before_the_topic(live_servers, message, kind) -> None:
    replies = texts(live_servers["rasa"], message)
    part = (load_follow_ups().answer("treatment_overview", kind).text or "").split("\n\n")[0]
    assert 0 <= index_of(replies, part) < index_of(replies, opening("utter_faq/treatment_overview")), replies
