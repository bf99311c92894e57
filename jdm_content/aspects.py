"""Does the chosen answer speak to what the question asks? (data/knowledge/aspects.yml)

The topic classifier always finds the nearest topic: "is JDM worse in
winter?" reads as sun protection, whose answer says nothing about winter. A
question that names an aspect (a season, a part of the body, an age, food)
is answered as it is only when a fact the chosen answer carries (facts.yml,
`carried_by`) names that aspect; otherwise the assistant first says that its
sources don't cover it. The check reads the facts' own words, so it holds for
every answer and question, with no rule per question.

Only the words that ask are read (the question sentence, from its first
asking clause): a story's "over the summer she got tired" is context, not
what the parent asks about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Pattern, Sequence, Tuple

import yaml

from jdm_content.files import PROJECT_ROOT, DataFileError, load_yaml, require
from jdm_content.knowledge import Fact, load_facts, load_follow_ups
from jdm_content.questions import QuestionFinder, asked_last

ASPECTS_FILE = "knowledge/aspects.yml"
# The classifier's own question openers, so the check reads the words the classifier answered.
CONFIG_FILE = PROJECT_ROOT / "config.yml"
SENTENCE_CLASSIFIER = "components.sentence_classifier.SentenceClassifier"
# Where a sentence's clauses part: "his legs look thinner, can jdm make muscles waste away?"
_CLAUSE_BREAK = re.compile(r"\s*[,;:]\s*|\s+[-\u2013\u2014]\s+")


def whole_words(phrases: Iterable[str]) -> Pattern[str]:
    """Any of the phrases as whole words, in any case (longest first; any spaces between words)."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in ordered)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class AspectKind:
    id: str
    # The domain.yml response saying the sources don't cover it (it names the care team).
    missing: str
    # The domain.yml response with the nearest facts the sources give, if any.
    nearest: Optional[str]
    # Words that name the kind itself ("season", "weather").
    words: Tuple[str, ...]
    # Each aspect's words ("winter": winter, cold weather, ...).
    aspects: Dict[str, Tuple[str, ...]]
    # Words that, just before an aspect word, make it the child rather than the question ("my baby").
    not_after: Tuple[str, ...]
    # Words that, in a fact, show the answer speaks of this kind; never checked in a question ("skin").
    answer_words: Tuple[str, ...] = ()

    def mentioned_by(self, text: str, aspect: Optional[str]) -> bool:
        """Whether the text names the aspect (or, for None, any word of the kind)."""
        return bool(_pattern(self.aspects[aspect] if aspect else self.all_words).search(text))

    @property
    def all_words(self) -> Tuple[str, ...]:
        return self.words + self.answer_words + tuple(word for words in self.aspects.values() for word in words)


@dataclass(frozen=True)
class Gap:
    """An asked aspect the chosen answer's facts do not name."""

    kind: AspectKind
    # The chosen answer speaks of the same kind of thing (another part of the body,
    # one of the kind's nearest facts), so it is still the nearest help.
    answer_is_nearest: bool


@cache
def _pattern(words: Tuple[str, ...]) -> Pattern[str]:
    return whole_words(words)


class Aspects:
    """Finds the aspects a question names and checks them against an answer's facts."""

    def __init__(self, kinds: Sequence[AspectKind]) -> None:
        self.kinds = tuple(kinds)
        self._by_word: Dict[str, Tuple[AspectKind, Optional[str]]] = {}
        for kind in self.kinds:
            self._by_word.update({_key(word): (kind, None) for word in kind.words})
            for aspect, words in kind.aspects.items():
                self._by_word.update({_key(word): (kind, aspect) for word in words})
        self._any = whole_words(self._by_word)

    def asked(self, question: str) -> List[Tuple[AspectKind, Optional[str]]]:
        """(kind, aspect) named in the question, in order, once each; aspect None: the kind itself."""
        found: List[Tuple[AspectKind, Optional[str]]] = []
        for match in self._any.finditer(question):
            kind, aspect = self._by_word[_key(match.group())]
            before = re.findall(r"[\w']+", question[: match.start()])
            if before and before[-1].lower() in kind.not_after:
                continue
            if (kind, aspect) not in found:
                found.append((kind, aspect))
        return found

    def gap(self, question: str, facts: Sequence[Fact], nearest: Dict[str, FrozenSet[str]]) -> Optional[Gap]:
        """The first aspect the question names that none of the answer's facts name, if any.

        `nearest` holds, per kind, the ids of the facts its nearest response carries.
        """
        for kind, aspect in self.asked(question):
            if any(kind.mentioned_by(fact.text, aspect) for fact in facts):
                continue
            same_kind = any(kind.mentioned_by(fact.text, None) for fact in facts)
            shares_nearest = bool(nearest.get(kind.id, frozenset()) & {fact.id for fact in facts})
            return Gap(kind, answer_is_nearest=same_kind or shares_nearest)
        return None


