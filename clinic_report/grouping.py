"""Grouping the questions the assistant could not answer, so near-duplicates show once with their count.

Questions are compared by the sentence encoder the assistant itself uses
(all-MiniLM-L6-v2, verified, run in ONNX Runtime: components/onnx_encoder.py),
as the mean of its token vectors, as the model's own pipeline and our
featurizer do. Each group is also given the FAQ topic it is nearest to: the
mean vector of that topic's training examples (data/nlu, faq/<topic>), so an
editor sees which answer to extend or which examples to write.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from components.language_model import verify_folder
from components.onnx_encoder import load_encoder
from jdm_content.files import PROJECT_ROOT, data_dir
from jdm_content.knowledge import load_topics
from jdm_content.nlu import read_nlu_examples

ENCODER_FOLDER = PROJECT_ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"
FAQ_PREFIX = "faq/"
BATCH = 16  # on these machines the fastest per question (larger batches pad more and run slower)
CACHE = PROJECT_ROOT / "var" / "report-cache" / "topic-centroids.npz"
MAX_TOKENS = 128  # a question longer than this is compared by its beginning


class SentenceEncoder:
    """Texts -> unit-length sentence vectors, with the project's verified MiniLM."""

    def __init__(self, folder: Path = ENCODER_FOLDER, threads: int = 1) -> None:
        from transformers import BertTokenizerFast

        verify_folder(folder)
        self._tokenizer = BertTokenizerFast.from_pretrained(str(folder))
        self._encode = load_encoder(folder, threads=threads)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        # Similar lengths together: less padding to run through the model.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            batch = [texts[i] for i in order[start : start + BATCH]]
            tokens = self._tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            mean = (self._encode(tokens["input_ids"], tokens["attention_mask"]) * mask).sum(axis=1) / mask.sum(axis=1)
            if not result.shape[1]:
                result = np.zeros((len(texts), mean.shape[1]), dtype=np.float32)
            result[order[start : start + BATCH]] = mean
        return result / np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class Group:
    """Questions that mean nearly the same; `wordings` are the most frequent, best first."""

    count: int
    wordings: Tuple[Tuple[str, int], ...]
    topic: str
    similarity: float


def topic_centroids(encoder: SentenceEncoder, cache: Path = CACHE) -> Tuple[List[str], np.ndarray]:
    """Each FAQ topic's mean example vector (data/nlu, faq/<topic>), normalised.

    Kept in var/report-cache/ until an example changes: encoding them all takes seconds.
    """
    by_topic: Dict[str, List[str]] = {}
    for text, intent in read_nlu_examples(sorted((data_dir() / "nlu").glob("*.yml"))):
        if intent.startswith(FAQ_PREFIX) and intent[len(FAQ_PREFIX) :] in load_topics():
            by_topic.setdefault(intent[len(FAQ_PREFIX) :], []).append(text)
    topics = sorted(by_topic)
    digest = hashlib.sha256(json.dumps([topics, by_topic], sort_keys=True).encode("utf-8")).hexdigest()
    if cache.exists():
        kept = np.load(cache)
        if str(kept["digest"]) == digest:
            return topics, kept["centroids"]
    vectors = encoder.vectors([text for topic in topics for text in by_topic[topic]])
    centroids, start = [], 0
    for topic in topics:
        mean = vectors[start : start + len(by_topic[topic])].mean(axis=0)
        centroids.append(mean / np.linalg.norm(mean))
        start += len(by_topic[topic])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, digest=np.array(digest), centroids=np.array(centroids))
    return topics, np.array(centroids)


def group_questions(questions: Counter, encoder: SentenceEncoder, similarity: float) -> List[Group]:
    """Most asked first: each question joins the group whose first question is nearest, if near enough.

    `questions` are masked texts with their counts. Asked-most questions lead
    the groups, so a group is named by its commonest wording.
    """
    if not questions:
        return []
    texts = sorted(questions, key=lambda text: (-questions[text], text))
    vectors = encoder.vectors(texts)
    leaders = np.zeros_like(vectors)
    members: List[List[int]] = []
    for index, vector in enumerate(vectors):
        if members:
            scores = leaders[: len(members)] @ vector
            best = int(np.argmax(scores))
            if scores[best] >= similarity:
                members[best].append(index)
                continue
        leaders[len(members)] = vector
        members.append([index])
    topics, centroids = topic_centroids(encoder)
    groups = []
    for indices in members:
        weights = np.array([questions[texts[i]] for i in indices], dtype=np.float32)
        mean = (vectors[indices] * weights[:, None]).sum(axis=0)
        scores = centroids @ (mean / np.linalg.norm(mean))
        nearest = int(np.argmax(scores))
        groups.append(
            Group(
                count=int(weights.sum()),
                wordings=tuple((texts[i], questions[texts[i]]) for i in indices),
                topic=topics[nearest],
                similarity=round(float(scores[nearest]), 3),
            )
        )
    return sorted(groups, key=lambda group: (-group.count, group.wordings[0][0]))
