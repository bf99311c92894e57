"""Hand families off to support organisations: matching, contact cards, narrowing buttons.

Who is suggested and why comes from data/organisations.yml and
data/support_needs.yml (jdm_content/directory.py); the wording of the messages
is in domain.yml. This module only joins them to the conversation.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from jdm_content.directory import (
    Matching,
    Organisation,
    Place,
    detect_need,
    directory,
    find_place,
    matching,
    recommend,
)
from jdm_content.lexicon import canonical_id

# Channels whose widget renders markdown links; the terminal ("cmdline") does not.
LINK_CHANNELS = ("rest", "socketio")
PHONE_LABEL_NAMES = {"main": "Phone", "toll_free": "Toll-free", "fax": "Fax"}
FALLBACK_REGION = "other"
INFORM_REGION_INTENT = "inform_region"
# The locality (data/support_needs.yml) within the family's region, kept like the region.
LOCALITY_SLOT = "locality"
NARROWING_PROMPTS = ("utter_narrow_support", "utter_narrow_support_by_need")


def resolve(label: str, value: Any, known_ids: Any) -> Optional[str]:
    """An id from a slot/entity value: an id itself (button payloads) or a lexicon spelling."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if not isinstance(value, str):
        return None
    if value.strip().lower() in known_ids:
        return value.strip().lower()
    found = canonical_id(label, value)
    return found if found in known_ids else None


def contact_lines(organisation: Organisation, links: bool, family_region: Optional[str]) -> str:
    """Phones (labelled) and address as card lines; tel: links only where they render."""
    if not organisation.contactable:
        return organisation.no_contact_note or ""
    lines = []
    abroad = family_region is not None and organisation.region != family_region
    for phone in organisation.phones:
        shown = phone.national
        if links and phone.label != "fax":
            shown = f"[{phone.national}](tel:{phone.e164})"
        if abroad:
            shown += f" (from abroad: {phone.international})"
        lines.append(f"{PHONE_LABEL_NAMES[phone.label]}: {shown}")
    lines.append("Address: " + ", ".join([*organisation.address, organisation.postal_country or ""]))
    return "\n".join(lines)


def shows_links(tracker: Tracker) -> bool:
    return tracker.get_latest_input_channel() in LINK_CHANNELS


def send_card(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    organisation: Organisation,
    why: str,
    family_region: Optional[str],
) -> None:
    dispatcher.utter_message(
        response="utter_contact_card",
        org_name=organisation.name,
        why=why,
        contact=contact_lines(organisation, shows_links(tracker), family_region),
    )


def recent_texts(tracker: Tracker) -> List[str]:
    """The parent's messages since the last hand-off, newest first (the latest always included)."""
    texts: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_support_handoff":
            break
        if event.get("event") == "user":
            texts.append(event.get("text") or "")
    latest = tracker.latest_message.get("text") or ""
    return texts if texts and texts[0] == latest else [latest, *texts]


def recent_need(tracker: Tracker) -> Optional[str]:
    """The need in the parent's messages since the last hand-off (newest first)."""
    return next((need for need in map(detect_need, recent_texts(tracker)) if need), None)


def family_place(tracker: Tracker) -> Optional[Place]:
    """Where the family lives: the newest place typed since the last hand-off, else the one remembered.

    Read from the words, not only the NLU's entities, so a town the entity ruler does not list
    ("Brooklyn") still finds its local group. A button pressed (a "/" payload) is the newest
    choice: its region is in the slot, and older words do not override it.
    """
    rules = matching()
    for text in recent_texts(tracker):
        if text.startswith("/"):
            break
        place = find_place(text)
        if place:
            return place
    region = resolve("region", tracker.get_slot("region"), rules.regions)
    if region is None:
        return None
    locality = rules.localities.get(tracker.get_slot(LOCALITY_SLOT) or "")
    return Place(region, locality.id if locality and locality.region == region else None)


