"""Answering medical questions from the sources: FAQ topics, terms, follow-ups.

The answers themselves live in domain.yml (utter_faq/<topic>) and
data/knowledge/*.yml; these actions only choose which one to send and
remember the topic, so "why?" or "how long?" next can be answered in context.
What the parent names wins over the topic classifier: a question that names a
medicine, test or sign is answered about that one.
"""

from __future__ import annotations

from typing import Any, Collection, Dict, List, Optional, Set, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import suggest_topics
from jdm_content.aspects import facts_by_answer, question_finder, read_question
from jdm_content.knowledge import (
    Answer,
    Fact,
    Term,
    Topic,
    load_facts,
    load_follow_ups,
    load_terms,
    load_topic_menu,
    load_topics,
)
from jdm_content.lexicon import canonical_id, entry
from jdm_content.questions import asked_last, first_question, named_in_question

TOPIC_SLOT = "topic"
SUPPORT_OFFER = "utter_offer_support"
TERM_LABELS = ("drug", "test", "symptom")
FOLLOW_UP_PREFIX = "followup_"


def selected_topic(latest_message: Dict[str, Any]) -> Tuple[Optional[str], float]:
    """The FAQ topic chosen for the latest message, and how sure the classifier was.

    The selection has the shape of Rasa's ResponseSelector output (our
    SentenceClassifier gives the same): keyed by the retrieval intent ("faq")
    when one is configured, else by "default"; the chosen key looks like "faq/rash". A selection without a
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


def named_terms(tracker: Tracker, in_question: bool = False) -> List[Tuple[str, str]]:
    """(label, lexicon id) of each drug, test or sign the latest message's question names, in order, once each.

    With two questions, the second's (a first question is answered apart: answer_first_question).
    `in_question`: of a story, only those its question parts name (jdm_content/questions.py).
    """
    message = tracker.latest_message
    text = message.get("text") or ""
    _, entities = asked_last(text, message.get("entities") or [], TERM_LABELS)
    if in_question:
        _, entities = named_in_question(question_finder(), text, entities, TERM_LABELS)
    named: List[Tuple[str, str]] = []
    for entity in entities:
        label = str(entity.get("entity"))
        term_id = canonical_id(label, str(entity.get("value", ""))) if label in TERM_LABELS else None
        if term_id and (label, term_id) not in named:
            named.append((label, term_id))
    return named


def asked_terms(tracker: Tracker) -> List[Tuple[str, str]]:
    """The terms a story's question names, or when it names none the story's ("... methotrexate. What is it for?")."""
    return named_terms(tracker, in_question=True) or named_terms(tracker)


def described_terms(tracker: Tracker) -> List[Term]:
    """The asked-about terms that data/knowledge/terms.yml has an answer for."""
    terms = load_terms().by_id
    return [terms[term_id] for _, term_id in asked_terms(tracker) if term_id in terms]


def anchoring_terms(tracker: Tracker, topic_id: Optional[str]) -> List[Term]:
    """The named terms that a medical question is really about, instead of the selected topic.

    A medicine or test (terms.yml `named_wins`) always; a sign only when the
    selected topic is not its own (its topic's answer says more about it).
    In a story only what its question names: "... she's on methotrexate. Will
    she grow out of it?" is the outlook, whatever the story names.
    """
    terms = load_terms()
    named = [
        (label, terms.by_id[term_id])
        for label, term_id in named_terms(tracker, in_question=True)
        if term_id in terms.by_id
    ]
    if any(label in terms.named_wins for label, _ in named):
        return [term for label, term in named if label in terms.named_wins]
    if named and all(term.topic != topic_id for _, term in named):
        return [term for _, term in named]
    return []


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


def said_this_turn(tracker: Tracker) -> Set[str]:
    """What the assistant has already said since the parent's message (a first question's answer)."""
    said: Set[str] = set()
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot" and event.get("text"):
            said.add(str(event["text"]))
    return said


def explain(dispatcher: CollectingDispatcher, tracker: Tracker, named: List[Term]) -> List[EventType]:
    """Each named term's own answer, unless already said this turn; its topic becomes the context for follow-ups.

    An aspect the terms' facts don't name ("does he need suncream in winter?")
    is said to be not covered first; the answer of the thing the parent named
    still follows (data/knowledge/aspects.yml).
    """
    said = said_this_turn(tracker)
    message = tracker.latest_message
    facts = [load_facts()[fact_id] for term in named for fact_id in term.facts]
    gap = read_question(message.get("text") or "", message.get("entities") or [], facts).gap
    if gap and named:
        dispatcher.utter_message(response=gap.kind.missing)
    for term in named:
        if term.answer not in said:
            dispatcher.utter_message(text=term.answer)
    topic = next((term.topic for term in reversed(named) if term.topic), None)
    return [SlotSet(TOPIC_SLOT, topic)] if topic else []


class ActionAnswerFaq(Action):
    """Answer a faq/<topic> question with that topic's response."""

    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        topic_id, confidence = selected_topic(tracker.latest_message)
        if anchored := anchoring_terms(tracker, topic_id):
            # "why is hydroxychloroquine given": the medicine named, not a neighbouring topic.
            return explain(dispatcher, tracker, anchored)
        topic = load_topics().get(topic_id or "")
        if topic is None:
            offer_topics(dispatcher)
            return []
        if confidence < load_topic_menu().min_confidence:
            # A guess at the topic would answer a question the parent did not
            # ask (or one the sources don't cover): suggest the likeliest topics.
            suggest_topics(dispatcher, tracker)
            return []
        return answer_topic(dispatcher, tracker, topic)


