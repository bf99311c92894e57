"""One vector per sentence, from the verified all-MiniLM-L6-v2, for the triage step.

The featurizer gives one vector for a whole message; a long story's danger
sits in one of its sentences, so triage compares sentence by sentence. The
vectors are made as the model's own pipeline makes them (mean of the token
vectors, L2-normalised) with the fast tokenizer, and the ONNX encoder is the
featurizer's (components/onnx_encoder.py), shared in the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from transformers import BertTokenizerFast

from components.language_model import verify_folder
from components.onnx_encoder import load_encoder

# Word pieces per sentence; a longer sentence is cut (a parent's run-on sentence rarely reaches it).
MAX_PIECES = 128


class SentenceVectors:
    """Sentences in, unit vectors out ([n, 384])."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        verify_folder(folder)
        self._tokenizer = BertTokenizerFast.from_pretrained(str(folder))
        self._encode = load_encoder(folder, threads)

    def __call__(self, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, 0), dtype=np.float32)
        batch = self._tokenizer(
            list(sentences), padding=True, truncation=True, max_length=MAX_PIECES, return_tensors="np"
        )
        mask = batch["attention_mask"]
        tokens = self._encode(batch["input_ids"], mask)
        summed = (tokens * mask[:, :, None]).sum(axis=1)
        means = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)).astype(np.float32)
