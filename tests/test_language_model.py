"""The pretrained sentence encoder: official files only, loaded for real, useful features."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from components.language_model import OFFICIAL_SHA256, UnverifiedModelError, verify_folder
from components.sentence_embeddings import SentenceEmbeddingFeaturizer
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import build_language_model as builder  # noqa: E402

MODEL_DIR = ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"


def featurizer_config(folder: Path) -> dict:
    return {**SentenceEmbeddingFeaturizer.get_default_config(), "model_name": "bert", "model_weights": str(folder)}


def tampered_zip(tmp_path: Path, wrong: str) -> Path:
    """A copy of the package's model.zip with one file's bytes changed."""
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(builder.package_zip()) as original, zipfile.ZipFile(archive, "w") as copy:
        for name in (*OFFICIAL_SHA256, *builder.EXTRA_FILES):
            data = original.read(name)
            copy.writestr(name, data + b" " if name == wrong else data)
    return archive


def test_the_prepared_folder_holds_the_official_files_and_a_vocabulary() -> None:
    verify_folder(MODEL_DIR)
    vocab = (MODEL_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab[0] == "[PAD]" and "[CLS]" in vocab and "muscle" in vocab and len(vocab) == 30522


@pytest.mark.parametrize("wrong", sorted(OFFICIAL_SHA256))
def test_the_build_refuses_any_file_that_is_not_the_official_one(tmp_path: Path, wrong: str) -> None:
    output = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_language_model.py"),
            "--archive",
            str(tampered_zip(tmp_path, wrong)),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"{wrong}: sha256" in result.stderr and "refusing to use it" in result.stderr
    assert not output.exists()


def test_the_featurizer_refuses_an_unverified_folder(tmp_path: Path) -> None:
    for name in OFFICIAL_SHA256:
        (tmp_path / name).write_bytes((MODEL_DIR / name).read_bytes())
    (tmp_path / "config.json").write_text("{}")
    context = ExecutionContext(GraphSchema({}), node_name="lm")
    with pytest.raises(UnverifiedModelError, match="config.json"):
        SentenceEmbeddingFeaturizer.create(featurizer_config(tmp_path), None, None, context)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def featurizer() -> SentenceEmbeddingFeaturizer:
    context = ExecutionContext(GraphSchema({}), node_name="lm")
    return SentenceEmbeddingFeaturizer.create(featurizer_config(MODEL_DIR), None, None, context)  # type: ignore[arg-type]


def sentence_vectors(featurizer: SentenceEmbeddingFeaturizer, texts: List[str]) -> np.ndarray:
    messages = [Message.build(text=text) for text in texts]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    featurizer.process(messages)
    return np.stack([m.get_dense_features("text")[1].features[0] for m in messages])


def test_paraphrases_land_close_and_unrelated_questions_far(featurizer: SentenceEmbeddingFeaturizer) -> None:
    rash, paraphrase, weather = sentence_vectors(
        featurizer,
        [
            "What does the JDM rash look like?",
            "my daughter has purple patches on her eyelids, is that the rash",
            "will it rain tomorrow",
        ],
    )
    assert np.isclose(np.linalg.norm(rash), 1.0, atol=1e-4)
    assert float(rash @ paraphrase) > 0.4 > 0.1 > float(rash @ weather)


def test_token_features_match_rasas_tokens(featurizer: SentenceEmbeddingFeaturizer) -> None:
    message = Message.build(text="is methotrexate safe")
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    featurizer.process([message])
    sequence, sentence = message.get_dense_features("text")
    assert sequence.features.shape == (3, 384) and sentence.features.shape == (1, 384)


@pytest.mark.parametrize("text", ["\u200b", "hi \u200b there", "rash \u0301 ok", "\u200e\u200f"])
def test_tokens_made_of_characters_bert_drops_still_get_a_feature_row(featurizer, text: str) -> None:
    [message] = [Message.build(text=text)]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    featurizer.process([message])
    sequence, sentence = message.get_dense_features("text")
    assert sequence.features.shape[0] == len(message.get("text_tokens"))
    assert sentence.features.shape == (1, 384)


def test_the_onnx_encoder_gives_the_reference_models_token_vectors() -> None:
    """The hand-written ONNX graph against Hugging Face's own BertModel on the same verified weights."""
    from transformers import BertTokenizer, TFBertModel

    from components.onnx_encoder import load_encoder

    tokenizer = BertTokenizer.from_pretrained(str(MODEL_DIR))
    texts = ["my daughter has a purple rash on her eyelids, is that jdm?", "why?"]
    ids = [tokenizer(text)["input_ids"] for text in texts]
    width = max(map(len, ids))
    padded = np.array([row + [tokenizer.unk_token_id] * (width - len(row)) for row in ids])
    mask = np.array([[1] * len(row) + [0] * (width - len(row)) for row in ids])
    ours = load_encoder(MODEL_DIR)(padded, mask)
    reference = TFBertModel.from_pretrained(str(MODEL_DIR))(padded, attention_mask=mask)[0].numpy()
    for row, length in enumerate(map(len, ids)):  # padding positions are never read
        assert np.abs(ours[row, :length] - reference[row, :length]).max() < 1e-4
