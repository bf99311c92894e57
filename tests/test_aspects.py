"""An answer must answer (issue 22, item 2): aspects the chosen answer's facts don't name.

What action_answer_faq sends for a question about a season, a part of the
body, an age or food, checked against the facts each answer carries
(data/knowledge/facts.yml) with the words of data/knowledge/aspects.yml; and
clear errors when a clinic editor breaks that file. The same behaviour
through a running server: tests/test_aspects_live.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from rasa_sdk.executor import CollectingDispatcher
from test_knowledge import expected_source_line, source_line

from actions.faq import ActionAnswerFaq, ActionExplainTerm, ActionFollowUp
from conftest import ROOT, make_tracker
from jdm_content import aspects, knowledge
from jdm_content.aspects import asked_words, facts_by_answer, load_aspects
from jdm_content.files import DataFileError
from jdm_content.knowledge import load_follow_ups, load_terms


def sent(text: str, topic: str, domain: Dict[str, Any]) -> List[str]:
    """The responses (or, for our own texts, the texts) action_answer_faq sends when the classifier chose the topic."""
    dispatcher = CollectingDispatcher()
    ActionAnswerFaq().run(dispatcher, make_tracker(text, "faq", retrieval_intent=f"faq/{topic}"), domain)
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


@pytest.mark.parametrize(
    "question, topic, expected",
    [
        # The sun answer names no season, but it carries the season's nearest facts: it follows.
        ("is JDM worse in winter", "sun_protection", ["utter_aspect_season", "utter_faq/sun_protection"]),
        # No fact of the outlook speaks of the weather: the nearest facts instead of the outlook.
        (
            "does hot weather make the illness flare?",
            "progression",
            ["utter_aspect_season", "utter_aspect_season_nearest"],
        ),
        # The rash answer names other places on the body: still the nearest help.
        ("can the rash spread to her feet?", "rash", ["utter_aspect_body_part", "utter_faq/rash"]),
        ("will JDM damage her kidneys?", "is_it_serious", ["utter_aspect_body_part", "utter_aspect_body_part_nearest"]),
        ("can babies get JDM?", "how_common", ["utter_aspect_age", "utter_aspect_age_nearest"]),
        ("what foods make JDM worse?", "triggers", ["utter_aspect_food", "utter_aspect_food_nearest"]),
    ],
)
def test_an_aspect_the_answer_does_not_name_is_said_to_be_not_covered_first(question, topic, expected, domain) -> None:
    assert sent(question, topic, domain) == expected


@pytest.mark.parametrize(
    "question, topic",
    [
        ("does the rash show on the eyelids?", "rash"),
        ("why are his thighs and shoulders so weak?", "muscle_weakness"),
        ("is it different in adults?", "children_vs_adults"),
        ("does sunscreen help her dry skin?", "sun_protection"),
        ("why does the sun matter so much?", "sun_protection"),
        # "my baby" is the child, not an age asked about.
        ("will my baby get better?", "outlook"),
    ],
)
def test_a_question_whose_aspect_the_answer_names_gets_the_answer_unchanged(question, topic, domain) -> None:
    assert sent(question, topic, domain) == [f"utter_faq/{topic}"]


def test_a_follow_up_that_points_to_a_topic_is_checked_like_the_topic(domain) -> None:
    """ "does her diet affect the rash?" read as "and for the skin?": its answer, sun protection, names no food."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("does her diet affect the rash?", "followup_skin", retrieval_intent="faq/skin_treatment")
    ActionFollowUp().run(dispatcher, tracker, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_aspect_food", "utter_aspect_food_nearest"]


def test_a_named_things_answer_follows_the_not_covered_aspect(domain) -> None:
    """The parent named sunscreen: its answer is the help, after saying the sources name no season."""
    dispatcher = CollectingDispatcher()
    sunscreen = {"entity": "drug", "value": "suncream", "start": 14, "end": 22}
    tracker = make_tracker("does he need suncream even in winter?", "ask_term", entities=[sunscreen])
    ActionExplainTerm().run(dispatcher, tracker, domain)
    assert [m.get("response") or m.get("text") for m in dispatcher.messages] == [
        "utter_aspect_season",
        load_terms().by_id["sunscreen"].answer,
    ]


def test_a_named_things_answer_whose_facts_name_the_aspect_comes_alone(domain) -> None:
    dispatcher = CollectingDispatcher()
    calcinosis = {"entity": "symptom", "value": "calcinosis", "start": 16, "end": 26}
    tracker = make_tracker("do children get calcinosis more often than adults?", "ask_term", entities=[calcinosis])
    ActionExplainTerm().run(dispatcher, tracker, domain)
    assert [m.get("text") for m in dispatcher.messages] == [load_terms().by_id["calcinosis"].answer]


def test_a_story_is_read_by_its_question_so_its_words_are_context() -> None:
    story = "Over the summer she got tired and her knees hurt. What tests will they do?"
    assert asked_words(story, []) == "What tests will they do?"
    assert asked_words("his legs look thinner, can jdm make muscles waste away?", []) == (
        "can jdm make muscles waste away?"
    )


def test_a_follow_up_the_question_asks_gets_the_topics_own_answer_to_it_first(domain) -> None:
    replies = sent("how many years does treatment usually go on", "treatment_overview", domain)
    assert replies == [load_follow_ups().answer("treatment_overview", "how_long").text, "utter_faq/treatment_overview"]


def test_a_follow_up_the_topics_answer_already_carries_gets_that_answer_alone(domain) -> None:
    assert sent("how long before he goes into remission?", "outlook", domain) == ["utter_faq/outlook"]


def test_every_kind_names_existing_responses_and_its_nearest_facts_end_with_their_sources(domain) -> None:
    answers = facts_by_answer()
    for kind in load_aspects().kinds:
        assert kind.missing in domain["responses"], kind.id
        assert "care team" in domain["responses"][kind.missing][0]["text"], kind.id
        if kind.nearest:
            text = domain["responses"][kind.nearest][0]["text"]
            cited = {fact.id for fact in answers.get(kind.nearest, ())}
            assert cited, f"{kind.nearest} carries no fact in facts.yml"
            assert source_line(text) == expected_source_line(cited), kind.id


# --- broken data files give clear errors -------------------------------------------


@pytest.fixture
def aspects_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of data/knowledge that a test may break, used instead of the real one."""
    shutil.copytree(ROOT / "data" / "knowledge", tmp_path / "knowledge")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    knowledge.clear_caches()
    aspects.clear_caches()
    yield tmp_path / "knowledge" / "aspects.yml"
    monkeypatch.undo()
    knowledge.clear_caches()
    aspects.clear_caches()


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("    missing: utter_aspect_season\n", "", r"aspects.yml: kind 'season': missing required field 'missing'"),
        (
            "missing: utter_aspect_season",
            "missing: the season text",
            r"kind 'season': 'missing' must name a response in domain.yml \(utter_...\)",
        ),
        (
            "      spring: [spring, springtime]",
            "      spring: [winter]",
            r"'winter' is listed twice \(season: winter, season: spring\)",
        ),
        (
            "      liver: [liver]",
            "      liver: liver",
            r"kind 'body_part': aspect 'liver': 'liver' must be a list of words",
        ),
        ("  - id: food\n", "  - id: age\n", r"aspects.yml: kind id\(s\) age used twice"),
        ("kinds:\n", "kinds: [\n", r"aspects.yml: not valid YAML"),
    ],
)
def test_a_broken_aspects_file_is_named_clearly(aspects_copy: Path, old: str, new: str, message: str) -> None:
    text = aspects_copy.read_text(encoding="utf-8")
    assert old in text
    aspects_copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        load_aspects()