def _key(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def _words(record: Dict[str, Any], field: str, where: str, required: bool = True) -> Tuple[str, ...]:
    values = require(record, field, where) if required else record.get(field) or []
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise DataFileError(f"{where}: '{field}' must be a list of words")
    return tuple(_key(v) for v in values)


def _response(record: Dict[str, Any], field: str, where: str, required: bool = True) -> Optional[str]:
    name = require(record, field, where) if required else record.get(field)
    if name is None:
        return None
    if not isinstance(name, str) or not name.startswith("utter_"):
        raise DataFileError(f"{where}: '{field}' must name a response in domain.yml (utter_...)")
    return name


def _kind(record: Any, index: int) -> AspectKind:
    where = f"{ASPECTS_FILE}: kinds[{index}]"
    kind_id = str(require(record, "id", where))
    where = f"{ASPECTS_FILE}: kind '{kind_id}'"
    aspects_data = require(record, "aspects", where)
    if not isinstance(aspects_data, dict):
        raise DataFileError(f"{where}: 'aspects' must map each aspect to its words")
    return AspectKind(
        id=kind_id,
        missing=str(_response(record, "missing", where)),
        nearest=_response(record, "nearest", where, required=False),
        words=_words(record, "words", where),
        aspects={str(a): _words(aspects_data, a, f"{where}: aspect '{a}'") for a in aspects_data},
        not_after=_words(record, "not_after", where, required=False),
        answer_words=_words(record, "answer_words", where, required=False),
    )


@lru_cache(maxsize=1)
def load_aspects() -> Aspects:
    """The aspect kinds and their words; a word listed twice is an error naming both places."""
    data = load_yaml(ASPECTS_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), list) or not data["kinds"]:
        raise DataFileError(f"{ASPECTS_FILE}: expected 'kinds:', a list of aspect kinds")
    kinds = [_kind(record, index) for index, record in enumerate(data["kinds"])]
    ids = [kind.id for kind in kinds]
    twice = sorted({kind_id for kind_id in ids if ids.count(kind_id) > 1})
    if twice:
        raise DataFileError(f"{ASPECTS_FILE}: kind id(s) {', '.join(twice)} used twice")
    seen: Dict[str, str] = {}
    for kind in kinds:
        places = [(word, kind.id) for word in kind.words + kind.answer_words]
        places += [(word, f"{kind.id}: {aspect}") for aspect, words in kind.aspects.items() for word in words]
        for word, place in places:
            if word in seen:
                raise DataFileError(f"{ASPECTS_FILE}: '{word}' is listed twice ({seen[word]}, {place})")
            seen[word] = place
    return Aspects(kinds)


@lru_cache(maxsize=1)
def facts_by_answer() -> Dict[str, Tuple[Fact, ...]]:
    """Each domain response's facts (facts.yml `carried_by`)."""
    carried: Dict[str, List[Fact]] = {}
    for fact in load_facts().values():
        for name in fact.carried_by:
            carried.setdefault(name, []).append(fact)
    return {name: tuple(facts) for name, facts in carried.items()}


def nearest_facts() -> Dict[str, FrozenSet[str]]:
    """Per aspect kind, the ids of the facts its nearest response carries."""
    answers = facts_by_answer()
    return {
        kind.id: frozenset(fact.id for fact in answers.get(kind.nearest or "", ())) for kind in load_aspects().kinds
    }


@lru_cache(maxsize=1)
def question_finder() -> QuestionFinder:
    """Where a message asks, read with the sentence classifier's own openers (config.yml)."""
    try:
        config = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise DataFileError(f"{CONFIG_FILE}: cannot be read ({error})") from error
    for component in config.get("pipeline") or []:
        if isinstance(component, dict) and component.get("name") == SENTENCE_CLASSIFIER:
            openers = component.get("question_openers")
            if isinstance(openers, list) and openers:
                return QuestionFinder([str(opener) for opener in openers])
    raise DataFileError(f"{CONFIG_FILE}: {SENTENCE_CLASSIFIER} has no 'question_openers'")


@dataclass(frozen=True)
class Reading:
    """What a question asks beyond its topic: an aspect its answer does not cover, a follow-up in its own words."""

    gap: Optional[Gap]
    follow_up: Optional[str]


def read_question(text: str, entities: Sequence[Dict[str, Any]], facts: Sequence[Fact]) -> Reading:
    """Check the question's asking words against the chosen answer's facts.

    A message whose words, all of them, name no aspect the facts miss and ask
    no follow-up is not split into sentences: its asking words could not
    either (pysbd is nearly all of this check's cost).
    """
    aspects, nearest = load_aspects(), nearest_facts()
    if aspects.gap(text, facts, nearest) is None and follow_up_asked(text) is None:
        return Reading(None, None)
    question = asked_words(text, entities)
    return Reading(aspects.gap(question, facts, nearest), follow_up_asked(question))


def asked_words(text: str, entities: Sequence[Dict[str, Any]]) -> str:
    """The words of the message's (last) question, from its first asking clause on.

    A message without a sentence that asks is read whole ("jdm winter").
    """
    rest, _ = asked_last(text, entities, ())
    finder = question_finder()
    parts = finder.split(rest)
    spans = parts.asking or parts.parts
    return " ".join(_from_first_asking_clause(finder, rest[start:end]) for start, end in spans)


def _from_first_asking_clause(finder: QuestionFinder, sentence: str) -> str:
    clauses = _CLAUSE_BREAK.split(sentence)
    first = next((i for i, clause in enumerate(clauses) if finder.asks(clause)), 0)
    return " ".join(clauses[first:])


def follow_up_asked(question: str) -> Optional[str]:
    """The follow-up kind the question's own words ask (follow_ups.yml `named_cues`: "how many years")."""
    for kind, phrases in load_follow_ups().named_cues.items():
        if phrases and _pattern(tuple(phrases)).search(question):
            return kind
    return None


def clear_caches() -> None:
    """Forget loaded files (tests that point JDM_DATA_DIR elsewhere)."""
    for cached in (load_aspects, facts_by_answer, question_finder):
        cached.cache_clear()
