"""Measure how well the assistant understands parents' questions (`make evaluate`).

Two measurements, because each alone can mislead:
  * 5-fold cross-validation on data/nlu/ shows whether the topics can be told apart
    at all with the training examples we have;
  * the trained model on tests/nlu/heldout.yml (wordings never seen in training)
    shows how it copes with new phrasings, and is the bar the issue sets.

For retrieval intents Rasa's intent report only knows the base intent `faq`; which
topic (faq/<topic>) was chosen is in the response selection report.
Exits non-zero when a held-out macro F1 (intent or response selection) is below the bar.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the actions package is beside scripts/

from actions.knowledge import load_topic_menu  # noqa: E402

RASA = Path(sys.executable).parent / "rasa"
BAR = 0.95
REPORTS = {"intent": "intent_report.json", "response selection": "response_selection_report.json"}


def run_rasa(args: List[str]) -> None:
    """Run `rasa test nlu ...` from the project root; stop with its exit code if it fails."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    command = [str(RASA), "test", "nlu", "--no-plot", "--quiet", *args]
    print("==>", " ".join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"rasa exited with {result.returncode}: {' '.join(command[1:])}")


def scores(report_file: Path) -> Optional[Dict[str, float]]:
    """Accuracy and macro F1 from a report Rasa wrote, or None if it wrote none."""
    if not report_file.exists():
        return None
    report = json.loads(report_file.read_text(encoding="utf-8"))
    # sklearn writes "accuracy", or "micro avg" when predictions hold extra labels.
    accuracy = report["accuracy"] if "accuracy" in report else report["micro avg"]["f1-score"]
    return {"accuracy": accuracy, "macro_f1": report["macro avg"]["f1-score"]}


def print_scores(title: str, out: Path) -> Dict[str, Optional[Dict[str, float]]]:
    found = {kind: scores(out / name) for kind, name in REPORTS.items()}
    print(f"\n{title}  (reports in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out})")
    for kind, result in found.items():
        if result is None:
            print(f"  {kind:<19} no report written")
        else:
            print(f"  {kind:<19} accuracy {result['accuracy']:.3f}   macro F1 {result['macro_f1']:.3f}")
    return found


def print_unsure_topics(out: Path) -> None:
    """What `min_confidence` (data/knowledge/topics.yml) does to the held-out topic answers.

    Below it the assistant suggests topics instead of answering: good for a wrong
    guess, a small cost for a right one.
    """
    threshold = load_topic_menu().min_confidence
    results = {}
    for kind in ("successes", "errors"):
        report = out / f"response_selection_{kind}.json"
        results[kind] = json.loads(report.read_text(encoding="utf-8")) if report.exists() else []
    held_back = {kind: sum(1 for r in found if r["intent_response_key_prediction"]["confidence"] < threshold)
                 for kind, found in results.items()}
    print(f"\nTopic answers below min_confidence {threshold} (suggestions instead of an answer)")
    print(f"  wrong topic:  {held_back['errors']} of {len(results['errors'])} become suggestions")
    print(f"  right topic:  {held_back['successes']} of {len(results['successes'])} become suggestions")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/jdm.tar.gz", help="trained model for the held-out test")
    parser.add_argument("--nlu", default="data/nlu", help="training data for cross-validation")
    parser.add_argument("--heldout", default="tests/nlu/heldout.yml")
    parser.add_argument("--out", default="results/evaluation", help="where Rasa writes its reports")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cross-validation", action="store_true",
                        help="only the held-out test (cross-validation trains 5 models: minutes)")
    args = parser.parse_args()

    model = ROOT / args.model
    if not model.exists():
        sys.exit(f"{args.model} is missing: train a model first (make train)")
    out = ROOT / args.out
    cv_out, heldout_out = out / "cross_validation", out / "heldout"

    if not args.skip_cross_validation:
        run_rasa(["--nlu", args.nlu, "--config", "config.yml", "--cross-validation",
                  "--folds", str(args.folds), "--out", str(cv_out)])
    run_rasa(["--nlu", args.heldout, "--model", str(model), "--out", str(heldout_out), "--successes"])

    if not args.skip_cross_validation:
        print_scores(f"{args.folds}-fold cross-validation on {args.nlu}", cv_out)
    heldout = print_scores(f"Held-out examples {args.heldout} with {args.model}", heldout_out)

    print_unsure_topics(heldout_out)

    failing = [kind for kind, result in heldout.items() if result is None or result["macro_f1"] < BAR]
    if failing:
        print(f"\nFAIL: held-out macro F1 below {BAR} for: {', '.join(failing)}")
        return 1
    print(f"\nOK: held-out macro F1 >= {BAR} for intents and response selection")
    return 0


if __name__ == "__main__":
    sys.exit(main())
