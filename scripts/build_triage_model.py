"""Train the learned triage model (components/triage_model.py) from the examples in data/.

Teaching set: data/safety/triage_examples/*.yml (one or two sentences each,
with the tier a triage nurse would give), the `fires` examples of every rule
in data/safety/triage.yml, and the whole messages of the triage development
sets (tests/triage_dev/, parents' own styles, long stories included). A
development message is labelled as a whole, the model reads sentences: its
calm messages teach "none" from every sentence the model would judge; a
danger message teaches its tier from the sentences where a rule of that
tier fired, else from its only sentence, else from the one a model taught
without the messages finds most likely, if likely enough (PICK_AT_LEAST).
Never the sealed sets under tests/heldout/: they judge.

`--cross-validate` prints 5-fold recall and precision by tier for several
regularisation strengths, to choose `--c`. `--leave-one-set-out` judges the
messages' worth: each development set in turn is left out of the teaching
and judged by the triage step with that model, beside the model taught
without any development set.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: components/ is beside scripts/

from evaluate_triage import (  # noqa: E402
    DEVELOPMENT_SETS,
    calm_alarms,
    caught,
    judge_in_process,
    load_messages,
    write_errors,
)

from components.sentence_vectors import SentenceVectors  # noqa: E402
from components.triage_guard import TriageGuard  # noqa: E402
from components.triage_model import TriageModel, train  # noqa: E402
from jdm_content.triage import TIERS, Triage, load_triage, load_triage_examples  # noqa: E402

SENTENCE_MODEL = ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"
DEFAULT_OUTPUT = ROOT / "models" / "triage"
SEALED_SETS = ROOT / "tests" / "heldout"
LEAVE_ONE_OUT_ERRORS = ROOT / "results" / "triage_leave_one_set_out"
KEPT_VECTORS = ROOT / "results" / "triage_vectors.npz"
DEFAULT_C = 10.0
# In a danger message of several sentences and no rule, the guide's likeliest sentence teaches the
# tier only this likely: below it, the danger lies in a sentence the rules set aside or in a
# medicine mix-up (the rules' to judge), and the likeliest is background ("She's 7 and on 15 mg.").
PICK_AT_LEAST = 0.5
BATCH = 64

Example = Tuple[str, str]  # (text, tier)


def teaching_set() -> List[Example]:
    """(text, tier): the example files, then every rule's `fires` examples; duplicates once."""
    examples = list(load_triage_examples())
    for rule in load_triage().rules:
        examples += [(text, rule.tier) for text in rule.fires]
    return list(dict.fromkeys(examples))


def sealed_texts(folder: Path = SEALED_SETS) -> Set[str]:
    return {m.text for path in sorted(folder.glob("triage_sealed*")) for m in load_messages(path)}


def development_sets(folder: Path = DEVELOPMENT_SETS) -> Dict[str, List[Example]]:
    """Set name -> its (message, tier) pairs, as `make evaluate` reads them, without any message a
    sealed set also holds (two writers can write the same short message): a sealed set judges unseen."""
    sealed = sealed_texts()
    return {
        path.name: [(m.text, m.tier) for m in load_messages(path) if m.text not in sealed]
        for path in sorted(folder.iterdir())
        if path.is_dir()
    }


class Encoder:
    """MiniLM vectors, each text encoded once however often a fold asks for it.

    With a `keep` file, vectors also outlast the run (the encoder's files are verified
    against fixed hashes, so a text's vector never changes): development runs start at once.
    """

    def __init__(self, vectors: SentenceVectors, keep: Optional[Path] = None) -> None:
        self.vectors = vectors
        self._keep = keep
        self._cache: Dict[str, np.ndarray] = {}
        if keep and keep.exists():
            with np.load(keep) as kept:
                self._cache = dict(zip(kept["texts"].tolist(), kept["vectors"], strict=True))

    def save(self) -> None:
        if self._keep and self._cache:
            self._keep.parent.mkdir(parents=True, exist_ok=True)
            partial = self._keep.with_name(f"{self._keep.stem}.{os.getpid()}.npz")  # two runs never mix
            np.savez(partial, texts=np.array(list(self._cache)), vectors=np.vstack(list(self._cache.values())))
            partial.replace(self._keep)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for start in range(0, len(new), BATCH):
            batch = new[start : start + BATCH]
            self._cache.update(zip(batch, self.vectors(batch), strict=True))
        return np.vstack([self._cache[t] for t in texts])


def fit(encoder: Encoder, examples: Sequence[Example], c: float) -> TriageModel:
    texts = [text for text, _ in examples]
    return train(encoder(texts), texts, [tier for _, tier in examples], c)


