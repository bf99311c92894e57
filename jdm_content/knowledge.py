"""The assistant's medical knowledge: loaders for data/knowledge/*.yml.

Clinic editors change these files, not Python, so each loader checks what
the actions rely on and names the file, record and field when something is
wrong. Results are cached read-only (files change only between restarts).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from jdm_content.files import PROJECT_ROOT, DataFileError, load_yaml, require
from jdm_content.lexicon import entry, load_lexicon

SOURCES_FILE = "knowledge/sources.yml"
FACTS_FILE = "knowledge/facts.yml"
TOPICS_FILE = "knowledge/topics.yml"
TERMS_FILE = "knowledge/terms.yml"
FOLLOW_UPS_FILE = "knowledge/follow_ups.yml"


# Where the source documents are read from (tests, `make review`): the project keeps no copy.
SOURCES_DIR_VARIABLE = "SOURCES_DIR"
DEFAULT_SOURCES_DIR = PROJECT_ROOT.parent / "shared" / "seeds"
# A sentence ends at . ! or ? (or one followed by a closing quote) before a capital,
# quote or bracket; every line break also ends one (lists, addresses, headings).
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?]\"))\s+(?=[A-Z\"(])|\s*\n\s*")


@dataclass(frozen=True)
class Source:
    id: str
    short: str
    # The document's file name in the sources folder (SOURCES_DIR) and its full title.
    file: str = ""
    title: str = ""


@dataclass(frozen=True)
class Fact:
    id: str
    source: str
    text: str
    carried_by: Tuple[str, ...]
    # The locator: sentence numbers (from 1, see split_sentences) in the source document.
    sentences: Tuple[int, ...] = ()


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    example: str
    sensitive: bool

    @property
    def response(self) -> str:
        """The domain response that answers this topic."""
        return f"utter_faq/{self.id}"


@dataclass(frozen=True)
class TopicMenu:
    """What to offer when we don't know what a parent wants to ask."""

    prompt: str
    suggested: Tuple[Topic, ...]
    min_confidence: float


@dataclass(frozen=True)
class Answer:
    """Either our own text (citing facts) or a pointer to a topic's response."""

    text: Optional[str]
    topic: Optional[str]
    facts: Tuple[str, ...]


@dataclass(frozen=True)
class Term:
    id: str
    topic: Optional[str]
    answer: str
    facts: Tuple[str, ...]
    # For a question about one child's dose of this medicine: no figures.
    dose_answer: str


@dataclass(frozen=True)
class Terms:
    by_id: Dict[str, Term]
    not_covered: str
    unknown: str
    # Lexicon labels whose named terms win over their own topic's answer.
    named_wins: Tuple[str, ...]


@dataclass(frozen=True)
class FollowUps:
    kinds: Tuple[str, ...]
    defaults: Dict[str, Answer]
    by_topic: Dict[str, Dict[str, Answer]]
    # Kinds that, about a named medicine, test or sign, its own terms.yml answer covers.
    term_answers: Tuple[str, ...]
    # Words that ask one kind of follow-up about a thing the message itself names.
    named_cues: Dict[str, Tuple[str, ...]]

    def answer(self, topic: str, kind: str) -> Answer:
        """The answer for this follow-up after this topic (or the default)."""
        return self.by_topic.get(topic, {}).get(kind) or self.defaults[kind]


def _mapping(data: Any, path: str) -> Dict[str, Any]:
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: expected a mapping at the top of the file")
    return data


def _records(data: Dict[str, Any], key: str, path: str) -> List[Any]:
    records = require(data, key, path)
    if not isinstance(records, list):
        raise DataFileError(f"{path}: '{key}' must be a list")
    return records


def _id_list(record: Dict[str, Any], field: str, where: str) -> Tuple[str, ...]:
    values = record.get(field) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise DataFileError(f"{where}: '{field}' must be a list of names")
    return tuple(values)


