"""Pretrained sentence features for the intent and topic classifier.

Rasa's LanguageModelFeaturizer takes BERT's [CLS] vector as the sentence
feature. all-MiniLM-L6-v2 was trained to compare sentences by the *mean* of
its token vectors, so this subclass uses that mean (L2-normalised, as the
model's own pipeline does) and keeps Rasa's token-level features as they are.
The model folder is checked against the official SHA-256 before it is loaded,
and the model runs in ONNX Runtime (components/onnx_encoder.py), not in
TensorFlow: Rasa keeps its tokenising, padding and feature bookkeeping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.model_data import ragged_array_to_ndarray
from transformers import BertTokenizer

from components.language_model import verify_folder
from components.onnx_encoder import load_encoder

TRAINING_BATCH = 64  # examples encoded together, as Rasa's featurizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(LanguageModelFeaturizer):
    """LanguageModelFeaturizer with mean-pooled sentence features from verified weights, run by ONNX Runtime."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # threads: per Rasa server process; several processes share the cores.
        return {**LanguageModelFeaturizer.get_default_config(), "threads": 1}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        weights = {**cls.get_default_config(), **config}.get("model_weights")
        if not weights:
            raise ValueError(
                "SentenceEmbeddingFeaturizer needs `model_weights`: the folder "
                "scripts/build_language_model.py prepares"
            )
        verify_folder(Path(weights))
        return cls(config, execution_context)

    def _load_model_instance(self) -> None:
        """The tokenizer Rasa expects, and the encoder in ONNX Runtime instead of a TensorFlow model."""
        folder = Path(self.model_weights)
        self.tokenizer = BertTokenizer.from_pretrained(str(folder))
        self.pad_token_id = self.tokenizer.unk_token_id  # as Rasa's own featurizer
        self._encode = load_encoder(folder, threads=int(self._config["threads"]))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Features for the examples' text only.

        Rasa's featurizer also encodes each example's response (the FAQ
        answers, six times the words of all examples together), which nothing
        in this pipeline reads: that was most of the training time.
        """
        examples = [example for example in training_data.training_examples if example.get(TEXT)]
        for start in range(0, len(examples), TRAINING_BATCH):
            batch = examples[start : start + TRAINING_BATCH]
            for doc, example in zip(self._get_docs_for_batch(batch, TEXT), batch, strict=True):
                self._set_lm_features(doc, example, TEXT)
        return training_data

    def _compute_batch_sequence_features(
        self, batch_attention_mask: np.ndarray, padded_token_ids: List[List[int]]
    ) -> np.ndarray:
        return self._encode(np.array(padded_token_ids), batch_attention_mask)

    def _lm_tokenize(self, text: Text) -> Tuple[List[int], List[Text]]:
        """Word pieces of one token; [UNK] for a token made only of characters BERT drops.

        Rasa skips such a token ("\u200b", a lone accent), so the dense features
        get one row fewer than the other featurizers' and the message crashes
        the classifier. One [UNK] keeps a row per token.
        """
        ids, pieces = super()._lm_tokenize(text)
        if ids:
            return ids, pieces
        return [self.tokenizer.unk_token_id], [self.tokenizer.unk_token]

    def _post_process_sequence_embeddings(self, sequence_embeddings: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        sentences, tokens = [], []
        for example in sequence_embeddings:
            mean = example.mean(axis=0)
            sentences.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            tokens.append(example[1:-1])  # without [CLS] and [SEP], as Rasa does
        return np.array(sentences), ragged_array_to_ndarray(tokens)
