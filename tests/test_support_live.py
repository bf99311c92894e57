"""The support hand-off end to end through the REST channel (the web widget's road)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List

import pytest

from conftest import say
from jdm_content.directory import directory, matching
from jdm_content.lexicon import load_lexicon

REGION_BUTTONS = ["United States", "United Kingdom", "Europe", "Elsewhere"]
# Three ways of asking for one organisation; {name} is a spelling from data/lexicon.yml.
ASKS = ["how do I contact {name}?", "what's the phone number for {name}", "{name} address please"]


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def button_titles(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def card_names(messages: List[Dict[str, Any]]) -> List[str]:
    """The organisations on the contact cards, in the order the parent sees them."""
    return [found.group(1) for m in messages if (found := re.match(r"\*\*(.+?)\*\*\n", m.get("text") or ""))]


US_GROUPS = ["Cure JM Foundation", "The Myositis Association"]
HSS = "Myositis Support Group at the Hospital for Special Surgery"
UK_GROUP = "Myositis Support Group (UK)"


@pytest.mark.parametrize(
    "message, expected",
    [
        ("we would love to talk to other JDM parents", [*US_GROUPS, UK_GROUP]),
        ("we live in Brooklyn, is there a myositis group near us", [HSS, *US_GROUPS]),
        ("we are in Queens NY, looking for a local myositis support group", [HSS, *US_GROUPS]),
        ("r there any jdm mums groups in texas", [*US_GROUPS, HSS]),
        ("we're in Manchester UK, any families to chat with?", [UK_GROUP, *US_GROUPS]),
        ("any JDM parents in Germany to talk to?", [UK_GROUP, *US_GROUPS]),
        ("we're in Toronto, can we meet other jdm parents", [*US_GROUPS, UK_GROUP]),
    ],
)
def test_families_who_want_to_meet_others_get_parents_groups_first_for_their_place(
    live_servers, message: str, expected: List[str]
) -> None:
    assert card_names(say(live_servers["rasa"], f"place-{uuid.uuid4()}", message)) == expected


def test_the_familys_area_is_kept_for_the_next_request(live_servers) -> None:
    rasa, sender = live_servers["rasa"], f"place-{uuid.uuid4()}"
    say(rasa, sender, "we live in Brooklyn, is there a myositis group near us")
    assert card_names(say(rasa, sender, "can I talk to other parents?"))[0] == HSS


def test_a_support_request_gets_organisations_at_once_then_narrows_by_region(live_servers) -> None:
    rasa, sender = live_servers["rasa"], f"support-{uuid.uuid4()}"
    first = say(rasa, sender, "is there a support group for parents of children with jdm?")
    assert card_names(first) == ["Cure JM Foundation", "The Myositis Association", "Myositis Support Group (UK)"]
    assert button_titles(first)[:4] == REGION_BUTTONS

    answer = say(rasa, sender, '/inform_region{"region": "uk"}')
    assert "the United Kingdom" in answer[0]["text"] and matching().need("families").name in answer[0]["text"]
    assert answer[1]["text"].startswith("**Myositis Support Group (UK)**")
    assert "[023 8044 9708](tel:+442380449708)" in answer[1]["text"]

    # The region is remembered: a second ask shows UK groups and no region buttons.
    again = say(rasa, sender, "can I talk to other parents?")
    assert not set(REGION_BUTTONS) & set(button_titles(again))
    assert "Myositis Support Group (UK)" in texts(again)


def test_a_medical_question_after_a_support_request_is_answered_not_asked_about_region(live_servers) -> None:
    rasa, sender = live_servers["rasa"], f"support-{uuid.uuid4()}"
    say(rasa, sender, "are there support groups for families?")
    reply = say(rasa, sender, "what does the jdm rash look like?")
    assert "heliotrope" in texts(reply) and "where does your family live" not in texts(reply)


def test_a_support_request_naming_the_place_gets_that_region_in_one_turn(live_servers) -> None:
    reply = say(live_servers["rasa"], f"support-{uuid.uuid4()}", "is there a myositis support group in the UK")
    assert "**Myositis Support Group (UK)**" in texts(reply)


def test_asking_for_a_person_says_it_is_automated_and_gives_the_clinic_and_organisations(live_servers) -> None:
    reply = texts(say(live_servers["rasa"], f"support-{uuid.uuid4()}", "can I talk to a real person please"))
    assert "automated assistant" in reply and "Phone: [not set up yet: clinic phone]" in reply
    assert "**Cure JM Foundation**" in reply


def organisation_asks() -> List[tuple]:
    """(question, organisation id): three phrasings for every organisation in the directory."""
    names = {e.id: e.name for e in load_lexicon().entries if e.label == "organisation"}
    variants: Dict[str, List[str]] = {}
    for (label, variant), org_id in load_lexicon().variants.items():
        if label == "organisation":
            variants.setdefault(org_id, []).append(variant)
    cases = []
    for org_id in directory():
        spellings = [names[org_id], *sorted(variants[org_id], key=len)]
        cases += [(ask.format(name=spellings[i % len(spellings)]), org_id) for i, ask in enumerate(ASKS)]
    return cases


@pytest.mark.parametrize("question, org_id", organisation_asks())
def test_every_organisation_named_gets_its_card_in_one_turn(live_servers, question: str, org_id: str) -> None:
    reply = texts(say(live_servers["rasa"], f"org-{uuid.uuid4()}", question))
    assert f"**{directory()[org_id].name}**" in reply, reply


def test_organisation_named_with_a_misspelling_gets_its_card(live_servers) -> None:
    answer = say(live_servers["rasa"], f"support-{uuid.uuid4()}", "whats the number for the myositis assocation")
    cards = [m["text"] for m in answer if m.get("text", "").startswith("**The Myositis Association**")]
    assert len(cards) == 1
    assert "[(703) 299-4850](tel:+17032994850)" in cards[0]