def _unique(records: List[Any], path: str, key: str) -> Dict[str, Dict[str, Any]]:
    """Records by their `id`, refusing missing and repeated ids."""
    by_id: Dict[str, Dict[str, Any]] = {}
    for index, record in enumerate(records):
        record_id = str(require(record, "id", f"{path}: {key}[{index}]"))
        if record_id in by_id:
            raise DataFileError(f"{path}: {key}[{index}]: id '{record_id}' is used twice")
        by_id[record_id] = record
    return by_id


@lru_cache(maxsize=1)
def load_sources() -> Dict[str, Source]:
    data = _mapping(load_yaml(SOURCES_FILE), SOURCES_FILE)
    records = _unique(_records(data, "sources", SOURCES_FILE), SOURCES_FILE, "sources")
    return {
        source_id: Source(
            source_id,
            str(require(record, "short", f"{SOURCES_FILE}: source '{source_id}'")),
            file=str(require(record, "file", f"{SOURCES_FILE}: source '{source_id}'")),
            title=str(record.get("title") or ""),
        )
        for source_id, record in records.items()
    }


def _sentence_numbers(record: Dict[str, Any], where: str) -> Tuple[int, ...]:
    numbers = require(record, "sentences", where)
    if not isinstance(numbers, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers
    ):
        raise DataFileError(f"{where}: 'sentences' must be a list of sentence numbers (1, 2, ...) in its source")
    return tuple(numbers)


@lru_cache(maxsize=1)
def load_facts() -> Dict[str, Fact]:
    """The fact inventory; every fact names a known source."""
    data = _mapping(load_yaml(FACTS_FILE), FACTS_FILE)
    sources = load_sources()
    facts = {}
    for fact_id, record in _unique(_records(data, "facts", FACTS_FILE), FACTS_FILE, "facts").items():
        where = f"{FACTS_FILE}: fact '{fact_id}'"
        source = str(require(record, "source", where))
        if source not in sources:
            raise DataFileError(f"{where}: unknown source '{source}' (see {SOURCES_FILE})")
        facts[fact_id] = Fact(
            id=fact_id,
            source=source,
            text=str(require(record, "text", where)),
            carried_by=_id_list(record, "carried_by", where),
            sentences=_sentence_numbers(record, where),
        )
    return facts


# --- the source documents themselves (read only where they are at hand) -----------


def sources_dir() -> Path:
    """The folder holding the source documents: $SOURCES_DIR, default ../shared/seeds."""
    configured = os.environ.get(SOURCES_DIR_VARIABLE)
    if not configured:
        return DEFAULT_SOURCES_DIR
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_ROOT / path


def split_sentences(text: str) -> List[str]:
    """A document's sentences, numbered from 1 by the fact locators (whitespace squeezed)."""
    parts = (re.sub(r"\s+", " ", part).strip(" \u2022") for part in _SENTENCE_BREAK.split(text))
    return [part for part in parts if part]


def missing_sources(folder: Optional[Path] = None) -> List[Path]:
    """The source documents that are not in the folder (all of them when it is absent)."""
    folder = folder or sources_dir()
    return [folder / source.file for source in load_sources().values() if not (folder / source.file).is_file()]


def source_sentences(source_id: str, folder: Optional[Path] = None) -> Tuple[str, ...]:
    """The numbered sentences of one source document; DataFileError when it is not at hand."""
    return _read_sentences(source_id, folder or sources_dir())


@lru_cache(maxsize=8)
def _read_sentences(source_id: str, folder: Path) -> Tuple[str, ...]:
    source = load_sources()[source_id]
    path = folder / source.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataFileError(
            f"{path}: source document '{source_id}' cannot be read ({error.strerror}); "
            f"set {SOURCES_DIR_VARIABLE} to the folder holding the source documents"
        ) from error
    return tuple(split_sentences(text))


