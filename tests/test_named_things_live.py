"""Misspelt and fragmentary names of medicines, tests and signs, through the REST channel (issue 22, item 1).

The messages were written for these tests, as parents type into a search
box: a name misspelt or alone, with a word or two. Each gets the answer the
held-out questions' grading (scripts/evaluate.py) gives for its label; a
common English word that looks like a name gets no answer about that name.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
from evaluate import Content, expected

from conftest import say
from jdm_content.knowledge import load_terms

CONTENT = Content.load()
UNKNOWN = load_terms().unknown


def texts(replies: List[Dict[str, Any]]) -> List[str]:
    return [" ".join((m.get("text") or "").split()) for m in replies]


def answered(replies: List[Dict[str, Any]], *labels: str) -> bool:
    """Whether the replies hold the answer of any of the labels (term/<id>[/<follow-up>], faq/<topic>)."""
    return any(expected(label, CONTENT).met_by(texts(replies)) for label in labels)


def sign(term_id: str) -> List[str]:
    """A sign's own answer, or its topic's fuller one (data/knowledge/terms.yml `named_wins`)."""
    return [f"term/{term_id}", f"faq/{load_terms().by_id[term_id].topic}"]


@pytest.mark.parametrize(
    ("message", "labels"),
    [
        # medicines
        ("plaquenel for kids", ["term/hydroxychloroquine"]),
        ("metotrexat side efects", ["term/methotrexate/side_effects"]),
        ("prednisolon?", ["term/prednisone"]),
        ("what is hydroxichloroquin for", ["term/hydroxychloroquine"]),
        # tests
        ("creatine kinaze test", ["term/muscle_enzymes"]),
        ("electromiography for jdm", ["term/emg"]),  # misspelt, the classifier read it as not covered
        ("what does the capillaroscpy look at", ["term/capillaroscopy"]),
        # signs
        ("calcinosus", sign("calcinosis")),
        ("gotrons papules??", sign("gottron")),
        ("vasculitas in children", sign("vasculitis")),
        ("heliotrop", sign("heliotrope_rash")),
        ("dysphagea in jdm", sign("dysphagia")),
    ],
)
def test_a_misspelt_name_gets_that_things_answer(live_servers, message: str, labels: List[str]) -> None:
    replies = say(live_servers["rasa"], f"names-{uuid.uuid4()}", message)
    assert answered(replies, *labels), texts(replies)
    assert UNKNOWN not in texts(replies)


@pytest.mark.parametrize(
    ("message", "labels"),
    [
        ("plaquenil??", ["term/hydroxychloroquine"]),
        ("mtx side effects", ["term/methotrexate/side_effects"]),
        ("ck test", ["term/muscle_enzymes"]),
        ("ivig infusion", ["term/ivig"]),
        ("mri scan jdm", ["term/mri"]),
    ],
)
def test_a_fragment_that_names_one_thing_gets_its_answer(live_servers, message: str, labels: List[str]) -> None:
    replies = say(live_servers["rasa"], f"names-{uuid.uuid4()}", message)
    assert answered(replies, *labels), texts(replies)


@pytest.mark.parametrize(
    ("message", "look_alike"),
    [
        ("can you predict how long the rash will last", "term/prednisone"),
        ("which method of sun protection works best", "term/methotrexate"),
        ("is plaque on her teeth part of jdm", "term/hydroxychloroquine"),
        ("is it a derma thing or a muscle thing", "term/edema"),
        ("my contractor says our stairs are too steep for her", "term/contracture"),
    ],
)
def test_an_english_look_alike_is_not_taken_for_a_name(live_servers, message: str, look_alike: str) -> None:
    replies = say(live_servers["rasa"], f"names-{uuid.uuid4()}", message)
    assert not answered(replies, look_alike), texts(replies)
