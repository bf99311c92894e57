"""Generated conversations, stored as the assistant stores them: the demo report and the speed test.

`make report DEMO=1` fills var/demo/tracker.db with a month of made-up
conversations, so a new user sees a report at once; scripts/bench_report.py
fills a store of 100,000. Each turn writes the events the running assistant
writes for it (the same event kinds, names, slots and JSON fields; a parent's
message carries a full NLU result, as large as a real one), and the tests
build their known conversations from the same turns.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from jdm_content.directory import matching, recommend
from jdm_content.fallback import load_fallback_texts
from jdm_content.knowledge import load_terms, load_topics
from jdm_content.triage import load_triage

MODEL_META = {"model_id": "demo0000000000000000000000000000", "assistant_id": "jdm-parent-assistant"}
EventRow = Tuple[str, str, float, Optional[str], Optional[str], str]  # sender, kind, timestamp, intent, action, data


def _answer_text(topic: str) -> str:
    """A stand-in for the topic's answer, as long as a real one (the NLU result carries the answer's text)."""
    return f"General information about {topic.replace('_', ' ')}. " * 12


def parse_data(text: str, intent: str, entities: Sequence[Dict[str, Any]] = (), topic: Optional[str] = None) -> Dict:
    """An NLU result of the shape the assistant stores, with rankings of the usual length."""
    topics = list(load_topics())
    ranking = [{"name": intent, "confidence": 0.93}] + [{"name": f"other_{i}", "confidence": 0.007} for i in range(9)]
    chosen = topic or topics[0]
    return {
        "intent": {
            "name": intent,
            "confidence": 0.93,
            "full_retrieval_intent_name": f"faq/{chosen}" if topic else None,
        },
        "entities": list(entities),
        "text": text,
        "message_id": uuid.uuid4().hex,
        "metadata": {},
        "text_tokens": [[i, i + 1] for i in range(0, min(len(text), 60), 5)],
        "intent_ranking": ranking,
        "response_selector": {
            "all_retrieval_intents": ["faq"],
            "default": {
                "response": {
                    "responses": [{"text": _answer_text(chosen)}],
                    "confidence": 0.9,
                    "intent_response_key": f"faq/{chosen}",
                    "utter_action": f"utter_faq/{chosen}",
                },
                "ranking": [
                    {"confidence": 0.9 if t == chosen else 0.01, "intent_response_key": f"faq/{t}"} for t in topics[:10]
                ],
            },
        },
    }


@dataclass
class Recorder:
    """Writes one conversation's events in order, one second apart, as rows of the `events` table."""

    sender: str
    clock: float
    rows: List[EventRow] = field(default_factory=list)

    def _add(self, kind: str, data: Dict[str, Any], intent: Optional[str] = None, action: Optional[str] = None) -> None:
        self.clock += 0.01
        event = {"event": kind, "timestamp": self.clock, "metadata": dict(MODEL_META), **data}
        self.rows.append((self.sender, kind, self.clock, intent, action, json.dumps(event)))

    def action(self, name: str) -> None:
        self._add(
            "action",
            {"name": name, "policy": "RulePolicy", "confidence": 1.0, "action_text": None, "hide_rule_turn": True},
            action=name,
        )

    def bot(
        self, text: str, response: Optional[str] = None, buttons: Optional[List[Dict]] = None, **values: Any
    ) -> None:
        metadata = {**({"utter_action": response, "template": response} if response else {}), **values, **MODEL_META}
        data = {
            "elements": None,
            "quick_replies": None,
            "buttons": buttons,
            "attachment": None,
            "image": None,
            "custom": None,
        }
        self.clock += 0.01
        event = {"event": "bot", "timestamp": self.clock, "metadata": metadata, "text": text, "data": data}
        self.rows.append((self.sender, "bot", self.clock, None, None, json.dumps(event)))

    def slot(self, name: str, value: Any) -> None:
        self._add("slot", {"name": name, "value": value})

    def start(self) -> None:
        """The start of a session: the disclaimer comes before any message."""
        self.action("action_session_start")
        self.bot("I'm an automated assistant, not a doctor or nurse.", "utter_disclaimer")
        self._add("session_started", {})
        self.action("action_listen")

    def user(
        self, text: str, intent: str, entities: Sequence[Dict[str, Any]] = (), topic: Optional[str] = None
    ) -> None:
        """A parent's message, 20 seconds after the assistant's last reply."""
        self.clock += 20.0
        self._add(
            "user",
            {
                "text": text,
                "parse_data": parse_data(text, intent, entities, topic),
                "input_channel": "rest",
                "message_id": uuid.uuid4().hex,
            },
            intent=intent,
        )
        self._add("user_featurization", {"use_text_for_featurization": False})

    def followup(self, name: str) -> None:
        """An action's FollowupAction: the action it asks Rasa to run next."""
        self._add("followup", {"name": name})

    def listen(self) -> None:
        self.action("action_listen")


def entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value), "extractor": "SpacyEntityExtractor"}


