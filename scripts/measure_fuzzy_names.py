"""Measure the misspelt-name matcher (jdm_content/fuzzy_names.py) at a range of thresholds.

For each `min_similarity`, two figures:
  * typos found: typos of every lexicon name of a medicine, test or sign
    (each word of `min_length` letters or more with one letter dropped,
    doubled, swapped with the next or changed to another vowel; none a common
    English word), and the share read as that name;
  * matches in messages: what is read as a misspelt name in every message we
    hold (data/nlu, tests/nlu, tests/heldout/questions.yml), beside the names
    the entity ruler finds (models/spacy/jdm_en, `make spacy`). Each match is
    listed at the strictest threshold that makes it, so a real misspelling
    ("prednisolon") can be told from a false match ("derma" for edema) by eye.
config.yml's `min_similarity` is the lowest threshold without a false match.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator, List, Set, Tuple

import spacy
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: jdm_content is beside scripts/

from jdm_content.fuzzy_names import WORD, NameMatcher  # noqa: E402
from jdm_content.lexicon import canonical_id, load_lexicon  # noqa: E402
from jdm_content.nlu import read_nlu_examples  # noqa: E402
from jdm_content.triage import english_words  # noqa: E402

SPACY_PIPELINE = ROOT / "models" / "spacy" / "jdm_en"
VOWELS = "aeiou"
THRESHOLDS = [0.70, 0.75, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.95]


def matcher_settings() -> Tuple[List[str], float, int]:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    settings = next(c for c in config["pipeline"] if c["name"].endswith("MisspeltNames"))
    return list(settings["labels"]), float(settings["min_similarity"]), int(settings["min_length"])


def typos(word: str) -> Iterator[str]:
    """One-letter slips of a word, keeping its first letter (parents rarely miss that)."""
    for i in range(1, len(word)):
        yield word[:i] + word[i + 1 :]  # dropped
        yield word[:i] + word[i] + word[i:]  # doubled
        if i + 1 < len(word):
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped
        if word[i] in VOWELS:
            yield from (word[:i] + v + word[i + 1 :] for v in VOWELS if v != word[i])  # another vowel


def typo_set(labels: List[str], min_length: int) -> List[Tuple[str, str, str]]:
    """(typed, label, id) for the typos of every long-enough word of every name."""
    found = set()
    listed = {variant for (_, variant) in load_lexicon().variants}
    for (label, variant), term_id in load_lexicon().variants.items():
        if label not in labels or "(" in variant:
            continue  # a display name with its other name in brackets is no way to type it
        words = WORD.findall(variant)
        for index, word in enumerate(words):
            if len(word) < min_length:
                continue
            for typo in typos(word):
                typed = " ".join(words[:index] + [typo] + words[index + 1 :])
                if typed not in listed:
                    found.add((typed, label, term_id))
    return sorted(found)


def messages() -> List[str]:
    texts = [text for text, _ in read_nlu_examples(sorted((ROOT / "data" / "nlu").glob("*.yml")))]
    texts += [text for text, _ in read_nlu_examples([ROOT / "tests" / "nlu" / "heldout.yml"])]
    questions = yaml.safe_load((ROOT / "tests" / "heldout" / "questions.yml").read_text(encoding="utf-8"))
    return texts + [q["text"] for q in questions["questions"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    labels, chosen, min_length = matcher_settings()
    common = english_words()
    typed = [t for t in typo_set(labels, min_length) if not common & {w.lower() for w in t[0].split()}]
    ruler = spacy.load(SPACY_PIPELINE)
    # As in the assistant, what the entity ruler finds is taken.
    texts = [(text, [(e.start_char, e.end_char) for e in ruler(text).ents]) for text in messages()]
    print(f"{len(typed)} typos of {', '.join(labels)} names; {len(texts)} messages; config.yml: {chosen}")
    print("Matches in the messages are listed where they first appear, from the strictest threshold down.")
    seen: Set[Tuple[str, str]] = set()
    for threshold in sorted({*THRESHOLDS, chosen}, reverse=True):
        matcher = NameMatcher.from_lexicon(labels, threshold, min_length, common)
        right = sum(1 for text, label, term_id in typed if read_as(matcher, text, label, term_id))
        matched = {(text[m.start : m.end], m.spelling) for text, taken in texts for m in matcher.find(text, taken)}
        marker = "  <- config.yml" if threshold == chosen else ""
        print(
            f"  {threshold:.2f}: typos found {right / len(typed):6.1%}   matches in messages {len(matched):3}{marker}"
        )
        for word, spelling in sorted(matched - seen):
            print(f"        {word!r} -> {spelling!r}")
        seen |= matched
    return 0


def read_as(matcher: NameMatcher, text: str, label: str, term_id: str) -> bool:
    """Whether the whole text is read as a name of this lexicon entry."""
    return any(
        m.label == label and canonical_id(label, m.spelling) == term_id and (m.start, m.end) == (0, len(text))
        for m in matcher.find(text)
    )


if __name__ == "__main__":
    sys.exit(main())
