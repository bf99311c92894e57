"""The triage step: after the trained classifiers, the clinician's triage table decides.

The classifiers can misread a frightened parent's message, and a phrase list
alone answers "this rash is killing me" with "call 911". This component reads
every message against data/safety/triage.yml (jdm_content/triage.py), whose
rules fire only where their words describe the child now:

- emergency: the intent becomes `emergency` (the emergency reply alone); a
  rule that only mentions help (`with_answer`, "we're in A&E now, what does
  a high CK mean?") keeps the answer, with the emergency advice first;
- crisis: the intent becomes `crisis` (crisis lines and the emergency number),
  with the emergency reply first when an emergency rule fired too;
- urgent, soon: the answer stays, and the entity `care_note` tells
  action_triage_note to put the tier's advice before it, whatever answers;
- a question about dosing or changing one child's medicine becomes
  `ask_child_medicine` (the care team decides those). In a story whose
  question parts are all general questions about JDM that name no dose or
  change ("... he's on 30mg of pred. Can JDM affect the heart?"), the story's
  medicine words get that reply as a note before the answer instead
  (care_note `ask_child_medicine`): the parent asked something else.

A learned model (components/triage_model.py) reads each sentence too and
catches dangers described in words no rule lists ("he's gone a grey colour
round his mouth"). It can only raise a message's tier, and only from a
sentence that describes the child now (not past, figurative or a general
question: Triage.sentence_set_aside); how sure it must be, per tier, is set
in triage.yml `learned`.

The intent classifier reads the whole message at once and cannot see a
story's "two years ago" or a figure of speech: its own `emergency` or `crisis`
guess never decides, the rules and the learned model do (its guess alone
gave most of the false alarms on calm stories). An emergency a rule finds is
never silenced by a model. Which rule fired is logged at DEBUG only: the
logs sit beside addresses in the web server's.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from components.intent_override import override_intent
from components.sentence_vectors import SentenceVectors
from components.triage_model import TriageModel
from jdm_content import validate_all
from jdm_content.aspects import question_finder
from jdm_content.triage import CARE_NOTE_ENTITY, TIERS, Assessment, Finding, Triage, load_triage

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "emergency"
CRISIS_INTENT = "crisis"
CHILD_MEDICINE_INTENT = "ask_child_medicine"
# care_note values: the tier whose advice goes before the answer.
EMERGENCY_FIRST = "emergency"
SOON = "soon"
NOTE_TIERS = ("urgent", SOON)
OVERRIDES = (EMERGENCY_INTENT, CRISIS_INTENT, CHILD_MEDICINE_INTENT)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TriageGuard(GraphComponent):
    """Sets the intent to `emergency`, `crisis` or `ask_child_medicine`; adds `care_note`.

    Put it last in the pipeline (after FallbackClassifier) so nothing
    downstream can undo it.
    """

    def __init__(
        self,
        triage: Triage,
        config: Optional[Dict[Text, Any]] = None,
        learned: Optional[Tuple[SentenceVectors, TriageModel]] = None,
    ) -> None:
        self._triage = triage
        self._answer_after_advice = set({**self.get_default_config(), **(config or {})}["emergency_first_answers"])
        self._learned = learned

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Intents whose answer may follow the emergency advice, for a `with_answer` rule
        # (a mention of help, "we're in A&E now"). Empty: always the emergency reply alone.
        # sentence_model and triage_model: the folders of the verified MiniLM and of the
        # learned triage model (scripts/build_triage_model.py); unset, only the rules judge.
        return {"emergency_first_answers": [], "sentence_model": None, "triage_model": None, "threads": 1}

    @property
    def learned(self) -> Optional[Tuple[SentenceVectors, TriageModel]]:
        """The sentence encoder and learned model, if configured (`make evaluate` times them)."""
        return self._learned

    @classmethod
    def required_components(cls) -> List[Type]:
        """Reads only the text and the intent ranking any pipeline gives."""
        return []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TriageGuard:
        # The Rasa server builds this component when it loads the model: check
        # every content file then, so a broken one stops the server at start-up.
        validate_all()
        config = {**cls.get_default_config(), **config}
        learned = None
        if config["sentence_model"] and config["triage_model"]:
            vectors = SentenceVectors(Path(config["sentence_model"]), int(config["threads"]))
            learned = (vectors, TriageModel.load(Path(config["triage_model"])))
        return cls(load_triage(), config, learned)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.startswith("/"):  # a button payload is not the parent's words
                self._triage_one(message, self._triage.correct_typos(text))
        return messages

    def _triage_one(self, message: Message, text: str) -> None:
        assessment = self._triage.assess(text)
        learned = self._learned_tiers(text, assessment)
        learned_tier = next((tier for tier in TIERS if tier in learned), "none")
        logger.debug("Triage %s, learned %s: %s", assessment.tier, sorted(learned), [r.id for r in assessment.fired])
        # Every tier the model found counts, not only its most severe: a crisis told beside an
        # emergency ("he'd be better off dead. He's locked himself in the bathroom.") gets both replies.
        tiers = {rule.tier for rule in assessment.fired} | set(learned)
        if CRISIS_INTENT in tiers:
            override_intent(message, CRISIS_INTENT, 1.0)
            if EMERGENCY_INTENT in tiers:  # "she took all her tablets on purpose": both replies
                _add_care_note(message, EMERGENCY_FIRST)
        elif EMERGENCY_INTENT in tiers:
            mentions_only = EMERGENCY_INTENT not in learned and all(
                rule.with_answer for rule in assessment.fired if rule.tier == EMERGENCY_INTENT
            )
            if mentions_only and self._intent(message) in self._answer_after_advice:
                _add_care_note(message, EMERGENCY_FIRST)
            else:
                override_intent(message, EMERGENCY_INTENT, 1.0)
        else:
            self._answer_with_note(message, text, assessment, (learned_tier, learned.get(learned_tier)))

    def _learned_tiers(self, text: str, assessment: Assessment) -> Dict[str, Tuple[int, int]]:
        """Each tier the learned model gives a sentence about the child now, with its first such sentence.

        A sentence whose danger words the rules all set aside ("she isn't having trouble
        breathing"), that only mentions help (a `with_answer` rule's words, "should we go to
        the ER?") or that asks about one child's medicine ("he forgot his methotrexate, what
        should I do?") is the rules' to judge: they saw the words and their context, and
        their own rules catch a wrong or double dose.
        """
        if self._learned is None:
            return {}
        vectors, model = self._learned
        judged = self.sentences_for_model(text, assessment)
        if not judged:
            return {}
        sentences = [text[s:e] for _, (s, e) in judged]
        tiers = model.sentence_tiers(
            vectors(sentences), sentences, self._triage.learned_thresholds, self._triage.learned_may_say
        )
        found: Dict[str, Tuple[int, int]] = {}
        for (index, span), (tier, _) in zip(judged, tiers, strict=True):
            if tier != "none" and tier not in found and self._triage.sentence_set_aside(text, index, tier) is None:
                found[tier] = span
        return found

    def sentences_for_model(self, text: str, assessment: Assessment) -> List[Tuple[int, Tuple[int, int]]]:
        """(index, span) of the sentences the learned model may judge; the rest are the rules' or set aside.

        Also what the model is taught from in a whole message (scripts/build_triage_model.py).
        """
        return [
            (index, span)
            for index, span in enumerate(self._triage.context.sentences(text))
            if not _judged_by_rules([f for f in assessment.findings if span[0] <= f.match.start() < span[1]])
            and not self._triage.about_a_childs_medicine(text[span[0] : span[1]])
            # Set aside even for crisis, the most lenient tier: no need to encode it (the
            # encoder is most of this step's cost; `make evaluate` prints it per sentence).
            and self._triage.sentence_set_aside(text, index, CRISIS_INTENT) is None
        ]

    def _answer_with_note(
        self, message: Message, text: str, assessment: Assessment, learned: Tuple[str, Optional[Tuple[int, int]]]
    ) -> None:
        medicine = bool(self._triage.about_a_childs_medicine(text))
        if medicine and not self._asks_in_general(text):
            override_intent(message, CHILD_MEDICINE_INTENT, 1.0)
        else:
            if medicine:
                _add_care_note(message, CHILD_MEDICINE_INTENT)
            if self._intent(message) in (EMERGENCY_INTENT, CRISIS_INTENT):
                _demote(message)
        tier = min(assessment.tier, learned[0], key=TIERS.index)
        if tier == SOON and self._triage.explained_by_care_team(text):
            return  # the team already said it is expected: no need to raise it with them again
        if tier in NOTE_TIERS:
            finding = assessment.first(tier)
            _add_care_note(message, tier, finding.match.span() if finding else learned[1])

    def _asks_in_general(self, text: str) -> bool:
        """A story (several parts) whose one or two questions are general topic questions with no medicine question.

        Read with the sentence classifier's question finder (jdm_content/questions.py).
        """
        parts = question_finder().split(text)
        if len(parts.parts) < 2 or not 1 <= len(parts.asking) <= 2:
            return False
        triage = self._triage
        if any(
            triage.implied_asking.search(text[start:end]) and triage.about_a_childs_medicine(text[start:end])
            for start, end in parts.parts
            if (start, end) not in parts.asking
        ):
            return False  # "I also wondered whether we should move the folic acid to a different day."
        return all(self._asks_about_jdm(text[start:end]) for start, end in parts.asking)

    def _asks_about_jdm(self, question: str) -> bool:
        """A general question in words of its own, with none of a child-medicine rule's words.

        "Is that dose too high?" and "should I give her another?" have a rule's
        words (without the medicine, which the story names); "what should we
        do?" and "is that ok?" have no words of their own: they ask about the
        story, so the story's medicine question stands.
        """
        if not self._triage.is_topic_question(question):
            return False
        for rule in self._triage.child_medicine:
            # "with" or "together" are a question about combining only with two medicines named.
            words_alone = rule.id not in self._triage.needs_its_names
            if rule.matches(question) or (words_alone and any(p.search(question) for p in rule.patterns)):
                return False
        return sum(word not in self._triage.vague_words for word in re.findall(r"[a-z']+", question.lower())) >= 2

    @staticmethod
    def _intent(message: Message) -> Optional[str]:
        return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)


def _judged_by_rules(findings: List[Finding]) -> bool:
    """The rules' words in one sentence are all set aside, or only mention help."""
    counted = [f for f in findings if f.set_aside is None]
    return bool(findings) and all(f.rule.with_answer for f in counted)


def _demote(message: Message) -> None:
    """Take the classifier's best guess that is no safety override."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    guess = next((r for r in ranking if r.get(INTENT_NAME_KEY) not in OVERRIDES), None)
    if guess:
        override_intent(message, guess[INTENT_NAME_KEY], guess.get(PREDICTED_CONFIDENCE_KEY) or 0.0)


def _add_care_note(message: Message, value: str, span: Optional[Tuple[int, int]] = None) -> None:
    """Mark the message for action_triage_note: the tier whose advice goes before the answer."""
    start, end = span or (0, len(message.get(TEXT) or ""))
    entities = list(message.get(ENTITIES) or [])
    entities.append(
        {
            "entity": CARE_NOTE_ENTITY,
            "value": value,
            "start": start,
            "end": end,
            "confidence": 1.0,
            "extractor": TriageGuard.__name__,
        }
    )
    message.set(ENTITIES, entities, add_to_output=True)