class Turns:
    """The turns the assistant has, each writing the events it writes (actions/, domain.yml)."""

    def __init__(self, recorder: Recorder) -> None:
        self.r = recorder

    def greet(self, text: str = "hello") -> None:
        self.r.user(text, "greet")
        self.r.action("utter_greet")
        self.r.bot("Hello, and welcome.", "utter_greet")
        self.r.listen()

    def small_talk(self, text: str, intent: str) -> None:
        """thank, goodbye: the intent's own reply."""
        self.r.user(text, intent)
        self.r.action(f"utter_{intent}")
        self.r.bot("You're welcome." if intent == "thank" else "Take care.", f"utter_{intent}")
        self.r.listen()

    def faq(
        self, text: str, topic: str, care_note: Optional[str] = None, terms: Sequence[Tuple[str, str]] = ()
    ) -> None:
        """A topic answered (action_answer_faq), after the tier's advice when the triage step marked one."""
        entities = [entity(label, value) for label, value in terms]
        if care_note:
            entities.append({**entity("care_note", care_note), "extractor": "TriageGuard"})
        self.r.user(text, "faq", entities, topic)
        if care_note:
            self.r.bot("**Please call your child's care team.**", load_triage().tier_responses[care_note])
        self.r.action("action_answer_faq")
        self.r.bot(_answer_text(topic), f"utter_faq/{topic}")
        self.r.slot("topic", topic)
        if load_topics()[topic].sensitive:
            self.r.action("utter_offer_support")
            self.r.bot("Would you like to see groups that help families?", "utter_offer_support")
        self.r.listen()

    def follow_up(self, text: str, kind: str = "why") -> None:
        """ "why?" after an answer: our own text, about the topic the conversation is on."""
        self.r.user(text, f"followup_{kind}")
        self.r.action("action_follow_up")
        self.r.bot("Because the immune system is calmed slowly.")
        self.r.listen()

    def term(self, text: str, label: str, value: str) -> None:
        """ "what is X?": the term's answer (data/knowledge/terms.yml), and its topic."""
        self.r.user(text, "ask_term", [entity(label, value)])
        self.r.action("action_explain_term")
        term = load_terms().by_id[value]
        self.r.bot(term.answer)
        if term.topic:
            self.r.slot("topic", term.topic)
        self.r.listen()

    def not_covered(self, text: str) -> None:
        self.r.user(text, "ask_not_covered")
        self.r.action("utter_not_covered")
        self.r.bot("I'm sorry, my information doesn't cover that.", "utter_not_covered")
        self.r.action("utter_offer_support")
        self.r.bot("Would you like to see groups that help families?", "utter_offer_support")
        self.r.listen()

    def did_you_mean(self, text: str) -> None:
        """The first unclear message: the fallback suggests topics as buttons."""
        self.r.user(text, "nlu_fallback")
        self.r.action("action_jdm_fallback")
        buttons = [{"title": t.title, "payload": t.example} for t in list(load_topics().values())[:3]]
        self.r.bot(load_fallback_texts().first, buttons=buttons)
        self.r.listen()

    def fallback_again(self, text: str) -> None:
        """A second unclear message in a row: the care team, and support offered."""
        self.r.user(text, "nlu_fallback")
        self.r.action("action_jdm_fallback")
        self.r.bot(load_fallback_texts().again)
        self.r.followup("utter_offer_support")
        self.r.action("utter_offer_support")
        self.r.bot("Would you like to see groups that help families?", "utter_offer_support")
        self.r.listen()

    def support(self, text: str, region: Optional[str] = None, need: Optional[str] = None) -> None:
        """A hand-off: the organisations for the family's region and need, each on a contact card."""
        entities = [entity("support_need", need)] if need else []
        self.r.user(text, "ask_support", entities)
        self.r.action("action_support_handoff")
        self.r.bot("Here are some groups that may help your family.", "utter_support_intro_anywhere")
        for found in recommend(region or "other", need):
            organisation = found.organisation
            self.r.bot(
                "", "utter_contact_card", org_name=organisation.name, why=" ".join(found.reasons), contact="Phone: ..."
            )
        self.r.slot("region", region)
        self.r.slot("support_need", need)
        self.r.listen()

    def emergency(self, text: str) -> None:
        self.r.user(text, "emergency")
        self.r.action("utter_emergency")
        self.r.bot("**This may be an emergency. Please get help now.**", "utter_emergency")
        self.r.listen()

    def crisis(self, text: str) -> None:
        self.r.user(text, "crisis")
        self.r.action("action_crisis")
        self.r.bot("I'm really glad you told me.", "utter_crisis", crisis_lines="- Samaritans")
        self.r.listen()


# --- the demo's made-up parents -------------------------------------------------------

