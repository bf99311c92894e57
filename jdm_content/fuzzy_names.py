"""Names of medicines, tests and signs as parents misspell them ("plaquenel", "methotrexat", "creatine kinaze").

The entity ruler (data/lexicon.yml) finds a name only as listed. This finds
the near misses, with rapidfuzz, against the same spellings: each entry's
name and its `variants` (other names, brand names). A typed word is read as a
lexicon word only when both have at least `min_length` letters, it is no
common English word ("predict" is not a misspelt prednisone, "method" no
methotrexate) and its similarity reaches `min_similarity`; a misspelt word
inside a name of several words ("creatine kinaze") must fit that name with the
words around it. Shorter words ("mtx", "ck") count only as listed.
scripts/measure_fuzzy_names.py measures the threshold (config.yml).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from rapidfuzz import fuzz, process

from jdm_content.lexicon import load_lexicon

# A word: letters, with inner apostrophes or hyphens ("gottron's", "solu-medrol").
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
Span = Tuple[int, int]
Reading = Tuple[str, float]
# How many lexicon words one typed word may stand for ("antibodys": antibodies or antibody).
READINGS = 3


@dataclass(frozen=True)
class NameMatch:
    """A misspelt name in a message: where it is, the lexicon spelling it stands for, and each
    misspelt word's place and lexicon word ("kinaze" in "creatine kinaze": "kinase")."""

    label: str
    spelling: str
    start: int
    end: int
    similarity: float
    corrections: Tuple[Tuple[int, int, str], ...]


class NameMatcher:
    """Finds misspelt lexicon names in a message (see the module docstring for the guards)."""

    def __init__(
        self,
        spellings: Iterable[Tuple[str, str]],
        min_similarity: float,
        min_length: int,
        common_words: FrozenSet[str],
    ) -> None:
        if not 0 < min_similarity <= 1:
            raise ValueError(f"min_similarity must be above 0 and at most 1, not {min_similarity}")
        self._min_similarity = min_similarity
        self._min_length = min_length
        self._common = common_words
        # (words of a spelling) -> (label, spelling); the first listed wins, as in the lexicon.
        self._names: Dict[Tuple[str, ...], Tuple[str, str]] = {}
        for label, spelling in spellings:
            words = tuple(w.lower() for w in WORD.findall(spelling))
            if words:
                self._names.setdefault(words, (label, spelling))
        self._longest = max((len(words) for words in self._names), default=0)
        self._known = frozenset(word for words in self._names for word in words)
        # In the lexicon's order, so of two as alike the one listed first wins ("plaquenil", not "plaquenal").
        self._targets = list(dict.fromkeys(w for words in self._names for w in words if len(w) >= min_length))

    @classmethod
    def from_lexicon(
        cls, labels: Sequence[str], min_similarity: float, min_length: int, common_words: FrozenSet[str]
    ) -> NameMatcher:
        """A matcher for the lexicon's names and variants under these labels (drug, test, symptom)."""
        lexicon = load_lexicon()
        wanted = set(labels)
        return cls(
            ((label, variant) for (label, variant), _ in lexicon.variants.items() if label in wanted),
            min_similarity,
            min_length,
            common_words,
        )

    def readings(self, word: str) -> List[Reading]:
        """The lexicon words a typed word may stand for, most alike first, with how alike (1.0: as typed).

        A word listed as typed may still be a slip of another ("heliotrop" of "heliotrope").
        """
        lowered = word.lower()
        exact = [(lowered, 1.0)] if lowered in self._known else []
        if len(lowered) < self._min_length or lowered in self._common:
            return exact
        close = process.extract(
            lowered, self._targets, scorer=fuzz.ratio, score_cutoff=100 * self._min_similarity, limit=READINGS
        )
        return exact + [(target, score / 100) for target, score, _ in close if target != lowered]

    def find(self, text: str, taken: Sequence[Span] = ()) -> List[NameMatch]:
        """The misspelt names in `text`, longest first, none overlapping each other or a `taken` span."""
        words = [(m.start(), m.end()) for m in WORD.finditer(text)]
        readings = [self.readings(text[start:end]) for start, end in words]
        found: List[NameMatch] = []
        occupied = list(taken)
        for first in range(len(words)):
            match = self._longest_name(words, readings, first, occupied)
            if match:
                found.append(match)
                occupied.append((match.start, match.end))
        return found

    def _longest_name(
        self, words: List[Span], readings: List[List[Reading]], first: int, occupied: List[Span]
    ) -> Optional[NameMatch]:
        """The longest name with a misspelt word that starts at word `first`, if any."""
        for count in range(min(self._longest, len(words) - first), 0, -1):
            start, end = words[first][0], words[first + count - 1][1]
            window = readings[first : first + count]
            if any(s < end and start < e for s, e in occupied) or not all(window):
                continue
            names = [
                (min(score for _, score in combination), combination)
                for combination in itertools.product(*window)
                if tuple(word for word, _ in combination) in self._names
            ]
            # All words as typed is the entity ruler's business.
            similarity, best = max((n for n in names if n[0] < 1.0), default=(1.0, None), key=lambda n: n[0])
            if best:
                label, spelling = self._names[tuple(word for word, _ in best)]
                corrections = tuple((*words[first + i], word) for i, (word, score) in enumerate(best) if score < 1.0)
                return NameMatch(label, spelling, start, end, similarity, corrections)
        return None