def located_passage(fact: Fact, folder: Optional[Path] = None) -> str:
    """The source words a fact's locator points at; DataFileError when a number is out of range."""
    sentences = source_sentences(fact.source, folder)
    outside = [n for n in fact.sentences if n > len(sentences)]
    if outside:
        raise DataFileError(
            f"{FACTS_FILE}: fact '{fact.id}': sentence(s) {outside} beyond the {len(sentences)} "
            f"sentences of source '{fact.source}'"
        )
    return " ".join(sentences[n - 1] for n in fact.sentences)


@lru_cache(maxsize=1)
def _topics_data() -> Tuple[Dict[str, Topic], TopicMenu]:
    data = _mapping(load_yaml(TOPICS_FILE), TOPICS_FILE)
    topics = {}
    for topic_id, record in _unique(_records(data, "topics", TOPICS_FILE), TOPICS_FILE, "topics").items():
        where = f"{TOPICS_FILE}: topic '{topic_id}'"
        sensitive = record.get("sensitive", False)
        if not isinstance(sensitive, bool):
            raise DataFileError(f"{where}: 'sensitive' must be true or false")
        topics[topic_id] = Topic(
            id=topic_id,
            title=str(require(record, "title", where)),
            example=str(require(record, "example", where)),
            sensitive=sensitive,
        )
    suggested = []
    for topic_id in _id_list(data, "suggested", TOPICS_FILE):
        if topic_id not in topics:
            raise DataFileError(f"{TOPICS_FILE}: suggested: unknown topic '{topic_id}'")
        suggested.append(topics[topic_id])
    min_confidence = require(data, "min_confidence", TOPICS_FILE)
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) or not 0 <= min_confidence < 1:
        raise DataFileError(f"{TOPICS_FILE}: 'min_confidence' must be a number from 0 to below 1")
    menu = TopicMenu(
        prompt=str(require(data, "prompt", TOPICS_FILE)),
        suggested=tuple(suggested),
        min_confidence=float(min_confidence),
    )
    return topics, menu


def load_topics() -> Dict[str, Topic]:
    """Every FAQ topic by id, in file order (title, example question, sensitive)."""
    return _topics_data()[0]


def load_topic_menu() -> TopicMenu:
    """The prompt and suggested topics for when a parent's aim is unclear."""
    return _topics_data()[1]


def _answer(record: Any, where: str, needs_facts: bool = True) -> Answer:
    """An answer record: `answer` text with `facts`, or `topic` to reuse."""
    if not isinstance(record, dict):
        raise DataFileError(f"{where}: expected a mapping")
    text, topic = record.get("answer"), record.get("topic")
    if bool(text) == bool(topic):
        raise DataFileError(f"{where}: give either 'answer' or 'topic', not both or neither")
    if topic and topic not in load_topics():
        raise DataFileError(f"{where}: unknown topic '{topic}' (see {TOPICS_FILE})")
    facts = _id_list(record, "facts", where)
    if text and needs_facts and not facts:
        raise DataFileError(f"{where}: missing required field 'facts'")
    unknown = [fact for fact in facts if fact not in load_facts()]
    if unknown:
        raise DataFileError(f"{where}: unknown fact(s) {', '.join(unknown)} (see {FACTS_FILE})")
    return Answer(text=str(text) if text else None, topic=topic, facts=facts)


