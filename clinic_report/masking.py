"""Masking what identifies a family, before any question reaches the report.

presidio-analyzer finds e-mail addresses, phone numbers (through
phonenumbers), dates, NHS and other numbers with its own recognisers, and
street addresses, postcodes, hospital numbers and written dates with
PatternRecognizers defined in data/report/masking.yml. Presidio finds names
with a spaCy NER model, which cannot be installed here (no model download), so
NameRecognizer, a presidio recogniser of our own, finds them from data: the
Faker package's name lists, the words before a name ("my son", "Dr") and
capitalised words that are neither English nor medical. It errs on the side
of hiding (README: The clinic's report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple, cast

import tldextract
from presidio_analyzer import EntityRecognizer, LocalRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer import predefined_recognizers as presidio_recognizers
from presidio_analyzer.nlp_engine import NlpArtifacts

from jdm_content.files import DataFileError, load_yaml, require
from jdm_content.lexicon import load_lexicon
from jdm_content.triage import ENGLISH_WORDS_FILE

MASKING_FILE = "report/masking.yml"
PERSON = "PERSON"
EMAIL = "EMAIL_ADDRESS"
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_END = re.compile(r"[.!?]\s*$")


class OfflineEmailRecognizer(presidio_recognizers.EmailRecognizer):
    """Presidio's e-mail recogniser, checking the domain against tldextract's bundled suffix list.

    Presidio's own check fetches the public suffix list from the internet first
    (a failed download here, and a traceback in the log, on every run).
    """

    _extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool:
        return self._extract(pattern_text).fqdn != ""


@dataclass(frozen=True)
class NameRules:
    """Lower-case word sets and cues; the words of `never` (medical, the keep list) are never names."""

    names: FrozenSet[str]
    english: FrozenSet[str]
    never: FrozenSet[str]
    cues: FrozenSet[Tuple[str, ...]]  # lower-case word sequences
    titles: FrozenSet[str]  # as written: "Dr", "Mrs"
    longest_cue: int


class NameRecognizer(LocalRecognizer):
    """People's names without a language model: name lists, cue words, capitalised unknown words."""

    def __init__(self, rules: NameRules) -> None:
        self.rules = rules
        super().__init__(supported_entities=[PERSON], name="NameRecognizer")

    def load(self) -> None:
        """Nothing to load: the rules come ready."""

    def analyze(
        self, text: str, entities: List[str], nlp_artifacts: Optional[NlpArtifacts] = None
    ) -> List[RecognizerResult]:
        words = list(_WORD.finditer(text))
        found: List[RecognizerResult] = []
        index = 0
        while index < len(words):
            if self._is_name(text, words, index):
                end = index
                while end + 1 < len(words) and self._is_surname(words[end + 1].group()):
                    end += 1
                found.append(RecognizerResult(PERSON, words[index].start(), words[end].end(), 0.7))
                index = end + 1
            else:
                index += 1
        return found

    def _is_name(self, text: str, words: Sequence[re.Match], index: int) -> bool:
        rules = self.rules
        word = words[index].group()
        lower = word.lower()
        if (word.isupper() and len(word) > 1) or lower in rules.never:
            return False  # JDM, MRI: initials and acronyms; medical words; the keep list
        capitalised = word[:1].isupper()
        if index and words[index - 1].group() in rules.titles:
            return True  # "Dr Okafor", "Mrs smith"
        if self._after_cue(words, index):
            return capitalised or lower not in rules.english  # "my son Jack", "my daughter aoife"
        if lower in rules.names:
            # "Grace" mid-sentence is a name; "May I ask" is not.
            return lower not in rules.english or (capitalised and not _starts_sentence(text, words, index))
        return capitalised and lower not in rules.english

    def _is_surname(self, word: str) -> bool:
        lower = word.lower()
        rules = self.rules
        if not word[:1].isupper() or word.isupper() or lower in rules.never:
            return False
        return lower in rules.names or lower not in rules.english

    def _after_cue(self, words: Sequence[re.Match], index: int) -> bool:
        before = tuple(w.group().lower() for w in words[max(0, index - self.rules.longest_cue) : index])
        return any(before[-length:] in self.rules.cues for length in range(1, len(before) + 1))


def _starts_sentence(text: str, words: Sequence[re.Match], index: int) -> bool:
    return index == 0 or bool(_SENTENCE_END.search(text[words[index - 1].end() : words[index].start()]))


