"""The clinician-edited triage table (data/safety/triage.yml), compiled.

Each rule names a tier (emergency, crisis, urgent, soon), its clinical reason,
the words that trigger it, the words that must not, and examples of both. A
rule fires only where its words describe the child now: jdm_content/context.py
sets aside words that are negated, past, hypothetical, about someone else,
figurative or inside a general question. The NLU component
components/triage_guard.py acts on what fires; the review sheet
(scripts/content_review.py) shows every rule beside its examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Optional, Pattern, Sequence, Set, Tuple

from rapidfuzz import fuzz, process

from jdm_content.context import REASONS, Context
from jdm_content.files import PROJECT_ROOT, DataFileError, data_dir, load_yaml, require, string_list

TRIAGE_FILE = "safety/triage.yml"
# The entity by which the NLU step tells the action server which tier's advice goes first.
CARE_NOTE_ENTITY = "care_note"
# Most severe first; "none" is the tier of a message no rule fires for.
TIERS = ("emergency", "crisis", "urgent", "soon", "none")
RULE_TIERS = TIERS[:-1]
# "quoted": words named in quotation marks, not told ("the 'allergic reaction' rash").
CONTEXT_REASONS = (*REASONS.values(), "quoted")
# What-ifs and what the child told others still count as talk of self-harm.
CRISIS_STILL_COUNTS = ("hypothetical", "someone else", "all clear")
# Asked about or told as past: a later "she's having one now" brings such words back to now.
BROUGHT_TO_NOW = ("hypothetical", "general question", "past")
_TERM = re.compile(r"\{([A-Za-z_]+)\}")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# A sentence's clauses, split at a comma or at "or"/"and" that starts a new question.
_CLAUSE = re.compile(r"[^,;]+?(?=,|;|\s(?:or|and)\s(?:can|could|should|do|does|is|are|will|would|how|what)\b|$)", re.I)
_ASKS = re.compile(
    r"\W*(?:(?:or|and|but|so)\s+)?(?:can|could|should|shall|do|does|did|is|are|will|would|may|might|how|what|when|why|which)\b",
    re.I,
)
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
# Shorter words are too easily mistaken for one another ("pred", "dose").
MIN_TYPO_LENGTH = 4
# A word the table spells out becomes a typo target from this length ("fitting" for "fiting").
MIN_TABLE_TARGET = 5
TYPO_SIMILARITY = 0.8
# A typo adds or drops a letter or two; "breathless" is not a misspelt "breathe".
MAX_TYPO_LENGTH_CHANGE = 2
# Log probability in spaCy's English lexeme table above which a word is English, not a typo.
ENGLISH_MIN_LOG_PROB = -15.5
ENGLISH_WORDS_FILE = PROJECT_ROOT / "models" / "spacy" / "english_words.txt"


def _loosen(regex: str) -> str:
    """A space matches any run of spaces (" ?" none or more); an apostrophe is optional."""
    return regex.replace(" ?", r"\s*").replace(" ", r"\s+").replace("'", "['’]?")


def _phrase_regex(phrase: str) -> str:
    return _loosen(re.escape(str(phrase)).replace("\\ ", " ").replace("\\'", "'"))


def _compile(regex: str, where: str) -> Pattern[str]:
    try:
        return re.compile(rf"(?<!\w)(?:{regex})(?!\w)", re.IGNORECASE)
    except re.error as error:
        raise DataFileError(f"{where}: not a valid pattern ({error}): {regex!r}") from error


def _is_a_name(text: str, word: re.Match) -> bool:
    """A capitalised word inside a sentence: a name ("in Leeds", "Tilly", "Plaquenill"), not a
    misspelt English word. A shouted word ("FITING") and a sentence's first word are read as any other."""
    first, rest = word.group(0)[0], word.group(0)[1:]
    if not first.isupper() or rest.isupper():
        return False
    at = word.start() - 1
    while at >= 0 and text[at] in " \t":  # walk back over the gap, not a copy of the text before it
        at -= 1
    return at >= 0 and text[at] not in '.!?\n:;"(-'


