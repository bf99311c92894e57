"""The Makefile's promises: retrain when inputs change, with --force for the lexicon."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "jdm.tar.gz"
PIPELINE = ROOT / "models" / "spacy" / "jdm_en" / "meta.json"


def dry_run(*targets: str, **edited: str) -> str:
    """What `make` would run if the given files (paths as the Makefile names them) had just been edited."""
    what_if = [f"--what-if={path}" for path in edited.values()]
    result = subprocess.run(["make", "-n", *what_if, *targets], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture(autouse=True)
def built_model() -> None:
    if not (MODEL.exists() and PIPELINE.exists()):
        pytest.skip("needs a trained model (make test trains one first)")


def test_nothing_is_rebuilt_when_nothing_changed() -> None:
    assert "rasa train" not in dry_run("train")
    assert "pip install" not in dry_run("train")


def test_changed_training_data_retrains_without_force() -> None:
    out = dry_run("train", data="data/nlu/basics.yml")
    assert "rasa train" in out
    assert "--force" not in out
    assert "build_spacy_pipeline" not in out


def test_changed_lexicon_rebuilds_the_pipeline_and_forces_retraining() -> None:
    out = dry_run("train", lexicon="data/lexicon.yml")
    assert "build_spacy_pipeline.py" in out
    assert "rasa train" in out and "--force" in out


def test_missing_python310_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    result = subprocess.run([str(ROOT / "scripts" / "find_python310.sh")], capture_output=True, text=True, env=env)
    if result.returncode == 0:
        pytest.skip(f"this machine has a system Python 3.10: {result.stdout.strip()}")
    assert result.stderr.strip().count("\n") == 0
    assert "Python 3.10 not found" in result.stderr
