"""The support hand-off end to end through the REST channel (the web widget's road)."""
from __future__ import annotations

from tests.conftest import say


def test_support_group_ask_region_once_then_cards_with_tel_links(live_servers) -> None:
    rasa = live_servers["rasa"]
    sender = "support-live-1"
    asked = say(rasa, sender, "is there a support group for parents of children with jdm?")
    assert [b["title"] for b in asked[-1]["buttons"]] == ["United States", "United Kingdom", "Elsewhere"]

    answer = say(rasa, sender, '/inform_region{"region": "uk"}')
    texts = [message["text"] for message in answer]
    assert "the United Kingdom" in texts[0] and "support groups" in texts[0]
    assert texts[1].startswith("**Myositis Support Group (UK)**")
    assert "[023 8044 9708](tel:+442380449708)" in texts[1]
    assert all("2007 listing" in text for text in texts[1:]) and len(texts) <= 4

    # The region is remembered: a second ask goes straight to the cards.
    again = say(rasa, sender, "can I talk to other parents?")
    assert not any(message.get("buttons") for message in again)
    assert any("Myositis Support Group (UK)" in message["text"] for message in again)


def test_organisation_named_with_a_misspelling_gets_its_card(live_servers) -> None:
    answer = say(live_servers["rasa"], "support-live-2", "whats the number for the myositis assocation")
    cards = [m["text"] for m in answer if m.get("text", "").startswith("**The Myositis Association**")]
    assert len(cards) == 1
    assert "[(703) 299-4850](tel:+17032994850)" in cards[0]
