"""Hand families off to support organisations: matching, contact cards, region form.

Who is suggested and why comes from data/organisations.yml and
data/support_needs.yml (actions/directory.py); the wording of the messages
is in domain.yml. This module only joins them to the conversation.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.directory import Organisation, detect_need, directory, matching, recommend
from actions.lexicon import canonical_id

# Channels whose widget renders markdown links; the terminal ("cmdline") does not.
LINK_CHANNELS = ("rest", "socketio")
PHONE_LABEL_NAMES = {"main": "Phone", "toll_free": "Toll-free", "fax": "Fax"}
FALLBACK_REGION = "other"


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
    lines.append("Address: " + ", ".join([*organisation.address, organisation.postal_country]))
    return "\n".join(lines)


def shows_links(tracker: Tracker) -> bool:
    return tracker.get_latest_input_channel() in LINK_CHANNELS


def send_card(dispatcher: CollectingDispatcher, tracker: Tracker, organisation: Organisation,
              why: str, family_region: Optional[str]) -> None:
    dispatcher.utter_message(
        response="utter_contact_card",
        org_name=organisation.name,
        why=why,
        contact=contact_lines(organisation, shows_links(tracker), family_region),
    )


def recent_need(tracker: Tracker) -> Optional[str]:
    """The need in the parent's messages since the last hand-off (newest first)."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_support_handoff":
            break
        if event.get("event") == "user":
            need = detect_need(event.get("text") or "")
            if need:
                return need
    return detect_need(tracker.latest_message.get("text") or "")


class ActionSupportHandoff(Action):
    """Suggest the best-fitting organisations for the family's region and need."""

    def name(self) -> Text:
        return "action_support_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        rules = matching()
        region_id = resolve("region", tracker.get_slot("region"), rules.regions) or FALLBACK_REGION
        need_id = recent_need(tracker) or tracker.get_slot("support_need")
        need = rules.need(need_id)
        dispatcher.utter_message(
            response="utter_support_intro",
            region_name=rules.regions[region_id].name,
            need_text=f", for {need.name}" if need else "",
        )
        for recommendation in recommend(region_id, need.id if need else None):
            send_card(dispatcher, tracker, recommendation.organisation,
                      " ".join(recommendation.reasons), region_id)
        return [SlotSet("region", region_id), SlotSet("support_need", need.id if need else None)]


class ActionOrganisationContact(Action):
    """Show the card of the organisation a parent named, or ask which one."""

    def name(self) -> Text:
        return "action_organisation_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        organisations = directory()
        named: List[str] = []
        for entity in tracker.latest_message.get("entities", []):
            if entity.get("entity") == "organisation":
                org_id = resolve("organisation", entity.get("value"), organisations)
                if org_id and org_id not in named:
                    named.append(org_id)
        if not named:
            dispatcher.utter_message(
                response="utter_ask_which_organisation",
                buttons=[
                    {"title": org.name, "payload": f'/ask_org_contact{{"organisation": "{org.id}"}}'}
                    for org in organisations.values()
                ],
            )
            return []
        family_region = resolve("region", tracker.get_slot("region"), matching().regions)
        for org_id in named:
            organisation = organisations[org_id]
            send_card(dispatcher, tracker, organisation, organisation.serves, family_region)
        return []


class ValidateRegionForm(FormValidationAction):
    """Turn "we're in Ohio", "London" or a button into a region id; never ask twice."""

    def name(self) -> Text:
        return "validate_region_form"

    def validate_region(self, slot_value: Any, dispatcher: CollectingDispatcher,
                        tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        region_id = resolve("region", slot_value, matching().regions)
        if region_id is None:
            dispatcher.utter_message(response="utter_region_not_recognised")
            region_id = FALLBACK_REGION
        return {"region": region_id}