def named_organisations(tracker: Tracker) -> List[Organisation]:
    """The organisations the latest message names, in order, once each."""
    organisations = directory()
    named: List[Organisation] = []
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") == "organisation":
            org_id = resolve("organisation", entity.get("value"), organisations)
            if org_id and organisations[org_id] not in named:
                named.append(organisations[org_id])
    return named


def send_named_cards(dispatcher: CollectingDispatcher, tracker: Tracker, named: List[Organisation]) -> None:
    family_region = resolve("region", tracker.get_slot("region"), matching().regions)
    for organisation in named:
        send_card(dispatcher, tracker, organisation, organisation.serves, family_region)


def narrowing_buttons(rules: Matching, region_known: bool, need_id: Optional[str]) -> List[Dict[str, str]]:
    """Buttons for the family's region (until it is known) and for the other needs offered."""
    buttons = (
        []
        if region_known
        else [
            {"title": region.button, "payload": f'/{INFORM_REGION_INTENT}{{"region": "{region.id}"}}'}
            for region in rules.regions.values()
        ]
    )
    buttons += [
        {"title": need.button, "payload": f'/ask_support{{"support_need": "{need.id}"}}'}
        for need in rules.needs
        if need.button and need.id != need_id
    ]
    return buttons


def just_offered_narrowing(tracker: Tracker) -> bool:
    """Whether the assistant's turn before this message ended with narrowing buttons.

    They are offered once in a row: a parent clicking through them is not asked the same again.
    """
    after_latest_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if after_latest_message:
                return False
            after_latest_message = True
        elif event.get("event") == "bot" and after_latest_message:
            return (event.get("metadata") or {}).get("utter_action") in NARROWING_PROMPTS
    return False


class ActionSupportHandoff(Action):
    """Organisations at once, best first: for the family's region and need when known.

    Nothing is asked before the list: a family that says nothing more still
    has contacts; buttons narrow the list by region or need.
    """

    def name(self) -> Text:
        return "action_support_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        named = named_organisations(tracker)
        if named:
            send_named_cards(dispatcher, tracker, named)
            return []
        rules = matching()
        place = family_place(tracker)
        region_id, locality_id = (place.region, place.locality) if place else (None, None)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if region_id is None and intent == INFORM_REGION_INTENT:
            dispatcher.utter_message(response="utter_region_not_recognised")
        need = rules.need(recent_need(tracker) or tracker.get_slot("support_need"))
        need_text = f", for {need.name}" if need else ""
        if region_id is None:
            dispatcher.utter_message(response="utter_support_intro_anywhere", need_text=need_text)
        else:
            dispatcher.utter_message(
                response="utter_support_intro", region_name=rules.regions[region_id].name, need_text=need_text
            )
        for recommendation in recommend(region_id or FALLBACK_REGION, need.id if need else None, locality_id):
            send_card(dispatcher, tracker, recommendation.organisation, " ".join(recommendation.reasons), region_id)
        buttons = narrowing_buttons(rules, region_id is not None, need.id if need else None)
        if buttons and not just_offered_narrowing(tracker):
            prompt = "utter_narrow_support_by_need" if region_id else "utter_narrow_support"
            dispatcher.utter_message(response=prompt, buttons=buttons)
        return [
            SlotSet("region", region_id),
            SlotSet(LOCALITY_SLOT, locality_id),
            SlotSet("support_need", need.id if need else None),
        ]


class ActionOrganisationContact(Action):
    """Show the card of the organisation a parent named, or ask which one."""

    def name(self) -> Text:
        return "action_organisation_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        named = named_organisations(tracker)
        if not named:
            dispatcher.utter_message(
                response="utter_ask_which_organisation",
                buttons=[
                    {"title": org.name, "payload": f'/ask_org_contact{{"organisation": "{org.id}"}}'}
                    for org in directory().values()
                ],
            )
            return []
        send_named_cards(dispatcher, tracker, named)
        return []