# Questions the sources do not answer, a few wordings each; the generator adds openings,
# endings, typos and now and then a name or a phone number (masked in the report).
UNANSWERED = {
    "not_covered": [
        "can my {child} go on the school ski trip",
        "is it ok for my {child} to go swimming in a chlorinated pool",
        "what diet should my {child} follow",
        "can my {child} have the nasal flu vaccine",
        "will my {child} be able to play football again",
        "can we fly abroad on holiday with jdm",
        "does jdm affect puberty",
        "can my {child} have a live vaccine like MMR",
    ],
    "did_you_mean": [
        "{name} keeps waking at night with sore legs what can we do",
        "school says my {child} has missed too many days what letter do they need",
        "my {child} is being bullied about the rash",
        "how do we explain jdm to a younger sibling",
        "are there summer camps for kids with jdm",
        "my {child} hates the taste of the liquid medicine any tips",
    ],
    "fallback": [
        "what about the thing the consultant mentioned last week",
        "blood test numbers went up is that the ck",
        "can you send me the leaflet",
    ],
}
OPENINGS = ["", "", "hi ", "hello, ", "quick question: ", "please help, ", "sorry to bother you but "]
ENDINGS = ["", "", "?", "??", " please", " thanks", "?!"]
CHILDREN = ["son", "daughter", "child", "boy", "girl", "little one"]
ASKED = [
    ("what does the jdm rash look like", "rash"),
    ("why does my child feel so weak", "muscle_weakness"),
    ("how is jdm treated", "treatment_overview"),
    ("why are steroids lowered slowly", "steroid_taper"),
    ("do we really need sunscreen every day", "sun_protection"),
    ("will my child get better", "outlook"),
    ("what causes jdm", "cause"),
    ("how do doctors diagnose jdm", "diagnosis"),
    ("what are the hard lumps under the skin", "calcinosis"),
    ("is jdm serious", "is_it_serious"),
]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 12 or rng.random() > 0.25:
        return text
    at = rng.randrange(3, len(text) - 3)
    return text[:at] + text[at + 1 :]


def _question(template: str, rng: random.Random, names: Sequence[str]) -> str:
    text = template.replace("{child}", rng.choice(CHILDREN)).replace("{name}", rng.choice(names))
    if rng.random() < 0.04:
        text += rng.choice(
            [
                f", my name is {rng.choice(names)}",
                ", call me on 07700 900" + str(rng.randrange(100, 999)),
                f", {rng.choice(names)} was born on {rng.randrange(1, 28)}/0{rng.randrange(1, 9)}/2015",
            ]
        )
    return _typo(rng.choice(OPENINGS) + text + rng.choice(ENDINGS), rng)


def _conversation(turns: Turns, rng: random.Random, names: Sequence[str], needs: Sequence[Optional[str]]) -> None:
    """One made-up conversation: questions, some unanswered, now and then triage or a hand-off."""
    turns.r.start()
    if rng.random() < 0.4:
        turns.greet()
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
        roll = rng.random()
        if roll < 0.45:
            text, topic = rng.choice(ASKED)
            note = rng.choice(["urgent", "soon"]) if rng.random() < 0.05 else None
            turns.faq(_typo(text, rng), topic, care_note=note)
            if rng.random() < 0.2:
                turns.follow_up("why?")
        elif roll < 0.55:
            turns.term("what is methotrexate for", "drug", "methotrexate")
        elif roll < 0.65:
            turns.not_covered(_question(rng.choice(UNANSWERED["not_covered"]), rng, names))
        elif roll < 0.77:
            turns.did_you_mean(_question(rng.choice(UNANSWERED["did_you_mean"]), rng, names))
            if rng.random() < 0.5:
                return  # silence after "did you mean"
        elif roll < 0.8:
            turns.did_you_mean("asdf")
            turns.fallback_again(_question(rng.choice(UNANSWERED["fallback"]), rng, names))
        elif roll < 0.9:
            region = rng.choice([None, "uk", "us", "europe"])
            turns.support("where can we find support", region, rng.choice(needs))
        elif roll < 0.93:
            turns.emergency("my daughter can't breathe properly")
        elif roll < 0.94:
            turns.crisis("i can't cope anymore")
    ending = rng.random()
    if ending < 0.35:
        turns.small_talk("thank you", "thank")
    elif ending < 0.55:
        turns.small_talk("bye", "goodbye")


def demo_rows(conversations: int, days: int, now: float, seed: int = 24) -> Iterator[List[EventRow]]:
    """`conversations` made-up conversations over the last `days` days, one list of rows each."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker(["en_GB", "en_US"])
    fake.seed_instance(seed)
    names = [fake.first_name() for _ in range(200)]
    needs = [None, None, *(need.id for need in matching().needs)]
    for _ in range(conversations):
        start = now - rng.uniform(0.01, days - 0.01) * 86400
        recorder = Recorder(f"demo-{uuid.UUID(int=rng.getrandbits(128))}", start)
        _conversation(Turns(recorder), rng, names, needs)
        yield recorder.rows


def write_rows(engine: sa.engine.Engine, batches: Iterator[List[EventRow]], per_commit: int = 2000) -> int:
    """Insert conversations' rows into the `events` table Rasa created; how many conversations."""
    statement = sa.text(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
    )
    keys = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
    count, pending = 0, []
    with engine.begin() as connection:
        for rows in batches:
            pending += [dict(zip(keys, row, strict=False)) for row in rows]
            count += 1
            if count % per_commit == 0:
                connection.execute(statement, pending)
                pending = []
        if pending:
            connection.execute(statement, pending)
    return count
