"""Pretrained sentence features for the intent and topic classifier.

Rasa's LanguageModelFeaturizer takes BERT's [CLS] vector as the sentence
feature. all-MiniLM-L6-v2 was trained to compare sentences by the *mean* of
its token vectors, so this subclass uses that mean (L2-normalised, as the
model's own pipeline does) and keeps Rasa's token-level features as they are.
The model folder is checked against the official SHA-256 before it is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import numpy as np
import tensorflow as tf
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.utils.tensorflow.model_data import ragged_array_to_ndarray

from components.language_model import verify_folder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(LanguageModelFeaturizer):
    """LanguageModelFeaturizer with mean-pooled sentence features from verified weights."""

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
        featurizer = cls(config, execution_context)
        # Trace the graph now, at start-up, not on a parent's first message.
        featurizer._compute_batch_sequence_features(np.ones((1, 2)), [[0, 0]])
        return featurizer

    _encoder: Optional[Callable[[tf.Tensor, tf.Tensor], tf.Tensor]] = None

    def _compute_batch_sequence_features(
        self, batch_attention_mask: np.ndarray, padded_token_ids: List[List[int]]
    ) -> np.ndarray:
        """The model's token vectors, run as one compiled TensorFlow graph.

        Rasa calls the Keras model eagerly, which costs several times the
        model's own arithmetic on a short message; the graph is traced once
        for any batch and length.
        """
        if self._encoder is None:
            spec = tf.TensorSpec(shape=[None, None], dtype=tf.int32)
            self._encoder = tf.function(
                lambda ids, mask: self.model(ids, attention_mask=mask)[0], input_signature=[spec, spec]
            )
        hidden = self._encoder(
            tf.constant(padded_token_ids, dtype=tf.int32), tf.constant(batch_attention_mask, dtype=tf.int32)
        )
        return hidden.numpy()

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