def _table_words(data: Dict[str, Any]) -> Tuple[Set[str], Set[str]]:
    """The words in the terms and in the rules' phrases and patterns ("pred", "fitting", "every"),
    and the contractions among them written without the apostrophe ("couldnt")."""
    texts: List[str] = []
    for spellings in (data.get("terms") or {}).values():
        texts += [s for s in spellings or [] if isinstance(s, str)]
    for rule in data.get("rules") or []:
        if isinstance(rule, dict):
            texts += [t for key in ("phrases", "patterns") for t in rule.get(key) or [] if isinstance(t, str)]
    words: Set[str] = set()
    bare: Set[str] = set()
    for text in texts:
        # An apostrophe is optional in the table ("can't" = "cant"), so its words are kept both ways.
        spelt = _ESCAPE.sub(" ", _TERM.sub(" ", text.lower()))
        words |= set(_TABLE_WORD.findall(spelt))
        bare |= set(_TABLE_WORD.findall(re.sub("['’]", "", spelt)))
    return words, bare - words


_ESCAPE = re.compile(r"\\[a-z]")
_TABLE_WORD = re.compile(r"(?<![a-z])[a-z]+(?![a-z])")


@dataclass(frozen=True)
class Rule:
    """One clinician-written rule: any of `patterns`, with one of `also_needs` if given."""

    id: str
    tier: str
    reason: str
    patterns: Sequence[Pattern[str]]
    also_needs: Sequence[Pattern[str]] = ()
    # Figures of speech and look-alikes that contain this rule's words ("threw a fit").
    not_when: Sequence[Pattern[str]] = ()
    # Mentions, not states ("we're in A&E now"): the emergency advice comes
    # first, then the answer to the question asked, if there is one.
    with_answer: bool = False
    fires: Sequence[str] = ()
    quiet: Sequence[str] = ()
    # Context that does not apply (infection_exposure: "someone else" has chickenpox).
    ignore_context: Sequence[str] = ()

    def matches(self, text: str) -> List[re.Match]:
        if self.also_needs and not any(p.search(text) for p in self.also_needs):
            return []
        return [match for pattern in self.patterns for match in pattern.finditer(text)]


@dataclass(frozen=True)
class Finding:
    """A rule's words in a message, and why they do not count (None: they do)."""

    rule: Rule
    match: re.Match
    set_aside: Optional[str] = None


@dataclass(frozen=True)
class Assessment:
    """What the triage rules make of one message."""

    findings: Sequence[Finding] = field(default_factory=tuple)

    @property
    def fired(self) -> List[Rule]:
        seen: Dict[str, Rule] = {}
        for finding in self.findings:
            if finding.set_aside is None:
                seen.setdefault(finding.rule.id, finding.rule)
        return list(seen.values())

    @property
    def tier(self) -> str:
        tiers = {rule.tier for rule in self.fired}
        return next((tier for tier in TIERS if tier in tiers), "none")

    def first(self, tier: str) -> Optional[Finding]:
        return next((f for f in self.findings if f.rule.tier == tier and f.set_aside is None), None)


