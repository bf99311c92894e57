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
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from components.language_model import verify_folder
from components.onnx_encoder import load_encoder
from jdm_content.files import PROJECT_ROOT, data_dir
from jdm_content.knowledge import load_topics
from jdm_content.nlu import read_nlu_examples

ENCODER_FOLDER = PROJECT_ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"
FAQ_PREFIX = "faq/"
BATCH = 16  # on these machines the fastest per question (larger batches pad more and run slower)
WORKER_SLICE = 512  # questions sent to a worker process at a time
DIMENSIONS = 384  # all-MiniLM-L6-v2's sentence vector
CACHE = PROJECT_ROOT / "var" / "report-cache" / "topic-centroids.npz"
MAX_TOKENS = 128  # a question longer than this is compared by its beginning


class _Model:
    """The tokenizer and the ONNX encoder, in one process."""

    def __init__(self, folder: Path) -> None:
        from transformers import BertTokenizerFast

        self._tokenizer = BertTokenizerFast.from_pretrained(str(folder))
        self._encode = load_encoder(folder, threads=1)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Mean of the token vectors, unit length; texts of similar length together (less padding)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            batch = [texts[i] for i in order[start : start + BATCH]]
            tokens = self._tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            mean = (self._encode(tokens["input_ids"], tokens["attention_mask"]) * mask).sum(axis=1) / mask.sum(axis=1)
            result[order[start : start + BATCH]] = mean
        return result / np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-12)


_worker_model: Optional[_Model] = None


def _start_worker(folder: Path) -> None:
    global _worker_model
    _worker_model = _Model(folder)


def _vectors_in_worker(texts: Sequence[str]) -> np.ndarray:
    assert _worker_model is not None, "the worker's initializer loads the model"
    return _worker_model.vectors(texts)


class SentenceEncoder:
    """Texts -> unit-length sentence vectors, with the project's verified MiniLM, on every core.

    With several processes the model loads in each as soon as the encoder is
    made, while the report is still reading the store.
    """

    def __init__(self, folder: Path = ENCODER_FOLDER, processes: Optional[int] = None) -> None:
        verify_folder(folder)
        self._processes = processes or os.cpu_count() or 1
        self._model: Optional[_Model] = None
        self._pool: Optional[ProcessPoolExecutor] = None
        if self._processes == 1:
            self._model = _Model(folder)
            return
        self._pool = ProcessPoolExecutor(
            self._processes, mp_context=get_context("fork"), initializer=_start_worker, initargs=(folder,)
        )
        for _ in range(self._processes):
            self._pool.submit(int)  # start every worker now: each loads the model meanwhile

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is not None:
            return self._model.vectors(texts)
        assert self._pool is not None
        # Shortest first, in slices dealt out to the workers: each slice pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        slices = [order[start : start + WORKER_SLICE] for start in range(0, len(order), WORKER_SLICE)]
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for indices, vectors in zip(
            slices, self._pool.map(_vectors_in_worker, [[texts[i] for i in part] for part in slices]), strict=True
        ):
            result[indices] = vectors
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


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
