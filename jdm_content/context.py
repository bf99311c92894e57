"""Whether danger words describe the child now: sentence and context, before a triage rule fires.

"No trouble breathing", "two years ago she couldn't walk", "what happens if
she can't swallow?", "a boy in her class has seizures" and "this rash is
killing me" all hold danger words; none describes a child in danger now.

- Sentences come from pysbd (rule-based, maintained; "Dr." and "5.5 mg" do
  not end a sentence), and a new line ends one too.
- Negated, past, hypothetical and someone-else words are found by medspaCy's
  ConText algorithm (a cue's scope runs forward or backward within the
  sentence, up to a terminating word such as "but" or "now"), with the cues
  written for parents' words in data/safety/triage.yml `context`; medspaCy's
  default rules were written for clinical notes.
- A story told in the past ("When she was diagnosed two years ago ...") keeps
  its later sentences in the past until one speaks of now ("now", "today",
  "she can't ...").
- Figurative phrases ("choking back tears") must overlap the danger words.
- Words in quotation marks that name a term ("which signs mean 'ring 999'")
  are a mention (jdm_content/quotes.py finds them).

It runs only for messages in which a rule already matched, so a message with
no danger words costs nothing here.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Optional, Pattern, Sequence, Tuple

import pysbd
import spacy
from medspacy.context import ConText, ConTextRule
from spacy.language import Language

from jdm_content.files import DataFileError
from jdm_content.people import People
from jdm_content.quotes import Quotes

# Words of now end the reach of a past, negated or what-if cue, not of someone else's: the
# other person is in the present too ("a mum whose daughter is in PICU right now and can't breathe").
# The family's own child ends someone else's reach ("my friend's son is in hospital and my
# daughter is choking on a sweet").
NOW = "NOW"
OWN_CHILD = "OWN_CHILD"
ENDED_BY = {"FAMILY": {OWN_CHILD}}
# Category in triage.yml -> (ConText category, default direction).
CUE_CATEGORIES = {
    "negated": ("NEGATED_EXISTENCE", "FORWARD"),
    "past": ("HISTORICAL", "BIDIRECTIONAL"),
    "hypothetical": ("HYPOTHETICAL", "FORWARD"),
    "someone_else": ("FAMILY", "BIDIRECTIONAL"),
    "ends_scope": ("TERMINATE", "TERMINATE"),
    "now_ends_scope": (NOW, "PSEUDO"),
    "own_child_ends_scope": (OWN_CHILD, "PSEUDO"),
    "not_a_cue": ("PSEUDO", "PSEUDO"),
}
# In this order: a what-if about a past event ("if it ever happens again like at diagnosis") is a what-if.
REASONS = {
    "NEGATED_EXISTENCE": "negated",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "someone else",
    "HISTORICAL": "past",
}
DIRECTIONS = {"forward": "FORWARD", "backward": "BACKWARD", "either": "BIDIRECTIONAL"}
Span = Tuple[int, int]
CUE_CACHE = 2048  # sentences
OPENING_WORDS = 4  # the first sentence this long opens the message ("Hi!" does not)
SUBJECT_WORDS = 3  # someone else named in the opening's first words is whom the message is about
LAST_WORDS = 3  # of a rule's words that run on into a later sentence: the state they tell ("red and hot")


def _regex(pattern: str) -> str:
    """A space matches any run of spaces; an apostrophe is optional; whole words only."""
    loose = pattern.replace(" ", r"\s+").replace("'", "['’]?")
    return rf"(?<!\w)(?:{loose})(?!\w)"


def _compile(pattern: Any, where: str) -> Pattern[str]:
    if not isinstance(pattern, str) or not pattern.strip():
        raise DataFileError(f"{where}: expected a non-empty pattern")
    try:
        return re.compile(_regex(pattern), re.IGNORECASE)
    except re.error as error:
        raise DataFileError(f"{where}: not a valid pattern ({error}): {pattern!r}") from error


@dataclass(frozen=True)
class Context:
    """The context rules of triage.yml, ready to judge a match."""

    nlp: Language
    present: Sequence[Pattern[str]]
    present_forms: Sequence[Pattern[str]]
    past_forms: Sequence[Pattern[str]]
    refers_back: Sequence[Pattern[str]]
    figurative: Sequence[Pattern[str]]
    people: People
    all_clear: Sequence[Pattern[str]] = ()
    contrast: Sequence[Pattern[str]] = ()
    looks_back: Sequence[Pattern[str]] = ()
    quoted: Quotes = Quotes(frozenset(), frozenset(), re.compile(r"(?!)"))
    now_by_reference: Sequence[Pattern[str]] = ()
    in_our_care: Sequence[Pattern[str]] = ()

    @classmethod
    def from_data(cls, data: Any, where: str) -> Context:
        if not isinstance(data, dict):
            raise DataFileError(f"{where}: expected a mapping of cue kinds ({', '.join(CUE_CATEGORIES)}, ...)")
        nlp = spacy.blank("en")
        context: ConText = nlp.add_pipe("medspacy_context", config={"rules": None, "span_attrs": None})
        rules = []
        for kind, (category, default_direction) in CUE_CATEGORIES.items():
            here = f"{where}.{kind}"
            scope, lists = _by_direction(data.get(kind) or [], default_direction, here)
            for direction, cues in lists:
                for i, pattern in enumerate(cues):
                    _compile(pattern, f"{here}[{i}]")  # a clear error before medspaCy's own
                    ended_by = ENDED_BY.get(category, {NOW})
                    rules.append(
                        ConTextRule(
                            pattern,
                            category,
                            pattern=_regex(pattern),
                            direction=direction,
                            max_scope=scope,
                            terminated_by=ended_by,
                        )
                    )
        context.add(rules)
        # ConText runs every cue's regular expression over the sentence for each danger word in
        # it, reading the sentence's text anew for each (most of this step's cost); the cues found
        # depend on the sentence alone.
        matcher = context._ConText__matcher
        matcher._MedspacyMatcher__regex_matcher = _TextReadOnce(matcher._MedspacyMatcher__regex_matcher)
        context._ConText__matcher = _CuesBySentence(matcher)

        def compiled(kind: str) -> List[Pattern[str]]:
            return [_compile(p, f"{where}.{kind}[{i}]") for i, p in enumerate(data.get(kind) or [])]

        return cls(
            nlp,
            compiled("present"),
            compiled("present_forms"),
            compiled("past_forms"),
            compiled("refers_back"),
            compiled("figurative"),
            People.from_data(data.get("people"), f"{where}.people"),
            compiled("all_clear"),
            compiled("contrast"),
            compiled("looks_back"),
            Quotes.from_data(data.get("quoted"), f"{where}.quoted"),
            compiled("now_by_reference"),
            compiled("in_our_care"),
        )

    def sentences(self, text: str) -> List[Span]:
        return sentence_spans(text)

    def why_not(
        self, text: str, match: Span, not_when: Sequence[Pattern[str]] = (), ignore: Sequence[str] = ()
    ) -> Optional[str]:
        """Why these words do not describe the child now ("negated", "past", ...), or None if they do.

        `ignore`: reasons that do not apply to this rule ("someone else" has chickenpox: the
        child was exposed).
        """
        sentences = self.sentences(text)
        index = next((i for i, (s, e) in enumerate(sentences) if s <= match[0] < e), len(sentences) - 1)
        start, end = sentences[index]
        if match[1] > end and match[1] <= sentences[-1][1]:
            # Words that run on into a later sentence count only if neither end is set aside: where
            # they start ("another kid in our group ... daily instead of weekly") nor where they end,
            # the state they tell ("a calcium lump ... If it ever went red and hot").
            first = self.why_not(text, (match[0], end), not_when, ignore)
            return first if first is not None else self.why_not(text, _last_words(text, match, end), not_when, ignore)
        local = (match[0] - start, min(match[1], end) - start)
        sentence = _without_asides(text[start:end], local)
        if _any_overlaps(self.figurative, sentence, local):
            return "figurative"
        if _any_overlaps(not_when, sentence, local):
            return "look-alike"
        if "quoted" not in ignore and any(s <= local[0] and local[1] <= e for s, e in self.quoted.spans(sentence)):
            return "quoted"
        reason = self._modified(sentence, local, ignore)
        turn = _TURN.search(sentence, local[0], local[1]) if reason == "negated" else None
        if turn and self._modified(sentence, _last_words(sentence, local, turn.end()), ignore) is None:
            # Words that run on past a "but" tell what comes after it too: "no one in her class has
            # had measles, but a boy at her nursery came out in chickenpox".
            reason = None
        if reason is None and "someone else" not in ignore:
            reason = "someone else" if self._goes_on_about_someone_else(text, sentences, index, local[1]) else None
        if reason == "hypothetical" and self._told_now_after_a_question(sentence, local):
            return None
        if "past" in ignore:
            return None if reason == "past" else reason
        # A scene told as if happening ("It's 2am, she can't lift her head ...") that a later
        # sentence sets long ago ("That was three years ago this March.").
        if (
            reason in (None, "past")
            and not self._speaks_of_now(sentence)
            and self._looked_back_on(text, sentences, index)
        ):
            return "past"
        if reason == "past":
            # Tense wins over a nearby cue: "diagnosed two years ago, and now she can't breathe". Only the
            # words' own clause, up to an "and": "she fainted in church and people still bring it up".
            clause = _clause(sentence, local, _CLAUSE_OR_AND)
            now = self._speaks_of_now(clause) or self._has_form(self.present_forms, sentence, local)
            return None if now else "past"
        # A story told in the past reaches only words told in the past ("she couldn't walk"), from
        # its frame or from a past cue anywhere in the sentence ("in 2021 ... until he couldn't sit up").
        if reason is None and self._told_in_past(sentence, local):
            # A cue inside the words themselves is theirs ("stopped her steroids a week ago": still stopped).
            outside = sentence[: local[0]] + " " * (local[1] - local[0]) + sentence[local[1] :]
            if self._has_past_cue(outside) or self._in_past_story(text, sentences, index):
                return "past"
        return reason

    def brought_to_now(self, text: str, match: Span, sentences_after: int = 2) -> bool:
        """Words after the match, to the end of the next sentences, point back at it as happening now."""
        ends = [e for _, e in self.sentences(text) if e > match[1]]
        after = text[match[1] : ends[min(sentences_after, len(ends) - 1)]] if ends else ""
        return any(p.search(after) for p in self.now_by_reference)

    def refers_back_to_told(self, text: str, match: Span) -> bool:
        """The words are a definite mention ("the seizure", "that old seizure") in a sentence not about now.

        Said after the same danger was told as past or about someone else, it is that one again.
        """
        start, end = next(((s, e) for s, e in self.sentences(text) if s <= match[0] < e), self.sentences(text)[-1])
        return bool(_DEFINITE_BEFORE.search(text[start : match[0]])) and not self._speaks_of_now(text[start:end])

    def asked_on_from_a_what_if(self, text: str, match: Span) -> bool:
        """The words sit in a question that follows a what-if question and goes on asking it: "If she
        cannot swallow, what do I do? I call 911 first or the parents first?" (no word of now in it)."""
        sentences = self.sentences(text)
        index = next((i for i, (s, e) in enumerate(sentences) if s <= match[0] < e), 0)
        if index == 0:
            return False
        sentence, before = (text[s:e].strip() for s, e in (sentences[index], sentences[index - 1]))
        return (
            sentence.endswith("?")
            and before.endswith("?")
            and not self._speaks_of_now(sentence)
            and "HYPOTHETICAL" in self._cue_categories(before)
        )

    def told_in_past(self, text: str, match: Span) -> bool:
        """The words are told in a past form with no word of now in their clause ("the ambulance came
        and took him, and now she's scared")."""
        sentences = self.sentences(text)
        start, end = next(((s, e) for s, e in sentences if s <= match[0] < e), sentences[-1])
        sentence, local = text[start:end], (match[0] - start, min(match[1], end) - start)
        clause = _clause(sentence, local, _CLAUSE_OR_AND)  # "the ambulance came and he's fine now"
        return any(p.search(clause) for p in self.past_forms) and not (
            any(p.search(clause) for p in self.present_forms) or self._speaks_of_now(clause)
        )

    def _told_in_past(self, sentence: str, local: Span) -> bool:
        if self._has_form(self.present_forms, sentence, local) or self._speaks_of_now(sentence):
            return False
        if self._has_form(self.past_forms, sentence, local, after=2):
            return True
        # Words in a sentence's opening with no verb of their own take its tense: "Throat
        # swelling, the lot, and the nurses were onto it in seconds."
        forms = [*self.past_forms, *self.present_forms]
        return not any(p.search(sentence[: local[0]]) for p in forms) and (
            not self._has_form(forms, sentence, local)
            and any(p.search(sentence) for p in self.past_forms)
            and not any(p.search(sentence) for p in self.present_forms)
        )

    def _goes_on_about_someone_else(self, text: str, sentences: List[Span], index: int, upto: int) -> bool:
        """The message opens about someone else ("My sister's little boy has just been diagnosed
        ...") and goes on about them by "he" or "she" ("She says he can't lift his head").

        Not once the family's own child, the writer ("I can't breathe") or someone in their care
        ("my nephew is staying with us") comes in, nor when "she" cannot be him.
        """
        start = sentences[index][0]
        before = text[start : start + upto]
        pronoun = self.people.third_person.search(before)
        if pronoun is None or self.people.first_person.search(before) or self.people.names_someone(before):
            return False  # the cheap checks first: this runs for every sentence the model may read
        opening = next((i for i, (s, e) in enumerate(sentences[:index]) if len(text[s:e].split()) >= OPENING_WORDS), -1)
        if opening < 0:
            return False
        first = text[sentences[opening][0] : sentences[opening][1]]
        cues = self._cues_in(first)
        if any(category == OWN_CHILD for category, _, _ in cues):
            return False  # "we're a family in Dublin, our son Oisin is 6": he is theirs
        at, who = next(((at, words) for category, at, words in cues if category == "FAMILY"), (len(first), ""))
        subject_ends = sum(len(word) + 1 for word in first.split()[:SUBJECT_WORDS])
        lead = _WHOSE.sub("", first[:at])  # "My friend's nephew": "my" is whose, not who
        if (
            at >= subject_ends
            or self.people.first_person.search(lead)
            or not self.people.same_gender(pronoun.group(0), who)
        ):
            return False
        told_since = [text[s:e] for s, e in sentences[opening:index]] + [before]
        return not any(
            any(p.search(told) for p in self.in_our_care) or OWN_CHILD in self._cue_categories(told)
            for told in told_since
        )

    def forget(self) -> None:
        """Drop what was cached about sentences, so that timing a message's context work starts cold."""
        context: Any = self.nlp.get_pipe("medspacy_context")
        context._ConText__matcher.forget()

    def _cues_in(self, sentence: str) -> Tuple[Tuple[str, int, str], ...]:
        """Each cue in the sentence, in order: its ConText category, where it starts and its words."""
        doc = self._context(_sentence_doc(self.nlp, sentence))
        spans = [doc[m.modifier_span[0] : m.modifier_span[1]] for m in doc._.context_graph.modifiers]
        cues = zip((m.category for m in doc._.context_graph.modifiers), spans, strict=True)
        return tuple(sorted(((category, w.start_char, w.text) for category, w in cues), key=lambda c: c[1]))

    def _modified(self, sentence: str, local: Span, ignore: Sequence[str]) -> Optional[str]:
        categories = self._categories(sentence, local)
        head = _list_head(sentence, local)
        if "NEGATED_EXISTENCE" not in categories and head < local[0]:
            # A negation reaches every item of its list of alternatives, however long: "she has
            # never had a blackout or a seizure", "no fever, cough or rash". Not commas without an
            # "or": "not eating, vomiting blood" tells two things. The first item may be two words
            # long, past the cue's reach by its last ("doesn't have any chest pain or palpitations").
            for item_start in (head, _word_before(sentence, head)):
                categories |= self._categories(sentence, (item_start, local[1])) & {"NEGATED_EXISTENCE"}
                if "NEGATED_EXISTENCE" in categories:
                    break
        if _in_negated_colon_list(sentence, local):
            categories.add("NEGATED_EXISTENCE")  # "Things she hasn't got: asthma, seizures, allergies"
        return next(
            (reason for category, reason in REASONS.items() if category in categories and reason not in ignore), None
        )

    def _categories(self, sentence: str, local: Span) -> set[str]:
        """The ConText categories of the cues that reach these words in their sentence."""
        doc = _sentence_doc(self.nlp, sentence)
        target = doc.char_span(local[0], local[1], label="DANGER", alignment_mode="expand")
        if target is None:
            return set()
        doc.ents = [target]
        doc = self._context(doc)
        # medspaCy 1.3.1 lets a cue inside the target modify it (its overlap test misses
        # containment): "better off without me" must not be negated by its own "without".
        categories = {
            modifier.category
            for modifier in doc.ents[0]._.modifiers
            if not (target.start <= modifier.modifier_span[0] and modifier.modifier_span[1] <= target.end)
            and not _negates_another_clause(doc, modifier, target)
        }
        # ConText does not look inside a cue: a cue may hold the words themselves ("the night he
        # collapsed", "what does anaphylaxis look like"), and who it happened to may overlap them
        # ("my sister's little boy got into her tablets").
        for m in doc._.context_graph.modifiers:
            holds = m.modifier_span[0] <= target.start and target.end <= m.modifier_span[1]
            overlaps = m.modifier_span[0] < target.end and target.start < m.modifier_span[1]
            if holds or (m.category == "FAMILY" and overlaps):
                categories.add(m.category)
        return categories

    def _context(self, doc: Any) -> Any:
        with warnings.catch_warnings():
            # Our cues are regular expressions, so medspaCy's phrase matcher stays empty and says so.
            warnings.filterwarnings("ignore", message=r"\[W036\]")
            return self.nlp.get_pipe("medspacy_context")(doc)

    def _in_past_story(self, text: str, sentences: List[Span], index: int) -> bool:
        """The story around this sentence is set in the past, with nothing between speaking of now.

        An earlier sentence sets it ("When she was diagnosed ..."), or a later one looks back
        on it ("That was in 2019.").
        """
        for earlier in reversed(sentences[:index]):
            sentence = text[earlier[0] : earlier[1]]
            if self._speaks_of_now(sentence):
                break
            if self._has_past_cue(sentence):
                return True
        for later in sentences[index + 1 :]:
            sentence = text[later[0] : later[1]]
            if any(p.search(sentence) for p in self.refers_back) and self._has_past_cue(sentence):
                return True
            if self._speaks_of_now(sentence) or any(p.search(sentence) for p in self.present_forms):
                return False
        return False

    def _looked_back_on(self, text: str, sentences: List[Span], index: int) -> bool:
        """A later sentence, or its last clause, opens by setting the story long ago (triage.yml
        `looks_back`: "The nurses gave adrenaline, and that was 18 months ago."), with no word of
        now in it or between; whatever tense the story was told in. "That was in 2021 but now
        it's worse" speaks of now: the words stay."""
        for later in sentences[index + 1 :]:
            sentence = text[later[0] : later[1]].strip()
            if self._speaks_of_now(sentence):
                # "That was her diagnosis night in 2020, and now she eats everything": a sentence that
                # opens by looking back, and whose now tells nothing again, still sets the story long ago.
                return any(p.match(sentence) for p in self.looks_back) and not _AGAIN.search(sentence)
            starts = [0, *(m.end() for m in _CLAUSE_OPENS.finditer(sentence))]
            if any(p.match(sentence, start) for p in self.looks_back for start in starts):
                return True
        return False

    def sentence_not_now(self, text: str, sentences: List[Span], index: int) -> Optional[str]:
        """Why the whole sentence does not tell of the child now ("past", "hypothetical", "someone
        else", "all clear").

        Past: a past cue, or a past story it belongs to. Hypothetical: a what-if cue
        ("in case she ever ..."). Someone else: "a mum in one of the groups said ...", or
        "she" going on about her in a later sentence.
        All clear: it tells what is fine ("breathing fine, no pain"), with no "but" after.
        Past and hypothetical only where no word in it speaks of now.
        """
        sentence = text[sentences[index][0] : sentences[index][1]]
        cues = self._cue_categories(sentence)
        if "FAMILY" in cues or self._goes_on_about_someone_else(text, sentences, index, len(sentence)):
            return "someone else"
        if self.says_unturned(self.all_clear, sentence):
            return "all clear"
        if self._speaks_of_now(sentence):
            return None
        if "HYPOTHETICAL" in cues:
            return "hypothetical"
        if (
            "HISTORICAL" in cues
            or self._looked_back_on(text, sentences, index)
            or (not any(p.search(sentence) for p in self.present_forms) and self._in_past_story(text, sentences, index))
        ):
            return "past"
        return None

    def says_unturned(self, patterns: Sequence[Pattern[str]], text: str) -> bool:
        """One of the patterns is in the text with no "but" turning after it ("fine in herself
        but ..."); a "but" before it leads up to it ("he cut his knee, but it stopped bleeding")."""
        return any(not any(c.search(text, m.end()) for c in self.contrast) for p in patterns for m in p.finditer(text))

    def has_figure(self, text: str) -> bool:
        """A figure of speech or look-alike anywhere in the message ("threw a fit", "breathing exercises")."""
        return any(p.search(text) for p in self.figurative)

    def _told_now_after_a_question(self, sentence: str, local: Span) -> bool:
        """The words' own clause tells now, with no what-if of its own: "I'm asking if she'll be
        ok, she's having a seizure right now" (a cue's reach runs on past the comma)."""
        cues = self._cue_categories(_clause(sentence, local))
        return NOW in cues and "HYPOTHETICAL" not in cues

    def _speaks_of_now(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in self.present)

    @staticmethod
    def _has_form(forms: Sequence[Pattern[str]], sentence: str, local: Span, after: int = 0) -> bool:
        """The danger words, with the two words before them (and `after` words after), have one of
        these forms ("she can't ...", "the ambulance came")."""
        before = re.search(r"(\S+\s+){0,2}$", sentence[: local[0]])
        following = re.match(rf"(\s+\S+){{0,{after}}}", sentence[local[1] :])
        words = (
            (before.group(0) if before else "")
            + sentence[local[0] : local[1]]
            + (following.group(0) if following else "")
        )
        return any(p.search(words) for p in forms)

    def _has_past_cue(self, sentence: str) -> bool:
        return "HISTORICAL" in self._cue_categories(sentence)

    def _cue_categories(self, sentence: str) -> FrozenSet[str]:
        """The ConText categories of every cue in the sentence ("HISTORICAL", "HYPOTHETICAL", ...)."""
        return frozenset(category for category, _, _ in self._cues_in(sentence))


