"""The learned half of triage: which tier one sentence signals.

The clinician's rules (data/safety/triage.yml) catch the words they list; a
frightened parent describes the same danger in words no list holds ("he's
gone a grey colour round his mouth"). A logistic regression reads each
sentence's MiniLM vector (what it means) and its word and character n-grams
(the words themselves; chosen on the development sets over the vector
alone, by scripts not kept: README, Safety),
trained on the tier-labelled examples of data/safety/triage_examples/, the
rules' own `fires` examples and the development sets' whole messages, sentence
by sentence (tests/triage_dev/). It only adds: components/triage_guard.py lets
it raise a message's tier where the sentence describes the child now, never
lower a rule's. `scripts/build_triage_model.py` trains it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from jdm_content.triage import RULE_TIERS, TIERS

WEIGHTS_FILE = "triage_model.npz"
INFO_FILE = "triage_model.json"
# The n-gram features' share beside the unit-length sentence vector.
SPARSE_WEIGHT = 0.5


class TriageModelError(ValueError):
    """The trained triage model is missing or does not fit this project."""


def _vectorizer(analyzer: str) -> TfidfVectorizer:
    if analyzer == "word":
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True)


def _fitted(analyzer: str, vocabulary: Sequence[str], idf: np.ndarray) -> TfidfVectorizer:
    vectorizer = _vectorizer(analyzer)
    vectorizer.set_params(vocabulary={term: index for index, term in enumerate(vocabulary)})
    vectorizer.fit([""] if analyzer == "char_wb" else ["x"])  # builds the analyser; idf is set next
    vectorizer.idf_ = idf
    return vectorizer


@dataclass(frozen=True)
class TriageModel:
    """Sentences (text and MiniLM vector) -> probability of each tier (TIERS order)."""

    weights: np.ndarray  # [features, tiers]
    bias: np.ndarray  # [tiers]
    words: TfidfVectorizer
    chars: TfidfVectorizer

    def _features(self, vectors: np.ndarray, sentences: Sequence[str]) -> csr_matrix:
        sparse = [SPARSE_WEIGHT * v.transform(list(sentences)) for v in (self.words, self.chars)]
        return hstack([csr_matrix(vectors), *sparse]).tocsr()

    def probabilities(self, vectors: np.ndarray, sentences: Sequence[str]) -> np.ndarray:
        if not len(sentences):
            return np.zeros((0, len(TIERS)), dtype=np.float32)
        scores = np.asarray(self._features(vectors, sentences) @ self.weights) + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def sentence_tiers(
        self,
        vectors: np.ndarray,
        sentences: Sequence[str],
        thresholds: Dict[str, float],
        may_say: Callable[[str, str], bool] = lambda tier, sentence: True,
    ) -> List[Tuple[str, float]]:
        """Per sentence, the most severe tier whose probability reaches its threshold ("none" if none does).

        `may_say(tier, sentence)` can veto a tier for a sentence (triage.yml `learned.only_with`).
        """
        result = []
        for sentence, row in zip(sentences, self.probabilities(vectors, sentences), strict=True):
            chosen = ("none", float(row[TIERS.index("none")]))
            for tier in RULE_TIERS:
                probability = float(row[TIERS.index(tier)])
                if tier in thresholds and probability >= thresholds[tier] and may_say(tier, sentence):
                    chosen = (tier, probability)
                    break
            result.append(chosen)
        return result

    def save(self, folder: Path, info: Dict[str, object]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(
            folder / WEIGHTS_FILE,
            weights=self.weights,
            bias=self.bias,
            word_idf=self.words.idf_,
            char_idf=self.chars.idf_,
        )
        vocabularies = {
            name: sorted(v.vocabulary_, key=v.vocabulary_.__getitem__)
            for name, v in (("words", self.words), ("chars", self.chars))
        }
        (folder / INFO_FILE).write_text(
            json.dumps({**info, "tiers": list(TIERS), **vocabularies}, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> TriageModel:
        try:
            info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS_FILE) as arrays:
                weights, bias = arrays["weights"], arrays["bias"]
                words = _fitted("word", info["words"], arrays["word_idf"])
                chars = _fitted("char_wb", info["chars"], arrays["char_idf"])
        except (OSError, KeyError, ValueError) as error:
            raise TriageModelError(f"{folder}: no trained triage model ({error}); run `make train`") from error
        if info.get("tiers") != list(TIERS) or weights.shape[1] != len(TIERS) or bias.shape != (len(TIERS),):
            raise TriageModelError(f"{folder}: trained for tiers {info.get('tiers')}, not {list(TIERS)}; retrain")
        return cls(weights.astype(np.float32), bias.astype(np.float32), words, chars)


def train(vectors: np.ndarray, sentences: Sequence[str], tiers: Sequence[str], c: float) -> TriageModel:
    """Multinomial logistic regression; classes weighted so the rare tiers count as much as calm."""
    labels = np.array([TIERS.index(tier) for tier in tiers])
    missing = set(range(len(TIERS))) - set(labels.tolist())
    if missing:
        raise TriageModelError(f"no training example of tier {', '.join(TIERS[i] for i in sorted(missing))}")
    words, chars = _vectorizer("word").fit(sentences), _vectorizer("char_wb").fit(sentences)
    untrained = TriageModel(np.zeros((0, 0)), np.zeros(0), words, chars)
    classifier = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    classifier.fit(untrained._features(vectors, sentences), labels)
    return TriageModel(classifier.coef_.T.astype(np.float32), classifier.intercept_.astype(np.float32), words, chars)
