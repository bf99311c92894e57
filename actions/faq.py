"""Answering medical questions from the sources: FAQ topics, terms, follow-ups.

The answers themselves live in domain.yml (utter_faq/<topic>) and
data/knowledge/*.yml; these actions only choose which one to send and
remember the topic, so "why?" or "how long?" next can be answered in context.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import Answer, load_follow_ups, load_terms, load_topic_menu, load_topics
from actions.lexicon import canonical_id, entry

TOPIC_SLOT = "topic"
SUPPORT_OFFER = "utter_offer_support"
CARE_TEAM_SOON = "utter_tell_care_team_soon"
TERM_LABELS = ("drug", "test", "symptom")
FOLLOW_UP_PREFIX = "followup_"
UNSURE_ACTION = "action_jdm_fallback"


def selected_topic(latest_message: Dict[str, Any]) -> Tuple[Optional[str], float]:
    """The FAQ topic the ResponseSelector chose for the latest message, and how sure it was.

    Rasa 3.6 keys the selection by the retrieval intent ("faq") when the
    ResponseSelector is configured with `retrieval_intent: faq`, else by
    "default"; the chosen key looks like "faq/rash". A selection without a
    confidence (a test or a hand-written story) counts as sure.
    """
    selector = latest_message.get("response_selector") or {}
    for key in ("faq", "default"):
        response = (selector.get(key) or {}).get("response") or {}
        intent_response_key = response.get("intent_response_key") or ""
        if intent_response_key.startswith("faq/"):
            confidence = response.get("confidence")
            return intent_response_key.split("/", 1)[1], 1.0 if confidence is None else float(confidence)
    return None, 0.0


def remind_care_team(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Add the safety guard's nudge when it marked the message (entity care_note)."""
    if any(e.get("entity") == "care_note" for e in tracker.latest_message.get("entities", [])):
        dispatcher.utter_message(response=CARE_TEAM_SOON)


def topic_events(topic_id: str) -> List[EventType]:
    """Remember the topic; after a sensitive one, offer support organisations."""
    events: List[EventType] = [SlotSet(TOPIC_SLOT, topic_id)]
    if load_topics()[topic_id].sensitive:
        events.append(FollowupAction(SUPPORT_OFFER))
    return events


def offer_topics(dispatcher: CollectingDispatcher) -> None:
    """Ask what the parent would like to know, with example questions as buttons."""
    menu = load_topic_menu()
    dispatcher.utter_message(
        text=menu.prompt,
        buttons=[{"title": topic.example, "payload": topic.example} for topic in menu.suggested],
    )


def send_answer(dispatcher: CollectingDispatcher, answer: Answer, title: str = "") -> None:
    """Send our own text, or the response of the topic the answer points to."""
    if answer.topic:
        dispatcher.utter_message(response=load_topics()[answer.topic].response)
    else:
        dispatcher.utter_message(text=(answer.text or "").replace("{title}", title))


class ActionAnswerFaq(Action):
    """Answer a faq/<topic> question with that topic's response."""

    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        topic_id, confidence = selected_topic(tracker.latest_message)
        topic = load_topics().get(topic_id or "")
        if topic is None:
            offer_topics(dispatcher)
            return []
        if confidence < load_topic_menu().min_confidence:
            # A guess at the topic would answer a question the parent did not
            # ask (or one the sources don't cover): suggest the likeliest topics.
            return [FollowupAction(UNSURE_ACTION)]
        dispatcher.utter_message(response=topic.response)
        remind_care_team(dispatcher, tracker)
        return topic_events(topic.id)


class ActionExplainTerm(Action):
    """Answer "what is X (for)?" about the drug, test or symptom X the parent named."""

    def name(self) -> Text:
        return "action_explain_term"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        terms = load_terms()
        named = []  # (label, id) in the order the parent wrote them, once each
        for entity in tracker.latest_message.get("entities", []):
            label = entity.get("entity")
            term_id = canonical_id(label, str(entity.get("value", ""))) if label in TERM_LABELS else None
            if term_id and (label, term_id) not in named:
                named.append((label, term_id))
        if not named:
            dispatcher.utter_message(text=terms.unknown)
            return []
        topic = None
        for label, term_id in named:
            term = terms.by_id.get(term_id)
            if term is None:
                lexicon_entry = entry(label, term_id)
                dispatcher.utter_message(
                    text=terms.not_covered.replace("{name}", lexicon_entry.name if lexicon_entry else term_id))
                continue
            dispatcher.utter_message(text=term.answer)
            topic = term.topic or topic
        remind_care_team(dispatcher, tracker)
        return [SlotSet(TOPIC_SLOT, topic)] if topic else []


class ActionFollowUp(Action):
    """Answer "why?", "how long?", "side effects?", "and the skin?", "tell me more" in context."""

    def name(self) -> Text:
        return "action_follow_up"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        topics = load_topics()
        topic = topics.get(tracker.get_slot(TOPIC_SLOT) or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        follow_ups = load_follow_ups()
        kind = intent[len(FOLLOW_UP_PREFIX):] if intent.startswith(FOLLOW_UP_PREFIX) else ""
        if kind not in follow_ups.kinds or (topic is None and not follow_ups.defaults[kind].topic):
            offer_topics(dispatcher)
            return []
        if topic is None:
            # "and for the skin?" as a first question still has one sensible answer.
            answer = follow_ups.defaults[kind]
        else:
            answer = follow_ups.answer(topic.id, kind)
            if answer.topic == topic.id:
                # e.g. "and for the skin?" right after the skin answer: say all we know.
                answer = follow_ups.defaults["more"]
        send_answer(dispatcher, answer, title=topic.title if topic else "")
        remind_care_team(dispatcher, tracker)
        return topic_events(answer.topic) if answer.topic else []
