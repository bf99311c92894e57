"""A question about one child's medicine: the care team decides; we add only general facts."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.medicine import ActionChildMedicine
from conftest import make_tracker, shown
from jdm_content.knowledge import load_terms


def reply(domain: Dict[str, Any], text: str, *drugs: str) -> List[str]:
    """The texts a parent sees, with the domain responses filled in."""
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "drug", "value": drug} for drug in drugs]
    asyncio.run(ActionChildMedicine().run(dispatcher, make_tracker(text, "ask_child_medicine", entities), domain))
    return [shown(message, domain) for message in dispatcher.messages]


@pytest.mark.parametrize(
    "text, drug, term",
    [
        ("what dose of tacrolimus should she use", "tacrolimus", "tacrolimus"),
        ("can I stop his pred", "pred", "prednisone"),
        ("he missed his MTX", "MTX", "methotrexate"),
    ],
)
def test_care_team_first_then_the_named_medicines_general_fact_only(domain, text: str, drug: str, term: str) -> None:
    texts = reply(domain, text, drug)
    assert texts[0].startswith("I can't give advice about your child's medicine")
    assert texts[-1] == load_terms().by_id[term].dose_answer
    assert "General information about" in texts[1]
    assert not any("stopping steroids suddenly" in s for s in texts)


def test_no_figures_in_any_medicines_dose_reply(domain) -> None:
    for term_id in ("prednisone", "methylprednisolone", "methotrexate", "ivig"):
        text = " ".join(reply(domain, "how much should he take", term_id)).replace("(2007)", "")
        assert not re.search(r"\d", text), text


def test_no_medicine_named_gets_the_general_steroid_fact(domain) -> None:
    texts = reply(domain, "can i give her medicine later today")
    assert texts[0].startswith("I can't give advice")
    assert "stopping steroids suddenly" in texts[1]
