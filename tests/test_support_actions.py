"""The support hand-off actions, as a parent would see their answers."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.support import ActionOrganisationContact, ActionSupportHandoff
from conftest import make_tracker, shown
from jdm_content.directory import directory, matching

CAVEAT = "These details are based on a 2007 listing"
NAMES = {org_id: org.name for org_id, org in directory().items()}

# (region, need) -> the organisations a family sees, best first.
EXPECTED = {
    ("us", None): ["cure_jm", "myositis_association", "hss_myositis_support_group"],
    ("us", "families"): ["cure_jm", "myositis_association", "hss_myositis_support_group"],
    ("us", "juvenile"): ["cure_jm", "myositis_association", "hss_myositis_support_group"],
    ("us", "research"): ["cure_jm", "myositis_association", "hss_myositis_support_group"],
    ("us", "information"): ["nord", "gard", "niams"],
    ("us", "arthritis"): ["arthritis_foundation", "niams", "cure_jm"],
    ("us", "neurology"): ["child_neurology_foundation", "cure_jm", "myositis_association"],
    ("us", "autoimmune"): ["aarda", "autoimmune_information_network", "cure_jm"],
    ("us", "muscle_disease"): ["mda", "niams", "cure_jm"],
    ("us", "immunodeficiency"): ["esid", "cure_jm", "myositis_association"],
    ("uk", None): ["myositis_support_group_uk", "nord", "gard"],
    ("uk", "families"): ["myositis_support_group_uk", "cure_jm", "myositis_association"],
    ("uk", "juvenile"): ["cure_jm", "myositis_support_group_uk", "nord"],
    ("uk", "research"): ["cure_jm", "myositis_support_group_uk", "myositis_association"],
    ("uk", "information"): ["nord", "gard", "niams"],
    ("uk", "arthritis"): ["arthritis_foundation", "niams", "myositis_support_group_uk"],
    ("uk", "neurology"): ["child_neurology_foundation", "myositis_support_group_uk", "nord"],
    ("uk", "autoimmune"): ["aarda", "autoimmune_information_network", "myositis_support_group_uk"],
    ("uk", "muscle_disease"): ["mda", "niams", "myositis_support_group_uk"],
    ("uk", "immunodeficiency"): ["esid", "myositis_support_group_uk", "nord"],
    ("europe", None): ["myositis_support_group_uk", "nord", "gard"],
    ("europe", "families"): ["myositis_support_group_uk", "cure_jm", "myositis_association"],
    ("europe", "juvenile"): ["cure_jm", "myositis_support_group_uk", "nord"],
    ("europe", "research"): ["cure_jm", "myositis_support_group_uk", "myositis_association"],
    ("europe", "information"): ["nord", "gard", "niams"],
    ("europe", "arthritis"): ["arthritis_foundation", "niams", "myositis_support_group_uk"],
    ("europe", "neurology"): ["child_neurology_foundation", "myositis_support_group_uk", "nord"],
    ("europe", "autoimmune"): ["aarda", "autoimmune_information_network", "myositis_support_group_uk"],
    ("europe", "muscle_disease"): ["mda", "niams", "myositis_support_group_uk"],
    ("europe", "immunodeficiency"): ["esid", "myositis_support_group_uk", "nord"],
    ("other", None): ["nord", "gard"],
    ("other", "families"): ["cure_jm", "myositis_association", "myositis_support_group_uk"],
    ("other", "juvenile"): ["cure_jm", "nord", "gard"],
    ("other", "research"): ["cure_jm", "myositis_association", "myositis_support_group_uk"],
    ("other", "information"): ["nord", "gard", "niams"],
    ("other", "arthritis"): ["arthritis_foundation", "niams", "nord"],
    ("other", "neurology"): ["child_neurology_foundation", "nord", "gard"],
    ("other", "autoimmune"): ["aarda", "autoimmune_information_network", "nord"],
    ("other", "muscle_disease"): ["mda", "niams", "nord"],
    ("other", "immunodeficiency"): ["esid", "nord", "gard"],
}

# A message from a parent that carries each need (detected from data/support_needs.yml).
NEED_MESSAGES = {
    None: "can you help us",
    "families": "is there a support group where I can talk to other parents",
    "juvenile": "who helps kids with jdm",
    "research": "how can we support research funding",
    "information": "where can I get official information",
    "arthritis": "my daughter also has arthritis, who can help",
    "neurology": "is there a group for child neurology",
    "autoimmune": "organisations for autoimmune illness",
    "muscle_disease": "groups for muscle diseases",
    "immunodeficiency": "who helps with immunodeficiency",
}


def run(action: Any, tracker: Any, domain: Dict[str, Any]) -> tuple:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def user_event(text: str, channel: str = "rest") -> Dict[str, Any]:
    return {"event": "user", "text": text, "input_channel": channel, "parse_data": {}}


def cards(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m for m in messages if m.get("response") == "utter_contact_card"]


def handoff(
    domain: Dict[str, Any],
    region: Optional[str],
    text: str,
    channel: str = "rest",
    earlier: Optional[List[Dict[str, Any]]] = None,
    intent: str = "ask_support",
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
) -> tuple:
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={"region": region, **(slots or {})},
        entities=entities,
        events=[*(earlier or []), user_event(text, channel)],
    )
    return run(ActionSupportHandoff(), tracker, domain)


@pytest.mark.parametrize("region, need", sorted(EXPECTED, key=str))
def test_matrix_region_by_need(domain, region, need) -> None:
    messages, events = handoff(domain, region, NEED_MESSAGES[need])
    names = [m["org_name"] for m in cards(messages)]
    assert names == [NAMES[org_id] for org_id in EXPECTED[(region, need)]]
    assert SlotSet("region", region) in events
    assert SlotSet("support_need", need) in events
    intro = shown(messages[0], domain)
    assert matching().regions[region].name in intro
    if need:
        assert matching().need(need).name in intro
    for card in cards(messages):
        text = shown(card, domain)
        assert CAVEAT in text and "Please check them before you use them." in text
        assert "Address: " in text and ("Phone: " in text or "Fax: " in text)


def test_myositis_and_juvenile_organisations_come_first_for_jdm_families(domain) -> None:
    for region in ("us", "uk", "europe"):
        first = cards(handoff(domain, region, "we want some help")[0])[0]
        assert "Myositis" in first["org_name"] or "JM" in first["org_name"]
        assert "myositis" in first["why"]


def test_never_more_than_three_cards_and_one_message_each(domain) -> None:
    for region, need in EXPECTED:
        messages, _ = handoff(domain, region, NEED_MESSAGES[need])
        assert len(cards(messages)) <= 3
        # one intro, one message per card, then the narrowing buttons
        assert len(messages) == len(cards(messages)) + 2
        assert messages[-1]["response"] == "utter_narrow_support_by_need" and messages[-1]["buttons"]
        assert all(shown(m, domain).count(CAVEAT) == 1 for m in cards(messages))


def test_card_says_why_it_fits_with_labelled_phones_and_address(domain) -> None:
    messages, _ = handoff(domain, None, "we live in Brooklyn, is there a myositis group near us")
    text = shown(cards(messages)[0], domain)
    assert text.startswith("**Myositis Support Group at the Hospital for Special Surgery**")
    assert "It is a support group" in text and "It is based in the New York City area, near where you live." in text
    assert "Phone: [(212) 774-7623](tel:+12127747623)" in text
    assert "Fax: (212) 774-2333" in text and "tel:+12127742333" not in text
    assert "Address: 2nd Floor Conference Center, Room A, 535 East 70th Street, New York, NY 10021, USA" in text


def test_phone_numbers_are_tel_links_in_the_web_widget(domain) -> None:
    for channel in ("rest", "socketio"):
        messages, _ = handoff(domain, "us", "we want other parents", channel)
        texts = [shown(card, domain) for card in cards(messages)]
        assert any("[(760) 487-1079](tel:+17604871079)" in text for text in texts)


def test_phone_numbers_are_plain_text_in_the_terminal(domain) -> None:
    messages, _ = handoff(domain, "us", "we want other parents", "cmdline")
    texts = [shown(card, domain) for card in cards(messages)]
    assert any("Phone: (760) 487-1079" in text for text in texts)
    assert not any("tel:" in text or "](" in text for text in texts)


def test_families_abroad_see_the_international_number(domain) -> None:
    messages, _ = handoff(domain, "uk", "anything for children with jdm", "cmdline")
    cure_jm = shown(cards(messages)[0], domain)
    assert "Phone: (760) 487-1079 (from abroad: +1 760-487-1079)" in cure_jm
    assert "It is based in the United States; calls from abroad may cost more." in cure_jm
    uk_group = shown(cards(messages)[1], domain)
    assert "Phone: 023 8044 9708\n" in uk_group and "Southampton SO19 9HR, United Kingdom" in uk_group


def test_swiss_numbers_show_in_swiss_national_format(domain) -> None:
    messages, _ = handoff(domain, "europe", "immunodeficiency help", "cmdline")
    esid = shown(cards(messages)[0], domain)
    assert "Phone: 022 908 04 84" in esid and "Fax: 022 906 91 40" in esid
    assert "1-3 rue de Chantepoulet, 1211 Geneva, Switzerland" in esid


def test_need_found_earlier_is_kept_when_the_family_picks_a_region(domain) -> None:
    earlier = [
        user_event("is there a support group for parents?"),
        {"event": "action", "name": "action_support_handoff"},
    ]
    messages, events = handoff(
        domain,
        "uk",
        '/inform_region{"region": "uk"}',
        earlier=earlier,
        intent="inform_region",
        slots={"support_need": "families"},
    )
    assert SlotSet("support_need", "families") in events
    assert cards(messages)[0]["org_name"] == "Myositis Support Group (UK)"


def test_a_region_typed_as_a_place_name_is_stored_as_its_id(domain) -> None:
    _, events = handoff(domain, "London", "help please")
    assert SlotSet("region", "uk") in events


def buttons(messages: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    return [b for m in messages for b in m.get("buttons") or []]


def test_unknown_region_gets_organisations_for_everyone_at_once_and_region_buttons(domain) -> None:
    messages, events = handoff(domain, None, "help please")
    assert messages[0]["response"] == "utter_support_intro_anywhere"
    assert [m["org_name"] for m in cards(messages)] == [NAMES["nord"], NAMES["gard"]]
    assert SlotSet("region", None) in events
    titles = [b["title"] for b in buttons(messages)]
    assert titles[:4] == ["United States", "United Kingdom", "Europe", "Elsewhere"]
    assert {"title": "United Kingdom", "payload": '/inform_region{"region": "uk"}'} in buttons(messages)
    assert {"title": "Research", "payload": '/ask_support{"support_need": "research"}'} in buttons(messages)


def test_a_known_region_is_not_offered_again_and_the_current_need_is_not_a_button(domain) -> None:
    messages, _ = handoff(domain, "uk", "other families please")
    titles = [b["title"] for b in buttons(messages)]
    assert "United Kingdom" not in titles and "Elsewhere" not in titles
    assert "Other families and support groups" not in titles
    assert {"Research", "Trusted information"} <= set(titles)


def test_a_place_we_do_not_know_is_said_kindly_once_and_organisations_follow(domain) -> None:
    messages, _ = handoff(domain, "Atlantis", "we live in Atlantis", intent="inform_region")
    responses = [m.get("response") for m in messages]
    assert responses.count("utter_region_not_recognised") == 1
    assert len(cards(messages)) >= 1


def test_narrowing_buttons_are_not_offered_twice_in_a_row(domain) -> None:
    earlier = [
        user_event("any support groups?"),
        {"event": "bot", "text": "I can also show...", "metadata": {"utter_action": "utter_narrow_support"}},
    ]
    messages, _ = handoff(
        domain, None, '/ask_support{"support_need": "research"}', earlier=earlier, slots={"support_need": "research"}
    )
    assert cards(messages) and not buttons(messages)


def test_a_need_button_narrows_the_list(domain) -> None:
    messages, events = handoff(
        domain, "us", '/ask_support{"support_need": "research"}', slots={"support_need": "research"}
    )
    assert SlotSet("support_need", "research") in events
    assert [m["org_name"] for m in cards(messages)] == [NAMES[i] for i in EXPECTED[("us", "research")]]


def test_a_support_request_naming_an_organisation_gets_that_card(domain) -> None:
    entity = {"entity": "organisation", "value": "Cure JM"}
    messages, _ = handoff(domain, None, "is cure jm a support group", entities=[entity])
    assert [m["org_name"] for m in cards(messages)] == [NAMES["cure_jm"]]


def test_nord_and_gard_say_they_serve_families_anywhere(domain) -> None:
    messages, _ = handoff(domain, "other", "help please", "cmdline")
    nord = shown(cards(messages)[0], domain)
    assert "families in any country can use" in nord.lower()
    assert "(203) 744-0100 (from abroad: +1 203-744-0100)" in nord


# --- direct questions about one organisation ---


def contact(domain: Dict[str, Any], text: str, values: List[str], channel: str = "rest") -> List[Dict[str, Any]]:
    entities = [{"entity": "organisation", "value": value} for value in values]
    tracker = make_tracker(text=text, intent="ask_org_contact", entities=entities, events=[user_event(text, channel)])
    messages, events = run(ActionOrganisationContact(), tracker, domain)
    assert events == []
    return messages


@pytest.mark.parametrize(
    "text, value, expected",
    [
        ("Cure JM phone number", "Cure JM", "Cure JM Foundation"),
        ("address of the Myositis Association", "the Myositis Association", "The Myositis Association"),
        ("how do I reach NORD", "NORD", "National Organization for Rare Disorders (NORD)"),
        ("cure jm foundaton number", "cure jm foundaton", "Cure JM Foundation"),
        ("TMA address", "TMA", "The Myositis Association"),
        ("msg phone", "MSG", "Myositis Support Group (UK)"),
        ("button", "esid", "European Society for Immunodeficiencies"),
    ],
)
def test_named_organisation_gets_its_card(domain, text, value, expected) -> None:
    messages = contact(domain, text, [value])
    assert [m["org_name"] for m in messages] == [expected]
    assert CAVEAT in shown(messages[0], domain)


def test_myositis_association_card_has_its_address_and_numbers(domain) -> None:
    text = shown(contact(domain, "address of the Myositis Association", ["Myositis Association"])[0], domain)
    assert "Address: 1737 King Street, Suite 600, Alexandria, VA 22314, USA" in text
    assert "Phone: [(703) 299-4850](tel:+17032994850)" in text
    assert "Toll-free: [(800) 821-7356](tel:+18008217356)" in text
    assert "Fax: (703) 535-6752" in text
    assert "myositis (muscle inflammation)" in text


def test_two_named_organisations_get_two_cards(domain) -> None:
    messages = contact(domain, "numbers for NORD and GARD", ["NORD", "GARD"])
    assert [m["org_name"] for m in messages] == [NAMES["nord"], NAMES["gard"]]


def test_organisation_with_no_contact_details_says_so(domain) -> None:
    text = shown(contact(domain, "AutoImmunity Community phone", ["AutoImmunity Community"])[0], domain)
    assert "no address or phone number" in text and "Phone:" not in text


def test_no_organisation_recognised_asks_which_one_with_buttons(domain) -> None:
    messages = contact(domain, "what's their phone number", [])
    assert len(messages) == 1 and messages[0]["response"] == "utter_ask_which_organisation"
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == list(NAMES.values())
    assert messages[0]["buttons"][0]["payload"] == '/ask_org_contact{"organisation": "cure_jm"}'


def test_unknown_organisation_name_asks_which_one(domain) -> None:
    messages = contact(domain, "phone of the cat club", ["cat club"])
    assert messages[0]["response"] == "utter_ask_which_organisation"


def test_a_remembered_region_is_used_without_asking(domain) -> None:
    messages, events = handoff(domain, "uk", "other families please")
    assert messages[0]["response"] == "utter_support_intro"
    assert SlotSet("region", "uk") in events


# --- support by need and place: what the parent's own words say (issue 22, item 4) ---

PARENTS_GROUPS = {
    # Where the family's words put them -> the first three cards. Parents' groups come first,
    # the family's own region's first of those; a local group first only in its own area.
    "unknown": ["cure_jm", "myositis_association", "myositis_support_group_uk"],
    "us": ["cure_jm", "myositis_association", "hss_myositis_support_group"],
    "new_york_city": ["hss_myositis_support_group", "cure_jm", "myositis_association"],
    "uk": ["myositis_support_group_uk", "cure_jm", "myositis_association"],
    "europe": ["myositis_support_group_uk", "cure_jm", "myositis_association"],
    "other": ["cure_jm", "myositis_association", "myositis_support_group_uk"],
}
# Three ways each of asking to meet or talk with other families, from each kind of place.
# The slot region is empty: the place comes from the words alone.
MEET_OTHERS = {
    "unknown": [
        "we would love to talk to other JDM parents",
        "is there a support group for jdm mums?",
        "me and my husband want to meet other families",
    ],
    "us": [
        "r there any jdm mums groups in texas",
        "we're in Ohio, can we talk to other parents of kids with jdm?",
        "any parent groups in TX?? would love to chat w other families",
    ],
    "new_york_city": [
        "we live in Brooklyn, is there a myositis group near us",
        "Queens NY here - any local group for jdm families?",
        "we're in nyc and want to meet other jdm parents",
    ],
    "uk": [
        "we're in Manchester UK, any families to chat with?",
        "are there other jdm mums in scotland i could talk to",
        "looking for a parents group near Cardiff",
    ],
    "europe": [
        "we live in Dublin, are there other families we could meet",
        "any JDM parents in Germany to talk to?",
        "we're in the netherlands - is there a support group for families",
    ],
    "other": [
        "we're in Toronto, can we meet other jdm parents",
        "other families in australia??",
        "we live in India and would love to talk to other parents",
    ],
}
LOCALITY_REGION = {"new_york_city": "us", "unknown": None}


@pytest.mark.parametrize("where, text", [(where, text) for where, texts in MEET_OTHERS.items() for text in texts])
def test_families_who_want_to_meet_others_get_parents_groups_first_for_their_place(domain, where, text) -> None:
    messages, events = handoff(domain, None, text)
    assert [m["org_name"] for m in cards(messages)] == [NAMES[i] for i in PARENTS_GROUPS[where]]
    assert SlotSet("support_need", "families") in events
    assert SlotSet("region", LOCALITY_REGION.get(where, where)) in events
    assert SlotSet("locality", where if where == "new_york_city" else None) in events


# Three ways of asking for each need, some naming a place: (text, region the words name).
NEED_ASKS = {
    "immunodeficiency": [
        ("who helps with immunodeficiency", None),
        ("my son may have a primary immunodeficiency too, any groups?", None),
        ("inherited immune deficiency support in europe pls", "europe"),
    ],
    "neurology": [
        ("is there a group for child neurology", None),
        ("her neurologist says to find a charity, who is there", None),
        ("brain and nerves groups in the UK", "uk"),
    ],
    "arthritis": [
        ("my daughter also has arthritis, who can help", None),
        ("JIA and jdm - any organisations in texas?", "us"),
        ("her joints hurt too, is there a group for that", None),
    ],
    "muscle_disease": [
        ("groups for muscle diseases", None),
        ("anyone for neuromuscular conditions in London?", "uk"),
        ("muscular dystrophy charity in NJ", "us"),
    ],
    "autoimmune": [
        ("organisations for autoimmune illness", None),
        ("auto immune support groups in ireland", "europe"),
        ("who helps with autoimmunity", None),
    ],
    "research": [
        ("how can we support research funding", None),
        ("we want to donate to find a cure, who do we give to", None),
        ("clinical trials for jdm in the US?", "us"),
    ],
    "information": [
        ("where can I get official information", None),
        ("leaflets about rare diseases plz", None),
        ("any trusted info for families in scotland", "uk"),
    ],
    "families": [
        ("is there a support group where I can talk to other parents", None),
        ("feeling so alone, anyone who gets it? we're in Sydney", "other"),
        ("peer support for jdm dads in Leeds", "uk"),
    ],
    "juvenile": [
        ("who helps kids with jdm", None),
        ("groups for children with myositis in canada", "other"),
        ("anything for my son in FL", "us"),
    ],
}


@pytest.mark.parametrize(
    "need, text, region", [(need, text, region) for need, asks in NEED_ASKS.items() for text, region in asks]
)
def test_each_need_in_a_parents_words_ranks_the_groups_that_meet_it(domain, need, text, region) -> None:
    messages, events = handoff(domain, None, text)
    assert SlotSet("support_need", need) in events and SlotSet("region", region) in events
    assert [m["org_name"] for m in cards(messages)] == [NAMES[i] for i in EXPECTED[(region or "other", need)]]


# Three ways each of naming where the family lives, with no particular need.
REGION_ASKS = {
    "us": ["we live in Ohio, who can help", "hi from Chicago, where can we get support", "we're in NJ, any groups?"],
    "uk": ["we're in Leeds, who can help us", "Wales - where do we find support", "based in the U.K., who can help"],
    "europe": ["we live in Paris, any organisations?", "we're from Spain, where can we get support", "Amsterdam here"],
    "other": ["we're in Australia, who can help", "new zealand, any support?", "Melbourne, where can we get help"],
}


@pytest.mark.parametrize("region, text", [(region, text) for region, texts in REGION_ASKS.items() for text in texts])
def test_a_place_in_a_parents_words_picks_the_region(domain, region, text) -> None:
    messages, events = handoff(domain, None, text)
    assert SlotSet("region", region) in events and SlotSet("support_need", None) in events
    assert messages[0]["response"] == "utter_support_intro"
    assert [m["org_name"] for m in cards(messages)] == [NAMES[i] for i in EXPECTED[(region, None)]]


@pytest.mark.parametrize(
    "text",
    [
        "is there a group in IN for families",
        "OR is there anyone we can talk to, other parents maybe",
        "ME and my husband want to meet other families",
        "OK so are there any parent groups",
        "HI, any support groups for families?",
        "her MD said to find other parents",
        "MS runs in our family, any parent groups?",
        "she had a CT scan, are there other parents to talk to",
    ],
)
def test_words_that_only_look_like_places_pick_no_region(domain, text) -> None:
    messages, events = handoff(domain, None, text)
    assert SlotSet("region", None) in events and SlotSet("locality", None) in events
    assert [m["org_name"] for m in cards(messages)] == [NAMES[i] for i in PARENTS_GROUPS["unknown"]]


def test_a_place_in_capitals_is_still_a_place(domain) -> None:
    _, events = handoff(domain, None, "WE LIVE IN TEXAS, ANY OTHER JDM FAMILIES?")
    assert SlotSet("region", "us") in events


def test_new_york_alone_may_be_the_state_so_the_city_group_is_named_not_claimed_near(domain) -> None:
    messages, events = handoff(domain, None, "we live in New York, any groups for parents?")
    assert SlotSet("region", "us") in events and SlotSet("locality", None) in events
    hss = cards(messages)[2]
    assert hss["org_name"] == NAMES["hss_myositis_support_group"]
    assert hss["why"].endswith("It is based in the New York City area.")


def test_the_last_place_named_wins_and_keeps_only_its_own_area(domain) -> None:
    _, events = handoff(domain, None, "we moved from Brooklyn to London last year, any groups for parents?")
    assert SlotSet("region", "uk") in events and SlotSet("locality", None) in events


def test_the_familys_area_is_remembered_for_the_next_request(domain) -> None:
    earlier = [user_event("we live in Queens"), {"event": "action", "name": "action_support_handoff"}]
    messages, events = handoff(
        domain, "us", "can I talk to other parents?", earlier=earlier, slots={"locality": "new_york_city"}
    )
    assert cards(messages)[0]["org_name"] == NAMES["hss_myositis_support_group"]
    assert SlotSet("locality", "new_york_city") in events


def test_an_area_of_another_region_is_not_kept(domain) -> None:
    messages, events = handoff(domain, "uk", "other parents please", slots={"locality": "new_york_city"})
    assert SlotSet("locality", None) in events
    assert cards(messages)[0]["org_name"] == NAMES["myositis_support_group_uk"]


def test_a_region_button_wins_over_a_place_typed_before_it(domain) -> None:
    earlier = [user_event("what is jdm? we're in Texas by the way")]
    _, events = handoff(domain, "uk", '/inform_region{"region": "uk"}', earlier=earlier, intent="inform_region")
    assert SlotSet("region", "uk") in events