class _FixedText:
    """A Doc whose text is read once (spaCy builds `text_with_ws` from the tokens on every read)."""

    def __init__(self, doc: Any) -> None:
        self._doc = doc
        self.text_with_ws = doc.text_with_ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._doc, name)

    def __getitem__(self, index: Any) -> Any:
        return self._doc[index]

    def __len__(self) -> int:
        return len(self._doc)

    def __iter__(self) -> Any:
        return iter(self._doc)


class _TextReadOnce:
    """medspaCy's regular-expression matcher, given the sentence's text once rather than once per cue."""

    def __init__(self, matcher: Any) -> None:
        self._matcher = matcher

    def __getattr__(self, name: str) -> Any:
        return getattr(self._matcher, name)

    def __call__(self, doc: Any) -> Any:
        return self._matcher(_FixedText(doc))


class _CuesBySentence:
    """medspaCy's cue matcher, asked once per sentence: ConText asks it again for each danger word."""

    def __init__(self, matcher: Any) -> None:
        self._matcher = matcher
        self._found: Dict[str, List[Tuple[int, int, int]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._matcher, name)  # rule_map and the rest, as medspaCy has them

    def __call__(self, doc: Any) -> List[Tuple[int, int, int]]:
        text = doc.text_with_ws
        found = self._found.get(text)
        if found is None:
            if len(self._found) > CUE_CACHE:
                self._found.clear()
            found = self._found[text] = self._matcher(doc)
        return list(found)

    def forget(self) -> None:
        self._found.clear()


def _sentence_doc(nlp: Language, sentence: str) -> Any:
    doc = nlp.make_doc(sentence)
    for token in doc:
        token.is_sent_start = token.i == 0
    return doc


def _by_direction(value: Any, default: str, where: str) -> Tuple[Optional[int], List[Tuple[str, List[str]]]]:
    """`[patterns]` (the kind's usual direction) or `{forward: [...], backward: [...], either: [...]}`,
    with an optional `max_scope` (words)."""
    if isinstance(value, list):
        return None, [(default, value)]
    if isinstance(value, dict) and set(value) <= {*DIRECTIONS, "max_scope"}:
        scope = value.get("max_scope")
        if scope is not None and (not isinstance(scope, int) or scope < 1):
            raise DataFileError(f"{where}.max_scope: expected a whole number of words, at least 1")
        return scope, [(DIRECTIONS[d], list(p or [])) for d, p in value.items() if d != "max_scope"]
    raise DataFileError(f"{where}: expected a list of patterns, or lists under {', '.join(DIRECTIONS)}")


# "couldn't swallow when he was diagnosed but he's eating pizza now": "but" parts two clauses.
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s[-–—]\s|\s(?:but|although|though|whereas)\s", re.IGNORECASE)
_CLAUSE_OR_AND = re.compile(r"[,;:()]|\s[-–—]\s|\s(?:but|although|though|whereas|and)\s", re.IGNORECASE)


def _clause(sentence: str, local: Span, breaks: Pattern[str] = _CLAUSE_BREAK) -> str:
    """The part of the sentence around the words, between commas, semicolons, colons or dashes."""
    starts = [m.end() for m in breaks.finditer(sentence, 0, local[0])]
    end = breaks.search(sentence, local[1])
    return sentence[starts[-1] if starts else 0 : end.start() if end else len(sentence)]


_VERB_NEGATION = re.compile(r"not|\w+n['’]?t", re.IGNORECASE)
# The rest of a list after an item, up to its "or": ", a rash or", " or".
_OR_LIST_AFTER = re.compile(
    r"(?:\s*,\s*(?:(?:a|an|any)\s+)?[\w'’-]+(?:\s+[\w'’-]+)?)*\s*,?\s*(?:or|nor)\b", re.IGNORECASE
)


# What ends a list opened by a colon: its items are parted by commas (and "and").
_LIST_ENDS = re.compile(r"[;:()]|\s[-–—]\s|\s(?:but|although|though|whereas)\s", re.IGNORECASE)
# The head of a list of what the child has not had: "Things she hasn't got:", "he has never had:".
_NEGATED_LIST_HEAD = re.compile(
    r"\b(?:not|never|\w+n['’]?t)\s+(?:\w+\s+)?(?:have|has|had|got|get|suffered from|experienced)\s*:\s*$", re.IGNORECASE
)


def _in_negated_colon_list(sentence: str, local: Span) -> bool:
    """The words are an item of a list that a colon opens after a negated "have" (commas part the items)."""
    colon = sentence.rfind(":", 0, local[0])
    return (
        colon >= 0
        and not _LIST_ENDS.search(sentence, colon + 1, local[0])
        and bool(_NEGATED_LIST_HEAD.search(sentence, 0, colon + 1))
    )


def _negates_another_clause(doc: Any, modifier: Any, target: Any) -> bool:
    """A verb's negation that a comma, semicolon or dash parts from the words negates its own verb only:
    "he isn't eating, vomiting blood" tells blood vomited. "No" keeps its list ("no fever, cough"),
    and so does a verb's negation whose list goes on to an "or" ("hasn't had a fever, a seizure or ...")."""
    if modifier.category != "NEGATED_EXISTENCE" or modifier.modifier_span[1] > target.start:
        return False
    cue = doc[modifier.modifier_span[0] : modifier.modifier_span[1]]
    if not _VERB_NEGATION.fullmatch(cue.text):
        return False
    between = doc.text[cue.end_char : target.start_char]
    return bool(_CLAUSE_BREAK.search(between)) and not _OR_LIST_AFTER.match(doc.text, target.end_char)


# What joins the last item of a list of alternatives to the one before: "or", "nor", ", or",
# with an article ("a blackout or a seizure"); commas join the items before it ("fever, cough or").
_OR_LINK = re.compile(r"(?:,\s*)?\b(?:or|nor)\s+(?:(?:a|an|any)\s+)?$", re.IGNORECASE)
_COMMA_LINK = re.compile(r",\s*(?:(?:a|an|any)\s+)?$")
# Each earlier item by its last word: a word more could hold the negation itself ("not floppy").
_LIST_ITEM = re.compile(r"[\w'’-]+\s*$")
_FIRST_WORD = re.compile(r"[\w'’-]+")
LIST_ITEMS = 6  # at most, before the words


def _word_before(sentence: str, at: int) -> int:
    """Where the word before this point starts (the point itself if none)."""
    word = _LIST_ITEM.search(sentence, 0, at)
    return word.start() if word else at


def _list_head(sentence: str, words: Span) -> int:
    """Where the list of alternatives that holds the words begins (their start if none): they end it
    ("a blackout or a seizure") or stand in it before its "or" ("a fever, a seizure or blue lips")."""
    start = words[0]
    link = _OR_LINK.search(sentence, 0, start)
    first_word = _FIRST_WORD.match(sentence, start)
    # The list's "or" may come after the words or inside them ("choking, coughing or struggling with drinks").
    goes_on_to_or = _OR_LIST_AFTER.match(sentence, words[1]) or (
        first_word is not None and first_word.end() < words[1] and _OR_LIST_AFTER.match(sentence, first_word.end())
    )
    if link is None and goes_on_to_or:
        link = _COMMA_LINK.search(sentence, 0, start)
    head = start
    for _ in range(LIST_ITEMS):
        if link is None:
            break
        item = _LIST_ITEM.search(sentence, 0, link.start())
        if item is None:
            break
        head = item.start()
        link = _COMMA_LINK.search(sentence, 0, head)
    return head


_ASIDE = re.compile(r"\([^()]*\)")
# Where a sentence's next clause opens: ", and that was in 2019", "; it was two years ago".
_CLAUSE_OPENS = re.compile(r"(?:[,;]|\s[-–—])\s*(?:and\s+|but\s+|so\s+)?", re.IGNORECASE)
# A now that tells the danger again: "That was in 2021, and now it's happening again."
_AGAIN = re.compile(
    r"\b(?:again|worse|back|another|same|returned|happening|like (?:that|then|before)|once more)\b", re.IGNORECASE
)
_TURN = re.compile(r"\b(?:but|however|although|though|yet|except)\b", re.IGNORECASE)
_WHOSE = re.compile(r"(?<!\w)(my|our)\s*$", re.IGNORECASE)
_DEFINITE_BEFORE = re.compile(r"(?<!\w)(the|that|this)\s+((old|first|earlier|same|previous|one)\s+)?$", re.IGNORECASE)


def _without_asides(sentence: str, keep: Span) -> str:
    """The sentence with its brackets blanked ("(she was 5, she's 12 now)" tells no time of the
    danger), except one holding the words themselves or right after them, which is about them
    ("chest pain (none)"); offsets stay the same."""

    def blank(match: re.Match) -> str:
        right_after = match.start() >= keep[1] and not sentence[keep[1] : match.start()].strip()
        about_them = _overlaps(match.span(), keep) or right_after
        return match.group(0) if about_them else " " * len(match.group(0))

    return _ASIDE.sub(blank, sentence)


def _last_words(text: str, match: Span, after: int, words: int = LAST_WORDS) -> Span:
    """The span of a match's last few words that lie after `after` (a sentence's end)."""
    begin = max(after, match[0])
    starts = [m.start() for m in re.finditer(r"\S+", text[begin : match[1]])] or [0]
    return (begin + starts[-min(words, len(starts))], match[1])


def _any_overlaps(patterns: Sequence[Pattern[str]], sentence: str, local: Span) -> bool:
    """One of the patterns matches words that share a character with `local`."""
    return any(_overlaps(m.span(), local) for p in patterns for m in p.finditer(sentence))


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@lru_cache(maxsize=1024)
def sentence_spans(text: str) -> List[Span]:
    """(start, end) of each sentence; a line break always ends one."""
    spans = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            for piece in _segmenter().segment(line):
                spans.append((offset + piece.start, offset + piece.end))
        offset += len(line) + 1
    return spans or [(0, len(text))]


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)