def answer_topic(dispatcher: CollectingDispatcher, tracker: Tracker, topic: Topic) -> List[EventType]:
    """The topic's answer, as far as it answers what the question asks.

    An aspect its facts don't name ("is JDM worse in winter?") is said to be
    not covered first, and the topic's answer follows only when it is still the
    nearest help (data/knowledge/aspects.yml). A follow-up the question asks in
    its own words ("how many years does treatment go on?") gets the topic's
    own answer to it first, when the topic's answer does not already carry it.
    """
    message = tracker.latest_message
    facts = facts_by_answer().get(topic.response, ())
    reading = read_question(message.get("text") or "", message.get("entities") or [], facts)
    gap = reading.gap
    if gap and not gap.answer_is_nearest:
        dispatcher.utter_message(response=gap.kind.missing)
        if gap.kind.nearest:
            dispatcher.utter_message(response=gap.kind.nearest)
        return [SlotSet(TOPIC_SLOT, None)]
    if gap:
        dispatcher.utter_message(response=gap.kind.missing)
    elif part := asked_part(reading.follow_up, topic, facts):
        dispatcher.utter_message(text=part)
    dispatcher.utter_message(response=topic.response)
    return topic_events(topic.id)


def asked_part(kind: Optional[str], topic: Topic, facts: Collection[Fact]) -> Optional[str]:
    """The topic's own answer to the follow-up asked, when the topic's answer lacks its facts."""
    answer = load_follow_ups().by_topic.get(topic.id, {}).get(kind or "")
    if answer is None or not answer.text or set(answer.facts) <= {fact.id for fact in facts}:
        return None
    return answer.text


class ActionExplainTerm(Action):
    """Answer "what is X (for)?" about the drug, test or symptom X the parent named."""

    def name(self) -> Text:
        return "action_explain_term"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        terms = load_terms()
        named = asked_terms(tracker)
        if not named:
            dispatcher.utter_message(text=terms.unknown)
            return []
        for label, term_id in named:
            if term_id not in terms.by_id:
                lexicon_entry = entry(label, term_id)
                dispatcher.utter_message(
                    text=terms.not_covered.replace("{name}", lexicon_entry.name if lexicon_entry else term_id)
                )
        return explain(dispatcher, tracker, [terms.by_id[i] for _, i in named if i in terms.by_id])


