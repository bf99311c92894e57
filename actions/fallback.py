"""Two-stage fallback for messages the assistant is not sure about.

First unclear message: suggest the likeliest topics as buttons. Second in a
row: point to the care team and offer support organisations (once; later
unclear messages only get the care-team pointer).
Stages are counted from the conversation's own events, so nothing is
remembered between conversations and it never asks the same thing forever.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from jdm_content.fallback import load_fallback_texts
from jdm_content.knowledge import Topic, load_topic_menu, load_topics

FALLBACK_INTENT = "nlu_fallback"
SUPPORT_OFFER = "utter_offer_support"


def consecutive_fallbacks(events: Iterable[Dict[str, Any]]) -> int:
    """How many of the latest user messages in this session were unclear, in a row."""
    count = 0
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "session_started":
            break
        if kind != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT:
            break
        count += 1
    return count


def ranked_topic_ids(latest_message: Dict[str, Any]) -> List[str]:
    """FAQ topics the classifier found likeliest, best first."""
    selectors = latest_message.get("response_selector") or {}
    ranking: List[Dict[str, Any]] = []
    for key in ("faq", "default"):
        ranking = (selectors.get(key) or {}).get("ranking") or []
        if ranking:
            break
    ranking = sorted(ranking, key=lambda r: r.get("confidence") or 0.0, reverse=True)
    keys = [str(r.get("intent_response_key") or "") for r in ranking]
    return [key.split("/", 1)[1] for key in keys if key.startswith("faq/")]


def suggested_topics(latest_message: Dict[str, Any], limit: int) -> List[Topic]:
    """The likeliest topics, topped up with the general suggestions."""
    topics = load_topics()
    ids = ranked_topic_ids(latest_message) + [t.id for t in load_topic_menu().suggested]
    chosen: List[Topic] = []
    for topic_id in ids:
        if topic_id in topics and topics[topic_id] not in chosen:
            chosen.append(topics[topic_id])
    return chosen[:limit]


def suggest_topics(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Stage 1: "did you mean...?" with the likeliest topics as buttons."""
    texts = load_fallback_texts()
    topics = suggested_topics(tracker.latest_message, texts.max_suggestions)
    dispatcher.utter_message(
        text=texts.first,
        buttons=[{"title": topic.title, "payload": topic.example} for topic in topics],
    )


def harmless_guess(latest_message: Dict[str, Any]) -> Optional[str]:
    """The reply for an unsure message whose best guess is small talk or off-topic, if any."""
    texts = load_fallback_texts()
    ranking = [r for r in latest_message.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    if not ranking:
        return None
    best = ranking[0].get("confidence") or 0.0
    runner_up = (ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    close_call = best > texts.max_guess and best - runner_up <= texts.close_call
    if not (texts.min_guess <= best <= texts.max_guess or close_call):
        return None
    return texts.harmless_guesses.get(str(ranking[0].get("name")))


class ActionJdmFallback(Action):
    """Stage 1: suggest topics as buttons. Stage 2 (and after): the care team."""

    def name(self) -> Text:
        return "action_jdm_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        texts = load_fallback_texts()
        response = harmless_guess(tracker.latest_message)
        if response:
            dispatcher.utter_message(response=response)
            return []
        in_a_row = consecutive_fallbacks(tracker.events)
        if in_a_row <= 1:
            suggest_topics(dispatcher, tracker)
        else:
            dispatcher.utter_message(text=texts.again)
        return [FollowupAction(SUPPORT_OFFER)] if in_a_row == 2 else []