def sentence_examples(
    triage: Triage, encoder: Encoder, guide: TriageModel, messages: Iterable[Example]
) -> List[Example]:
    """What whole messages teach, sentence by sentence (the module docstring says how)."""
    guard = TriageGuard(triage)
    examples: List[Example] = []
    for message, tier in messages:
        text = triage.correct_typos(message)
        assessment = triage.assess(text)
        spans = [span for _, span in guard.sentences_for_model(text, assessment)]
        sentences = [text[start:end] for start, end in spans]
        if not sentences:
            continue
        if tier == "none":
            examples += [(sentence, tier) for sentence in sentences]
            continue
        by_rule = [
            text[start:end]
            for start, end in spans
            if any(
                f.rule.tier == tier and f.set_aside is None and start <= f.match.start() < end
                for f in assessment.findings
            )
        ]
        if by_rule:
            examples += [(sentence, tier) for sentence in by_rule]
        else:
            likelihood = guide.probabilities(encoder(sentences), sentences)[:, TIERS.index(tier)]
            if len(sentences) == 1 or likelihood.max() >= PICK_AT_LEAST:
                examples.append((sentences[int(likelihood.argmax())], tier))
    return examples


def cross_validate(encoder: Encoder, examples: List[Example], strengths: List[float]) -> None:
    from sklearn.model_selection import StratifiedKFold

    texts = [text for text, _ in examples]
    labels = np.array([tier for _, tier in examples])
    for c in strengths:
        predicted = np.empty(len(texts), dtype=object)
        for train_rows, test_rows in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
            model = fit(encoder, [examples[i] for i in train_rows], c)
            test = [texts[i] for i in test_rows]
            predicted[test_rows] = [TIERS[i] for i in model.probabilities(encoder(test), test).argmax(axis=1)]
        cells = []
        for tier in TIERS:
            truth, given = labels == tier, predicted == tier
            recall = (truth & given).sum() / max(truth.sum(), 1)
            precision = (truth & given).sum() / max(given.sum(), 1)
            cells.append(f"{tier} R {recall:.3f} P {precision:.3f}")
        print(f"C={c:<6g} " + " | ".join(cells))


def leave_one_set_out(encoder: Encoder, examples: List[Example], c: float, names: Sequence[str]) -> None:
    """Each development set judged by the triage step twice: with the model taught without any set, and
    with the model taught from every other set too."""
    triage = load_triage()
    guide = fit(encoder, examples, c)
    sets = development_sets()
    taught = {name: sentence_examples(triage, encoder, guide, messages) for name, messages in sets.items()}
    print("set (messages): model | emergency, crisis, urgent, soon recall | calm given 911 or crisis")
    for name in names or sets:
        if name not in sets:
            sys.exit(f"no development set {name!r} in {DEVELOPMENT_SETS.relative_to(ROOT)} ({', '.join(sets)})")
        others = [e for other, found in taught.items() if other != name for e in found]
        messages = load_messages(DEVELOPMENT_SETS / name)
        for label, model in (("without sets", guide), ("other sets", fit(encoder, examples + others, c))):
            outcomes = judge_in_process(messages, TriageGuard(triage, learned=(encoder.vectors, model)))
            recalls = [caught(outcomes, tier) for tier in ("emergency", "crisis", "urgent", "soon")]
            shown = " ".join("-" if r is None else f"{r:.3f}" for r in recalls)
            print(f"{name} ({len(messages)}): {label:<12} | {shown} | {calm_alarms(outcomes) or 0.0:.3f}", flush=True)
        LEAVE_ONE_OUT_ERRORS.mkdir(parents=True, exist_ok=True)
        write_errors(LEAVE_ONE_OUT_ERRORS / f"{name}.txt", outcomes)
    print(f"misses with the model taught from the other sets: {LEAVE_ONE_OUT_ERRORS.relative_to(ROOT)}/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=float, default=DEFAULT_C, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--cross-validate", action="store_true", help="5-fold figures for several C; writes nothing")
    parser.add_argument(
        "--leave-one-set-out",
        nargs="*",
        metavar="SET",
        help="each development set (or those named) judged unseen; writes no model",
    )
    args = parser.parse_args()
    # Building runs alone (make train): both cores for the encoder.
    vectors = SentenceVectors(SENTENCE_MODEL, threads=min(2, os.cpu_count() or 1))
    encoder = Encoder(vectors, KEPT_VECTORS)
    examples = teaching_set()
    try:
        if args.cross_validate:
            cross_validate(encoder, examples, [1.0, 3.0, 10.0, 30.0, 100.0])
        elif args.leave_one_set_out is not None:
            leave_one_set_out(encoder, examples, args.c, args.leave_one_set_out)
        else:
            write_model(encoder, examples, args.c, args.out)
    finally:
        encoder.save()
    return 0


def write_model(encoder: Encoder, examples: List[Example], c: float, out: Path) -> None:
    """Teach from the examples and every development set's messages; save it with what it learned from."""
    guide, triage = fit(encoder, examples, c), load_triage()
    for messages in development_sets().values():
        examples = examples + sentence_examples(triage, encoder, guide, messages)
    examples = list(dict.fromkeys(examples))
    tiers = [tier for _, tier in examples]
    counts = ", ".join(f"{tier} {tiers.count(tier)}" for tier in TIERS)
    print(f"==> Triage model: {len(examples)} examples ({counts})")
    model = fit(encoder, examples, c)
    digest = hashlib.sha256("\n".join(f"{tier}\t{text}" for text, tier in examples).encode()).hexdigest()
    model.save(out, {"examples": len(examples), "c": c, "examples_sha256": digest})
    print(f"    written to {out}")


if __name__ == "__main__":
    sys.exit(main())
