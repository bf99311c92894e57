"""Train the learned triage model (components/triage_model.py) from the examples in data/.

Teaching set: data/safety/triage_examples/*.yml (one or two sentences each,
with the tier a triage nurse would give) and the `fires` examples of every
rule in data/safety/triage.yml. Never the triage sets under tests/: the
development sets choose the thresholds, the sealed set judges.

`--cross-validate` prints 5-fold recall and precision by tier for several
regularisation strengths, to choose `--c`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: components/ is beside scripts/

from components.sentence_vectors import SentenceVectors  # noqa: E402
from components.triage_model import train  # noqa: E402
from jdm_content.triage import TIERS, load_triage, load_triage_examples  # noqa: E402

SENTENCE_MODEL = ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"
DEFAULT_OUTPUT = ROOT / "models" / "triage"
DEFAULT_C = 10.0
BATCH = 64


def teaching_set() -> List[Tuple[str, str]]:
    """(text, tier): the example files, then every rule's `fires` examples; duplicates once."""
    examples = list(load_triage_examples())
    for rule in load_triage().rules:
        examples += [(text, rule.tier) for text in rule.fires]
    return list(dict.fromkeys(examples))


def embed(vectors: SentenceVectors, texts: List[str]) -> np.ndarray:
    return np.vstack([vectors(texts[start : start + BATCH]) for start in range(0, len(texts), BATCH)])


def cross_validate(matrix: np.ndarray, texts: List[str], tiers: List[str], strengths: List[float]) -> None:
    from sklearn.model_selection import StratifiedKFold

    labels = np.array(tiers)
    for c in strengths:
        predicted = np.empty(len(tiers), dtype=object)
        for train_rows, test_rows in StratifiedKFold(5, shuffle=True, random_state=0).split(matrix, labels):
            model = train(matrix[train_rows], [texts[i] for i in train_rows], labels[train_rows].tolist(), c)
            probabilities = model.probabilities(matrix[test_rows], [texts[i] for i in test_rows])
            predicted[test_rows] = [TIERS[i] for i in probabilities.argmax(axis=1)]
        cells = []
        for tier in TIERS:
            truth, given = labels == tier, predicted == tier
            recall = (truth & given).sum() / max(truth.sum(), 1)
            precision = (truth & given).sum() / max(given.sum(), 1)
            cells.append(f"{tier} R {recall:.3f} P {precision:.3f}")
        print(f"C={c:<6g} " + " | ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=float, default=DEFAULT_C, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--cross-validate", action="store_true", help="5-fold figures for several C; writes nothing")
    args = parser.parse_args()
    examples = teaching_set()
    texts, tiers = [t for t, _ in examples], [tier for _, tier in examples]
    matrix = embed(SentenceVectors(SENTENCE_MODEL), texts)
    counts = ", ".join(f"{tier} {tiers.count(tier)}" for tier in TIERS)
    print(f"==> Triage model: {len(texts)} examples ({counts})")
    if args.cross_validate:
        cross_validate(matrix, texts, tiers, [1.0, 3.0, 10.0, 30.0, 100.0])
        return 0
    model = train(matrix, texts, tiers, args.c)
    digest = hashlib.sha256("\n".join(f"{tier}\t{text}" for text, tier in examples).encode()).hexdigest()
    model.save(args.out, {"examples": len(texts), "c": args.c, "examples_sha256": digest})
    print(f"    written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