class Triage:
    """The parsed, validated triage.yml; errors name the file, rule and field."""

    def __init__(self, data: Any, source: str) -> None:
        if not isinstance(data, dict):
            raise DataFileError(f"{source}: expected a mapping with 'tiers' and 'rules'")
        self._source = source
        self.tier_responses = self._parse_tiers(require(data, "tiers", source))
        terms = data.get("terms") or {}
        self._terms = self._parse_terms(terms)
        self._english = english_words() if data.get("typo_tolerant") else frozenset()
        # The table's English words of five letters or more are targets too ("fitting" for "fiting");
        # its misspellings ("swolen") are not, and its short words and contractions are kept as
        # written ("pred" is no misspelt "spread", "couldnt" no "could"). Its other words change
        # only to a fuller spelling of themselves ("breathin" to "breathing"; "sicked" is no "licked").
        table_words, contractions = _table_words(data)
        self._kept_as_written = {w for w in table_words if len(w) < MIN_TABLE_TARGET} | contractions
        self._table_spellings = table_words
        # A capitalised word inside a sentence is a name: only a listed word ("Plaquenill") corrects it.
        self._name_targets = self._parse_typo_tolerant(data.get("typo_tolerant", []))
        self._text_speak = self._parse_text_speak(data.get("text_speak") or {})
        where = f"{source}: whole_words"
        self._whole_words = frozenset(w.lower() for w in string_list(data.get("whole_words", []), where))
        english_table_words = {w for w in table_words if len(w) >= MIN_TABLE_TARGET and w in self._english}
        self._typo_targets = self._name_targets | english_table_words if self._name_targets else set()
        # Only targets of about the word's length can be its typo: look at those alone.
        longest = max(map(len, self._typo_targets), default=0) + MAX_TYPO_LENGTH_CHANGE
        self._typo_targets_by_length = {
            length: sorted(t for t in self._typo_targets if abs(len(t) - length) <= MAX_TYPO_LENGTH_CHANGE)
            for length in range(MIN_TYPO_LENGTH, longest + 1)
        }
        self.context = Context.from_data(require(data, "context", source), f"{source}: context")
        self.rules = self._parse_rules(require(data, "rules", source), "rules", tiers=RULE_TIERS)
        self.child_medicine = self._parse_rules(data.get("child_medicine", []), "child_medicine", tiers=("none",))
        self._parse_story_medicine(data.get("story_medicine") or {})
        self._general_questions = self._pattern_list(data, "general_questions")
        self._about_now = self._pattern_list(data, "about_now")
        self._explained = self._pattern_list(data, "already_explained")
        self.learned_thresholds = self._parse_thresholds(data.get("learned") or {})
        self._learned_only_with = self._parse_learned_words(data.get("learned") or {}, "only_with")
        self._learned_not_with = self._parse_learned_words(data.get("learned") or {}, "not_with")
        self._personal = self._words(data, "personal_words", source)
        # Questions about a medicine are about one child in more ways ("should I ...", "a 30kg child").
        self._medicine_personal = self._personal + self._words(data, "medicine_personal_words", source)

    def _parse_tiers(self, tiers: Any) -> Dict[str, str]:
        where = f"{self._source}: tiers"
        if not isinstance(tiers, dict) or set(tiers) != set(RULE_TIERS):
            raise DataFileError(f"{where}: expected exactly {', '.join(RULE_TIERS)}")
        return {tier: str(require(tiers[tier], "response", f"{where}.{tier}")) for tier in RULE_TIERS}

    def _parse_thresholds(self, learned: Any) -> Dict[str, float]:
        """How sure the learned model must be, per tier, before its word counts (a tier left out: never)."""
        where = f"{self._source}: learned.thresholds"
        thresholds = learned.get("thresholds", {}) if isinstance(learned, dict) else None
        if not isinstance(thresholds, dict) or set(thresholds) - set(RULE_TIERS):
            raise DataFileError(f"{where}: expected a probability for any of {', '.join(RULE_TIERS)}")
        for tier, value in thresholds.items():
            if not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise DataFileError(f"{where}.{tier}: expected a probability above 0 and at most 1, not {value!r}")
        return {tier: float(value) for tier, value in thresholds.items()}

    def _parse_learned_words(self, learned: Any, key: str) -> Dict[str, List[Pattern[str]]]:
        """Per tier, the words a sentence needs (`only_with`) or must not have (`not_with`) before
        the learned model's guess of that tier counts."""
        where = f"{self._source}: learned.{key}"
        by_tier = learned.get(key, {}) if isinstance(learned, dict) else {}
        if not isinstance(by_tier, dict) or set(by_tier) - set(RULE_TIERS):
            raise DataFileError(f"{where}: expected lists of patterns under any of {', '.join(RULE_TIERS)}")
        return {
            tier: [
                self._pattern(regex, f"{where}.{tier}[{i}]")
                for i, regex in enumerate(string_list(patterns, f"{where}.{tier}"))
            ]
            for tier, patterns in by_tier.items()
        }

    def _parse_story_medicine(self, entry: Any) -> None:
        where = f"{self._source}: story_medicine"
        if not isinstance(entry, dict):
            raise DataFileError(f"{where}: expected implied_asking, needs_its_names and vague_words")
        self.implied_asking = self._pattern(str(entry.get("implied_asking") or "(?!)"), f"{where}.implied_asking")
        vague = string_list(entry.get("vague_words", []), f"{where}.vague_words")
        self.vague_words = frozenset(word.lower() for word in vague)
        self.needs_its_names = frozenset(string_list(entry.get("needs_its_names", []), f"{where}.needs_its_names"))
        unknown = self.needs_its_names - {rule.id for rule in self.child_medicine}
        if unknown:
            raise DataFileError(f"{where}.needs_its_names: {', '.join(sorted(unknown))} is no child_medicine entry")

    def _pattern_list(self, data: Dict[str, Any], key: str) -> List[Pattern[str]]:
        where = f"{self._source}: {key}"
        return [self._pattern(regex, f"{where}[{i}]") for i, regex in enumerate(string_list(data.get(key, []), where))]

    def explained_by_care_team(self, text: str) -> bool:
        """The care team already told the family what they describe is expected ("the nurse said
        that's normal on steroids"): nothing is left to mention at the next visit (`already_explained`),
        unless a "but" follows ("... said it's normal, but it keeps spreading")."""
        return self.context.says_unturned(self._explained, text)

    def learned_may_say(self, tier: str, sentence: str) -> bool:
        """Whether the learned model's guess of this tier may count for this sentence
        (triage.yml `learned.only_with` and `learned.not_with`)."""
        needed = self._learned_only_with.get(tier)
        if needed and not any(p.search(sentence) for p in needed):
            return False
        return not any(p.search(sentence) for p in self._learned_not_with.get(tier, ()))

    def _words(self, data: Dict[str, Any], key: str, source: str) -> List[Pattern[str]]:
        return [
            _compile(_phrase_regex(word), f"{source}: {key}")
            for word in string_list(data.get(key, []), f"{source}: {key}")
        ]

    def _parse_terms(self, terms: Any) -> Dict[str, str]:
        if not isinstance(terms, dict):
            raise DataFileError(f"{self._source}: terms: expected a mapping of name -> list of spellings")
        return {
            name: "(?:"
            + "|".join(_phrase_regex(s) for s in string_list(spellings, f"{self._source}: terms.{name}"))
            + ")"
            for name, spellings in terms.items()
        }

    def _parse_typo_tolerant(self, words: Any) -> Set[str]:
        """The listed words; with none listed, no word is corrected."""
        where = f"{self._source}: typo_tolerant"
        targets = {word.lower() for word in string_list(words, where)} if words else set()
        for word in targets:
            if not word.isalpha() or len(word) < MIN_TYPO_LENGTH:
                raise DataFileError(f"{where}: {word!r} must be one word of {MIN_TYPO_LENGTH} letters or more")
        return targets

    def _parse_text_speak(self, words: Any) -> Dict[str, str]:
        where = f"{self._source}: text_speak"
        if not isinstance(words, dict):
            raise DataFileError(f"{where}: expected a mapping of a short form to its spelling (bn: been)")
        for short, spelt in words.items():
            if not isinstance(short, str) or not short.isalnum() or not isinstance(spelt, str) or not spelt.strip():
                raise DataFileError(f"{where}: {short!r}: {spelt!r} must map one word to its spelling")
        return {short.lower(): spelt for short, spelt in words.items()}

    def _pattern(self, regex: str, where: str) -> Pattern[str]:
        def expand(match: re.Match) -> str:
            name = match.group(1)
            if name not in self._terms:
                raise DataFileError(f"{where}: unknown term {{{name}}} (define it under 'terms')")
            return self._terms[name]

        return _compile(_TERM.sub(expand, _loosen(regex)), where)

    def _parse_rules(self, entries: Any, section: str, tiers: Sequence[str]) -> List[Rule]:
        where = f"{self._source}: {section}"
        if not isinstance(entries, list):
            raise DataFileError(f"{where}: expected a list of rules")
        rules = [self._parse_rule(entry, f"{where}[{index}]", tiers) for index, entry in enumerate(entries)]
        if tiers != ("none",):
            for tier in RULE_TIERS:
                if not any(rule.tier == tier for rule in rules):
                    raise DataFileError(f"{where}: no rule of tier {tier}")
        return rules

    def _parse_rule(self, entry: Any, where: str, tiers: Sequence[str]) -> Rule:
        rule_id = str(require(entry, "id", where))
        here = f"{where} (id {rule_id})"
        tier = str(entry.get("tier", "none"))
        if tier not in tiers:
            raise DataFileError(f"{here}: tier must be one of {', '.join(tiers)}, not {tier!r}")
        phrases = string_list(entry.get("phrases", []), f"{here}: phrases")
        if not phrases and not entry.get("patterns"):
            raise DataFileError(f"{here}: needs 'phrases' or 'patterns'")
        with_answer = entry.get("with_answer", False)
        if not isinstance(with_answer, bool):
            raise DataFileError(f"{here}: with_answer must be true or false")
        examples = entry.get("examples") or {}
        if not isinstance(examples, dict) or set(examples) - {"fires", "quiet"}:
            raise DataFileError(f"{here}: examples: expected 'fires' and 'quiet' lists")
        return Rule(
            rule_id,
            tier,
            str(require(entry, "reason", here)).strip(),
            [_compile(_phrase_regex(p), f"{here}: phrases") for p in phrases] + self._patterns(entry, "patterns", here),
            self._patterns(entry, "also_needs", here),
            self._patterns(entry, "not_when", here),
            with_answer,
            tuple(string_list(examples.get("fires", []), f"{here}: examples.fires")),
            tuple(string_list(examples.get("quiet", []), f"{here}: examples.quiet")),
            self._ignored_context(entry, here),
        )

    def _patterns(self, entry: Dict[str, Any], key: str, here: str) -> List[Pattern[str]]:
        return [self._pattern(r, f"{here}: {key}") for r in string_list(entry.get(key, []), f"{here}: {key}")]

    @staticmethod
    def _ignored_context(entry: Dict[str, Any], where: str) -> Tuple[str, ...]:
        ignored = tuple(string_list(entry.get("ignore_context", []), f"{where}: ignore_context"))
        for reason in ignored:
            if reason not in CONTEXT_REASONS:
                raise DataFileError(f"{where}: ignore_context: {reason!r} is not one of {', '.join(CONTEXT_REASONS)}")
        return ignored

    def correct_typos(self, text: str) -> str:
        """Spell a near-miss of a `typo_tolerant` word ("plaquenill", "breth"), or of a word of five
        letters or more that the table spells out ("fiting", "fantin"), the way the table does.

        An English word is never changed ("bold" stays bold, not "blood"). A hyphen between
        letters reads as a space ("coffee-ground" = "coffee ground"). A `text_speak` word is
        spelt out ("bn cuttin agen" = "been cuttin again"), unless in capitals ("RN", a nurse).
        """
        text = _HYPHEN.sub(" ", text)
        if not self._typo_targets and not self._text_speak:
            return text

        def fix(match: re.Match) -> str:
            word = match.group(0)
            lowered = word.lower()
            if lowered in self._text_speak and not word.isupper():
                return self._text_speak[lowered]
            if not self._typo_targets:
                return word
            if lowered.endswith("in") and lowered + "g" in self._english and not self._whole(lowered):
                return word + ("G" if word.isupper() else "g")  # a dropped g: "dreamin" is dreaming, not "drain"
            if len(word) < MIN_TYPO_LENGTH or lowered in self._english or "'" in word or "’" in word:
                return word  # a contraction ("doesn't") is no typo of "doses"
            if lowered in self._kept_as_written or lowered in self._typo_targets:
                return word
            targets = self._typo_targets_by_length.get(len(word), [])
            if _is_a_name(text, match):  # "in Leeds" is no typo of "bleeds"
                targets = [t for t in targets if t in self._name_targets]
            close = process.extractOne(lowered, targets, scorer=fuzz.ratio, score_cutoff=100 * TYPO_SIMILARITY)
            if close and lowered in self._table_spellings and not close[0].startswith(lowered[:-1]):
                return word
            return close[0] if close else word

        return _WORD.sub(fix, text)

    def _whole(self, word: str) -> bool:
        """A word that ends in "in" of its own ("within", "aspirin"), not an -ing word with its g dropped."""
        return len(word) < MIN_TYPO_LENGTH + 1 or word in self._whole_words or word in self._table_spellings

    def assess(self, text: str) -> Assessment:
        """Every rule's words in the message, each with the reason it is set aside, if any."""
        findings: List[Finding] = []
        for rule in self.rules:
            told_before: Optional[str] = None  # why this rule's first words in the message were set aside
            for match in sorted(rule.matches(text), key=lambda m: m.start()):
                reason = self._set_aside(rule, text, match)
                if reason is None and told_before and self.context.refers_back_to_told(text, match.span()):
                    reason = told_before  # "do I mention the seizure?" is the one told as past
                findings.append(Finding(rule, match, reason))
                told_before = told_before or reason
        return Assessment(tuple(findings))

    def _set_aside(self, rule: Rule, text: str, match: re.Match) -> Optional[str]:
        reason = self.context.why_not(text, match.span(), rule.not_when, rule.ignore_context)
        if reason is None and self._is_general_question(text, match):
            reason = "general question"
        if reason in BROUGHT_TO_NOW and self.context.brought_to_now(text, match.span()):
            reason = None  # "What do I do if she has a seizure? She's having one now."
        if reason is None and rule.with_answer and self.context.told_in_past(text, match.span()):
            reason = "past"  # help that already came ("the ambulance came and took him") is no call for it now
        if reason is None and rule.with_answer and self.context.asked_on_from_a_what_if(text, match.span()):
            reason = "hypothetical"  # "If she can't swallow, what do I do? Ring 911 or her parents first?"
        return reason

    def sentence_set_aside(self, text: str, index: int, tier: str) -> Optional[str]:
        """Why a whole sentence does not describe the child now (for the learned model), or None.

        The model reads one sentence and cannot see a story's "two years ago" two sentences back,
        nor tell a figure of speech from a fact as reliably as the table's list. Talk of
        self-harm is often put as a what-if ("in case I decide to end it") or told by
        others ("she told her friend she wants to die"): for the crisis tier both still
        count, as for the crisis rule.
        """
        sentences = self.context.sentences(text)
        sentence = text[sentences[index][0] : sentences[index][1]]
        if self.context.has_figure(sentence):
            return "figurative"
        if not any(p.search(text) for p in self._about_now) and self._is_topic_sentence(sentence):
            return "general question"
        reason = self.context.sentence_not_now(text, sentences, index)
        return None if reason in CRISIS_STILL_COUNTS and tier == "crisis" else reason

    def is_topic_question(self, text: str) -> bool:
        """A question about JDM or a medicine in general ("does jdm affect breathing?"), not about one child."""
        return self._is_topic_sentence(text)

    def _is_general_question(self, text: str, match: re.Match) -> bool:
        """The words sit in a topic question, in a sentence that is not about a child, in a message not about now."""
        if any(p.search(text) for p in self._about_now):
            return False
        for start, end in self.context.sentences(text):
            if start <= match.start() < end:
                return self._is_topic_sentence(text[start:end], match.start() - start)
        return False

    def _is_topic_sentence(self, sentence: str, at: int = 0) -> bool:
        """A topic question with no word about a child, or one whose words about a child are only a
        question of the parent's own ("Are seizures part of JDM, or can I reassure him?")."""
        if not any(p.search(sentence) for p in self._general_questions):
            return False
        clauses = list(_CLAUSE.finditer(sentence))
        own = next((c for c in clauses if c.start() <= at < c.end()), None)
        for clause in clauses:
            if any(p.search(clause.group(0)) for p in self._personal) and (
                clause is own or not _ASKS.match(clause.group(0))
            ):
                return False
        return True

    def about_a_childs_medicine(self, text: str) -> List[Rule]:
        """The child_medicine rules that match, if the message is about one child."""
        if not any(p.search(text) for p in self._medicine_personal):
            return []
        return [rule for rule in self.child_medicine if rule.matches(text)]


