"""The project's own spaCy pipeline: built from data/lexicon.yml, loaded for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import build_spacy_pipeline as builder  # noqa: E402

LEXICON = yaml.safe_load((ROOT / "data" / "lexicon.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> spacy.language.Language:
    """Build with the real script into a temp dir and load it as Rasa does."""
    output = tmp_path_factory.mktemp("spacy") / "jdm_en"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_spacy_pipeline.py"), "--output", str(output)],
        check=True,
        capture_output=True,
    )
    return spacy.load(output)


def entities(nlp: spacy.language.Language, text: str) -> list[tuple[str, str]]:
    return [(ent.label_, ent.ent_id_) for ent in nlp(text).ents]


@pytest.mark.parametrize("label", sorted(LEXICON))
def test_every_lexicon_variant_comes_back_as_its_term(built, label: str) -> None:
    for entry in LEXICON[label]:
        for variant in entry["variants"] + entry.get("exact_variants", []):
            found = entities(built, f"what about {variant} please")
            assert found == [(label, entry["id"])], f"{variant!r} gave {found}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my son is on MTX and plaquenil", [("drug", "methotrexate"), ("drug", "hydroxychloroquine")]),
        ("What is SOLU-MEDROL?", [("drug", "methylprednisolone")]),
        ("she has gottrons papules on her knuckles", [("symptom", "gottron")]),
        ("the doctor wants a muscle biopsy and an MRI", [("test", "muscle_biopsy"), ("test", "mri")]),
        ("how do I call Cure JM", [("organisation", "cure_jm")]),
        ("we live in the US", [("region", "us")]),
        ("can you tell us more", []),
        ("my daughter has a rash", []),
    ],
)
def test_terms_found_in_parents_sentences(built, text: str, expected: list) -> None:
    assert entities(built, text) == expected


def test_lookup_lemmatizer_is_part_of_the_pipeline(built) -> None:
    assert [token.lemma_ for token in built("muscles were hurting")] == ["muscle", "be", "hurt"]


def test_pipeline_version_follows_the_lexicon(built) -> None:
    digest = builder.lexicon_digest(builder.DEFAULT_LEXICON)
    assert built.meta["version"].endswith(digest)


@pytest.mark.parametrize(
    "content, message",
    [
        ("drug: [", "not valid YAML"),
        ("drug:\n  - id: x\n    name: X\n", "drug[0]: missing 'variants'"),
        (
            "drug:\n  - id: a\n    name: A\n    variants: [same]\n"
            "test:\n  - id: b\n    name: B\n    variants: [Same]\n",
            "also listed under drug/a",
        ),
        ("drug: methotrexate\n", "'drug' must be a list"),
    ],
)
def test_a_broken_lexicon_gives_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    lexicon = tmp_path / "lexicon.yml"
    lexicon.write_text(content)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_spacy_pipeline.py"),
            "--lexicon",
            str(lexicon),
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "out").exists()