class ActionFollowUp(Action):
    """Answer "why?", "how long?", "side effects?", "and the skin?", "tell me more" in context."""

    def name(self) -> Text:
        return "action_follow_up"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        topics = load_topics()
        topic = topics.get(tracker.get_slot(TOPIC_SLOT) or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        follow_ups = load_follow_ups()
        kind = intent[len(FOLLOW_UP_PREFIX) :] if intent.startswith(FOLLOW_UP_PREFIX) else ""
        named = described_terms(tracker)
        if named and kind in follow_ups.kinds:
            return self.about_named_terms(dispatcher, tracker, named, kind)
        in_context = topic is not None
        if not in_context:
            # "how long before he goes into remission?" asked first: about the
            # topic its own words point to, when the classifier is sure enough.
            own_topic, confidence = selected_topic(tracker.latest_message)
            if confidence >= load_topic_menu().min_confidence:
                topic = topics.get(own_topic or "")
        if kind not in follow_ups.kinds or (topic is None and not follow_ups.defaults[kind].topic):
            offer_topics(dispatcher)
            return []
        if topic is None:
            # "and for the skin?" as a first question still has one sensible answer.
            answer = follow_ups.defaults[kind]
        else:
            answer = follow_ups.answer(topic.id, kind)
            if answer.topic == topic.id and in_context:
                # e.g. "and for the skin?" right after the skin answer: say all we know.
                answer = follow_ups.defaults["more"]
        if answer.topic:
            # A topic's answer, checked like any other against what the question asks.
            return answer_topic(dispatcher, tracker, topics[answer.topic])
        send_answer(dispatcher, answer, title=topic.title if topic else "")
        return []

    @staticmethod
    def about_named_terms(
        dispatcher: CollectingDispatcher, tracker: Tracker, named: List[Term], kind: str
    ) -> List[EventType]:
        """Side effects of methotrexate: that medicine's topic, never the last topic's."""
        follow_ups = load_follow_ups()
        if kind in follow_ups.term_answers:
            return explain(dispatcher, tracker, named)
        topics = load_topics()
        events: List[EventType] = []
        for term in named:
            answer = follow_ups.answer(term.topic, kind) if term.topic else follow_ups.defaults[kind]
            send_answer(dispatcher, answer, title=topics[term.topic].title if term.topic else term.id)
            topic = answer.topic or term.topic
            events = topic_events(topic) if topic else events
        return events


# The actions that answer a first question, as data/rules/faq.yml runs them (follow-ups: ActionFollowUp).
FIRST_ANSWERS: Dict[str, Action] = {"faq": ActionAnswerFaq(), "ask_term": ActionExplainTerm()}


def answer_first_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
) -> List[EventType]:
    """Answer the first of two questions (entity first_question), as its own message would be answered.

    action_validate_slot_mappings calls this before the rules answer the
    second question, so the parent reads the answers in the order asked. Only
    medical questions are marked (`answers_first` in config.yml); their
    actions are the ones data/rules/faq.yml runs for them.
    """
    message = tracker.latest_message
    first = first_question(message.get("text") or "", message.get("entities") or [])
    if first is None:
        return []
    text, entities, label, confidence = first
    intent = label.split("/", 1)[0]
    action = FIRST_ANSWERS.get(intent) or (ActionFollowUp() if intent.startswith(FOLLOW_UP_PREFIX) else None)
    if action is None:
        return []
    asked = tracker.copy()
    asked.latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "response_selector": {"default": {"response": {"intent_response_key": label, "confidence": confidence}}},
    }
    # Only slots (the topic, for the second question's context) may come out of the slot-validation hook.
    return [event for event in action.run(dispatcher, asked, domain) if event.get("event") == "slot"]