@lru_cache(maxsize=1)
def english_words() -> FrozenSet[str]:
    """Words common enough in English never to be typo-corrected ("ever" is not a misspelt "fever").

    scripts/build_spacy_pipeline.py writes them from spaCy's lexeme probabilities; the
    cut-off keeps "ever", "conscious" and "bold" and drops misspellings the table also
    holds ("blod", "steriods").
    """
    try:
        return frozenset(ENGLISH_WORDS_FILE.read_text(encoding="utf-8").split())
    except OSError as error:
        raise DataFileError(f"{ENGLISH_WORDS_FILE}: cannot be read ({error.strerror}); run `make spacy`") from error


@lru_cache(maxsize=1)
def load_triage() -> Triage:
    """The triage table, read once per process (restart the assistant after editing it)."""
    return Triage(load_yaml(TRIAGE_FILE), TRIAGE_FILE)


EXAMPLES_FOLDER = "safety/triage_examples"


def load_triage_examples() -> List[Tuple[str, str]]:
    """(text, tier) of every example in data/safety/triage_examples/*.yml, the learned model's teaching set."""
    folder = data_dir() / EXAMPLES_FOLDER
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise DataFileError(f"{folder}: no example files (*.yml)")
    examples: List[Tuple[str, str]] = []
    for path in files:
        relative = f"{EXAMPLES_FOLDER}/{path.name}"
        entries = require(load_yaml(relative), "examples", relative)
        if not isinstance(entries, list):
            raise DataFileError(f"{relative}: examples: expected a list of {{text, tier}}")
        for index, entry in enumerate(entries):
            where = f"{relative}: examples[{index}]"
            text, tier = str(require(entry, "text", where)).strip(), str(require(entry, "tier", where))
            if tier not in TIERS:
                raise DataFileError(f"{where}: tier must be one of {', '.join(TIERS)}, not {tier!r}")
            examples.append((text, tier))
    return examples