@lru_cache(maxsize=1)
def load_terms() -> Terms:
    """Answers to "what is X?" for lexicon drugs, tests and symptoms."""
    data = _mapping(load_yaml(TERMS_FILE), TERMS_FILE)
    terms = {}
    for term_id, record in _unique(_records(data, "terms", TERMS_FILE), TERMS_FILE, "terms").items():
        where = f"{TERMS_FILE}: term '{term_id}'"
        answer = _answer({"answer": require(record, "answer", where), "facts": record.get("facts")}, where)
        topic = record.get("topic")
        if topic is not None and topic not in load_topics():
            raise DataFileError(f"{where}: unknown topic '{topic}' (see {TOPICS_FILE})")
        dose_answer = str(record.get("dose_answer") or answer.text or "")
        if entry("drug", term_id) and re.search(r"\d", dose_answer.split("Source:")[0]):
            raise DataFileError(
                f"{where}: a medicine's answer is also given to dose questions and must not "
                "contain figures: add a 'dose_answer' without them"
            )
        terms[term_id] = Term(
            id=term_id, topic=topic, answer=answer.text or "", facts=answer.facts, dose_answer=dose_answer
        )
    named_wins = _id_list(data, "named_wins", TERMS_FILE)
    labels = {entry.label for entry in load_lexicon().entries}
    unknown_labels = [label for label in named_wins if label not in labels]
    if unknown_labels:
        raise DataFileError(f"{TERMS_FILE}: named_wins: unknown lexicon label(s) {', '.join(unknown_labels)}")
    return Terms(
        by_id=terms,
        named_wins=named_wins,
        not_covered=str(require(data, "not_covered", TERMS_FILE)),
        unknown=str(require(data, "unknown", TERMS_FILE)),
    )


@lru_cache(maxsize=1)
def load_follow_ups() -> FollowUps:
    """Answers to "why?", "how long?"... after a topic, with defaults per kind."""
    data = _mapping(load_yaml(FOLLOW_UPS_FILE), FOLLOW_UPS_FILE)
    kinds = _id_list(data, "kinds", FOLLOW_UPS_FILE)
    if not kinds:
        raise DataFileError(f"{FOLLOW_UPS_FILE}: missing required field 'kinds'")
    defaults_data = _mapping(require(data, "defaults", FOLLOW_UPS_FILE), f"{FOLLOW_UPS_FILE}: defaults")
    defaults = {}
    for kind in kinds:
        where = f"{FOLLOW_UPS_FILE}: defaults: {kind}"
        defaults[kind] = _answer(require(defaults_data, kind, f"{FOLLOW_UPS_FILE}: defaults"), where, needs_facts=False)
    by_topic: Dict[str, Dict[str, Answer]] = {}
    for topic, answers in _mapping(data.get("topics") or {}, f"{FOLLOW_UPS_FILE}: topics").items():
        where = f"{FOLLOW_UPS_FILE}: topics: {topic}"
        if topic not in load_topics():
            raise DataFileError(f"{where}: unknown topic (see {TOPICS_FILE})")
        by_topic[topic] = {}
        for kind, record in _mapping(answers, where).items():
            if kind not in kinds:
                raise DataFileError(f"{where}: unknown follow-up kind '{kind}' (kinds: {', '.join(kinds)})")
            by_topic[topic][kind] = _answer(record, f"{where}: {kind}")
    term_answers = _id_list(data, "term_answers", FOLLOW_UPS_FILE)
    unknown_kinds = [kind for kind in term_answers if kind not in kinds]
    if unknown_kinds:
        raise DataFileError(f"{FOLLOW_UPS_FILE}: term_answers: unknown follow-up kind(s) {', '.join(unknown_kinds)}")
    named_cues: Dict[str, Tuple[str, ...]] = {}
    for kind, phrases in _mapping(data.get("named_cues") or {}, f"{FOLLOW_UPS_FILE}: named_cues").items():
        if kind not in kinds:
            raise DataFileError(f"{FOLLOW_UPS_FILE}: named_cues: unknown follow-up kind '{kind}'")
        named_cues[kind] = _id_list({kind: phrases}, kind, f"{FOLLOW_UPS_FILE}: named_cues")
    return FollowUps(
        kinds=kinds, defaults=defaults, by_topic=by_topic, term_answers=term_answers, named_cues=named_cues
    )


def clear_caches() -> None:
    """Forget loaded files (tests that point JDM_DATA_DIR elsewhere)."""
    for loader in (load_sources, load_facts, _topics_data, load_terms, load_follow_ups, _read_sentences):
        loader.cache_clear()