def _strings(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise DataFileError(f"{where}: expected a list of words or phrases")
    return [item.strip() for item in value]


def _faker_names(locales: List[str], where: str) -> FrozenSet[str]:
    import importlib

    names: Set[str] = set()
    for locale in locales:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            raise DataFileError(f"{where}: Faker has no person names for locale '{locale}'") from None
        for attribute in ("first_names", "last_names"):
            names.update(name.lower() for name in getattr(provider, attribute, ()))
    return frozenset(names)


def _name_rules(data: Dict[str, Any]) -> NameRules:
    where = f"{MASKING_FILE}: names"
    names = require(data, "names", MASKING_FILE)
    lexicon = load_lexicon()
    medical = {word for _, variant in lexicon.variants for word in _WORD.findall(variant)}
    medical |= {word.lower() for _, variant in lexicon.exact_variants for word in _WORD.findall(variant)}
    cues = frozenset(
        tuple(_WORD.findall(cue.lower())) for cue in _strings(require(names, "cues", where), f"{where}: cues")
    )
    return NameRules(
        names=_faker_names(_strings(require(names, "faker_locales", where), f"{where}: faker_locales"), where),
        english=frozenset(ENGLISH_WORDS_FILE.read_text(encoding="utf-8").split()),
        never=frozenset(medical | {word.lower() for word in _strings(names.get("keep", []), f"{where}: keep")}),
        cues=cues,
        titles=frozenset(_strings(require(names, "titles", where), f"{where}: titles")),
        longest_cue=max(len(cue) for cue in cues),
    )


def _library_recognizer(name: str, data: Dict[str, Any]) -> EntityRecognizer:
    if name == "EmailRecognizer":
        return OfflineEmailRecognizer()
    if name == "PhoneRecognizer":
        regions = _strings(require(data, "phone_regions", MASKING_FILE), f"{MASKING_FILE}: phone_regions")
        leniency = data.get("phone_leniency", 1)
        if leniency not in (0, 1, 2, 3):
            raise DataFileError(f"{MASKING_FILE}: 'phone_leniency' must be 0, 1, 2 or 3, not {leniency!r}")
        return presidio_recognizers.PhoneRecognizer(supported_regions=tuple(regions), leniency=leniency)
    found = getattr(presidio_recognizers, name, None)
    if not (isinstance(found, type) and issubclass(found, EntityRecognizer)):
        raise DataFileError(f"{MASKING_FILE}: library_recognizers: presidio-analyzer has no recogniser '{name}'")
    return cast(Callable[[], EntityRecognizer], found)()  # presidio's own recognisers need no argument


def _pattern_recognizer(record: Any, index: int) -> PatternRecognizer:
    where = f"{MASKING_FILE}: patterns[{index}]"
    name = require(record, "name", where)
    require(record, "supported_entity", f"{where} ({name})")
    for number, pattern in enumerate(require(record, "patterns", f"{where} ({name})")):
        for field in ("name", "regex", "score"):
            require(pattern, field, f"{where} ({name}): patterns[{number}]")
    try:
        return PatternRecognizer.from_dict(dict(record))
    except Exception as error:  # presidio says what is wrong: a bad regex, a missing field
        raise DataFileError(f"{where} ({name}): {error}") from error


@dataclass(frozen=True)
class Masker:
    """Replaces every finding of the recognisers with its placeholder ("[name]", "[phone]")."""

    recognizers: Tuple[EntityRecognizer, ...]
    placeholders: Dict[str, str]

    def findings(self, text: str) -> List[RecognizerResult]:
        """Every recogniser's findings. Every kind but names holds a digit (an e-mail address an @):
        most questions have neither, and checking first makes masking ten times faster."""
        found: List[RecognizerResult] = []
        digits, at = bool(_DIGIT.search(text)), "@" in text
        for recognizer in self.recognizers:
            kinds = recognizer.supported_entities
            if PERSON in kinds or digits or (at and EMAIL in kinds):
                # No NLP engine runs (no spaCy model): presidio's recognisers take None for its results.
                found += recognizer.analyze(text, kinds, None) or []  # type: ignore[arg-type]
        return found

    def mask(self, text: str) -> str:
        """`text` with every finding replaced; overlapping findings become one, the highest score's kind."""
        spans: List[Tuple[int, int, str, float]] = []
        for result in sorted(self.findings(text), key=lambda r: (r.start, -r.end)):
            if spans and result.start < spans[-1][1]:
                start, end, kind, score = spans[-1]
                best = (kind, score) if score >= result.score else (result.entity_type, result.score)
                spans[-1] = (start, max(end, result.end), *best)
            else:
                spans.append((result.start, result.end, result.entity_type, result.score))
        for start, end, kind, _ in reversed(spans):
            text = text[:start] + self.placeholders.get(kind, "[hidden]") + text[end:]
        return text

    def mask_all(self, texts: Iterable[str]) -> Dict[str, str]:
        """Each distinct text and its masked form."""
        return {text: self.mask(text) for text in set(texts)}


@lru_cache(maxsize=1)
def load_masker() -> Masker:
    """The recognisers of data/report/masking.yml, checked; errors name the record and field."""
    data = load_yaml(MASKING_FILE)
    if not isinstance(data, dict):
        raise DataFileError(f"{MASKING_FILE}: expected library_recognizers, patterns, names, placeholders")
    library = _strings(require(data, "library_recognizers", MASKING_FILE), f"{MASKING_FILE}: library_recognizers")
    patterns = data.get("patterns") or []
    if not isinstance(patterns, list):
        raise DataFileError(f"{MASKING_FILE}: 'patterns' must be a list of recognisers")
    placeholders = require(data, "placeholders", MASKING_FILE)
    if not isinstance(placeholders, dict) or not all(isinstance(v, str) and v for v in placeholders.values()):
        raise DataFileError(f"{MASKING_FILE}: 'placeholders' must map each entity to its text")
    recognizers: List[EntityRecognizer] = [_library_recognizer(name, data) for name in library]
    recognizers += [_pattern_recognizer(record, index) for index, record in enumerate(patterns)]
    recognizers.append(NameRecognizer(_name_rules(data)))
    unnamed = {e for r in recognizers for e in r.supported_entities} - set(placeholders)
    if unnamed:
        raise DataFileError(f"{MASKING_FILE}: placeholders: no text for {', '.join(sorted(unnamed))}")
    return Masker(tuple(recognizers), dict(placeholders))
