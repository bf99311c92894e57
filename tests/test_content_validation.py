"""Every content file is checked when a server starts, not on a parent's first question."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.triage_guard import TriageGuard
from conftest import ROOT
from jdm_content import DataFileError, validate_all
from jdm_content.clinic import load_clinic
from jdm_content.directory import directory, matching
from jdm_content.fallback import load_fallback_texts
from jdm_content.knowledge import clear_caches
from jdm_content.lexicon import load_lexicon

# (file under data/, text to replace, replacement, words the error must contain)
BREAKAGES = [
    (
        "knowledge/terms.yml",
        "  - id: tacrolimus\n    topic: skin_treatment",
        "  - id: tacrolimus\n    topic: no_such_topic",
        ["terms.yml", "tacrolimus", "no_such_topic"],
    ),
    ("support_needs.yml", "    button: Research\n", "    button: ''\n", ["support_needs.yml", "research", "button"]),
    ("clinic.yml", "clinic:", "clinik:", ["clinic.yml", "clinic"]),
    ("safety/fallback.yml", "max_suggestions:", "max_suggestion:", ["fallback.yml", "max_suggestions"]),
]


def clear_all() -> None:
    clear_caches()
    for loader in (load_clinic, directory, matching, load_fallback_texts, load_lexicon):
        loader.cache_clear()


@pytest.fixture
def broken_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def breaking(relative: str, old: str, new: str) -> Path:
        data = tmp_path / "data"
        shutil.copytree(ROOT / "data", data)
        path = data / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} no longer has {old!r}: update this test"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        monkeypatch.setenv("JDM_DATA_DIR", str(data))
        clear_all()
        return data

    yield breaking
    monkeypatch.delenv("JDM_DATA_DIR", raising=False)
    clear_all()


def test_the_shipped_content_is_valid() -> None:
    validate_all()


@pytest.mark.parametrize("relative, old, new, words", BREAKAGES)
def test_the_action_server_refuses_to_start_on_a_broken_file(broken_data, relative, old, new, words) -> None:
    data = broken_data(relative, old, new)
    result = subprocess.run(
        [sys.executable, "-c", "import actions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, JDM_DATA_DIR=str(data)),
    )
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert "DataFileError" in error and all(word in error for word in words), error


@pytest.mark.parametrize("relative, old, new, words", BREAKAGES)
def test_the_rasa_server_refuses_to_load_the_model_on_a_broken_file(broken_data, relative, old, new, words) -> None:
    broken_data(relative, old, new)
    with pytest.raises(DataFileError) as error:
        TriageGuard.create({}, None, None, None)  # type: ignore[arg-type]
    assert all(word in str(error.value) for word in words), str(error.value)


def test_every_harmless_guess_is_a_domain_intent_answered_by_a_domain_response() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    guesses = load_fallback_texts().harmless_guesses
    assert set(guesses) <= set(domain["intents"])
    assert set(guesses.values()) <= set(domain["responses"])
