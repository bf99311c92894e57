"""Measure how well the assistant answers parents' questions (`make evaluate`).

Three measurements, because each alone can mislead:
  * 5-fold cross-validation on data/nlu/ shows whether the intents and topics can
    be told apart at all with the training examples we have;
  * the trained model on tests/nlu/heldout.yml (intent level only, kept to compare
    with earlier figures);
  * the bar: end to end on tests/heldout/questions.yml through the REST channel.
    Each question opens a new conversation and is right if the bot's replies hold
    the answer the project data gives for one of its `expect` labels (see
    `expected`). A TF-IDF nearest-neighbour baseline answers the same questions,
    so the figure shows what the assistant adds over matching words.

Exits 1 unless end-to-end accuracy >= 0.95 and it beats the baseline by >= 10 points.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: jdm_content is beside scripts/

from jdm_content.directory import directory, matching  # noqa: E402
from jdm_content.knowledge import (  # noqa: E402
    FollowUps,
    Term,
    Topic,
    load_follow_ups,
    load_terms,
    load_topic_menu,
    load_topics,
)
from jdm_content.lexicon import Lexicon, load_lexicon  # noqa: E402
from jdm_content.nlu import read_nlu_examples  # noqa: E402
from live_servers import running_servers, say  # noqa: E402

E2E_BAR = 0.95
MARGIN_BAR = 0.10  # over the baseline
REPORTS = {"intent": "intent_report.json", "response selection": "response_selection_report.json"}
# Labels answered by one fixed domain response, and the intent the baseline must predict for them.
RESPONSES = {
    "emergency": "utter_emergency",
    "crisis": "utter_crisis",
    "urgent": "utter_triage_urgent",
    "human": "utter_human_contact",
    "not_covered": "utter_not_covered",
    "clinic_admin": "utter_clinic_contact",
    "out_of_scope": "utter_out_of_scope",
    "greet": "utter_greet",
    "thank": "utter_thank",
    "goodbye": "utter_goodbye",
}
INTENTS = {
    "emergency": "emergency",
    "human": "ask_human",
    "not_covered": "ask_not_covered",
    "clinic_admin": "ask_clinic_admin",
    "out_of_scope": "out_of_scope",
    "greet": "greet",
    "thank": "thank",
    "goodbye": "goodbye",
}


# --- grading the assistant's replies -------------------------------------------------


class UnknownLabel(ValueError):
    """An `expect` label nothing in the project data answers."""


@dataclass(frozen=True)
class Question:
    text: str
    expect: Tuple[str, ...]
    style: str

    @property
    def family(self) -> str:
        """faq, term, ... or e.g. "faq+term" when labels of both are acceptable."""
        return "+".join(sorted({label.split("/")[0] for label in self.expect}))


@dataclass(frozen=True)
class Content:
    """What right answers contain, read from the project data so nothing is hand-written."""

    responses: Dict[str, str]  # domain response -> text of its first variant
    terms: Dict[str, Term]
    follow_ups: FollowUps
    topics: Dict[str, Topic]
    organisations: Dict[str, str]  # id -> name
    regions: Dict[str, str]  # id -> display name

    @classmethod
    def load(cls, root: Path = ROOT) -> Content:
        domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
        responses = {name: variants[0].get("text", "") for name, variants in domain["responses"].items()}
        return cls(
            responses,
            load_terms().by_id,
            load_follow_ups(),
            load_topics(),
            {org_id: org.name for org_id, org in directory().items()},
            {region_id: region.name for region_id, region in matching().regions.items()},
        )


@dataclass(frozen=True)
class Expected:
    """Every group must appear in some reply, each group by any one of its texts."""

    groups: Tuple[Tuple[str, ...], ...]
    missing: Tuple[str, ...] = ()  # domain responses it needs that domain.yml lacks: never met

    def met_by(self, replies: Sequence[str]) -> bool:
        return not self.missing and all(
            any(text in reply for text in group for reply in replies) for group in self.groups
        )


def normalise(text: str) -> str:
    return " ".join(text.split())


def first_paragraph(text: str) -> str:
    """The part every reply message must show: REST sends each "\\n\\n" paragraph apart,
    and {placeholders} are filled at run time, so stop at the first "{"."""
    return normalise(text.split("\n\n")[0].split("{")[0])


def _expect(content: Content, responses: Iterable[str] = (), texts: Iterable[str] = ()) -> Expected:
    """Expect the first paragraph of each named domain response and of each text."""
    responses = list(responses)
    missing = tuple(name for name in responses if name not in content.responses)
    paragraphs = [content.responses[name] for name in responses if name not in missing] + list(texts)
    return Expected(tuple((first_paragraph(text),) for text in paragraphs), missing)


def expected(label: str, content: Content) -> Expected:
    """What the replies must contain for one `expect` label of tests/heldout/questions.yml.

    Texts are first paragraphs from the data: faq/<topic> its utter_faq response;
    term/<id> its terms.yml answer; term/<id>/<kind> the follow-up (follow_ups.yml);
    medicine[/<id>] utter_child_medicine (and the term's dose_answer); org/<id> its card's
    **name**; support[/<region>] any card (and the region's name); emergency, crisis, urgent, human,
    not_covered, clinic_admin, out_of_scope, greet, thank, goodbye their response.
    """
    family, *rest = label.split("/")
    if label in RESPONSES:
        return _expect(content, [RESPONSES[label]])
    if family == "faq" and len(rest) == 1 and rest[0] in content.topics:
        return _expect(content, [f"utter_faq/{rest[0]}"])
    term = content.terms.get(rest[0]) if rest else None
    if family == "term" and term and len(rest) <= 2:
        kind = rest[1] if len(rest) == 2 else None
        if kind is None or kind in content.follow_ups.term_answers:
            return _expect(content, texts=[term.answer])
        if kind in content.follow_ups.kinds:  # as follow_ups.yml says: the follow-up of the term's topic
            answer = content.follow_ups.answer(term.topic or "", kind)  # no topic: the default
            if answer.topic:
                return _expect(content, [f"utter_faq/{answer.topic}"])
            title = content.topics[term.topic].title if term.topic else term.id
            return _expect(content, texts=[(answer.text or "").replace("{title}", title)])
    if family == "medicine" and len(rest) <= 1:
        return _expect(content, ["utter_child_medicine"], [term.dose_answer] if term else [])
    if family == "org" and len(rest) == 1 and rest[0] in content.organisations:
        return Expected(((f"**{content.organisations[rest[0]]}**",),))
    if family == "support" and (not rest or (len(rest) == 1 and rest[0] in content.regions)):
        cards = tuple(f"**{name}**" for name in content.organisations.values())
        return Expected((cards, *([(content.regions[rest[0]],)] if rest else [])))
    raise UnknownLabel(f"unknown expect label '{label}'")


def expectations(question: Question, content: Content) -> List[Expected]:
    """One Expected per acceptable label; an unknown label is an error naming the question."""
    try:
        return [expected(label, content) for label in question.expect]
    except UnknownLabel as error:
        raise UnknownLabel(f"{error} in question {question.text!r}") from None


def grade(question: Question, replies: List[Dict[str, Any]], content: Content) -> bool:
    """Right if the bot's messages satisfy any of the question's acceptable labels."""
    texts = [normalise(reply.get("text") or "") for reply in replies]
    return any(expectation.met_by(texts) for expectation in expectations(question, content))


def load_questions(path: Path) -> List[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(q["text"], tuple([q["expect"]] if isinstance(q["expect"], str) else q["expect"]), q["style"])
        for q in data["questions"]
    ]


# --- the baseline --------------------------------------------------------------------


def _whole_words(text: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")


class Baseline:
    """Nearest training example by TF-IDF cosine, plus our lexicon as a dictionary.

    Roughly what a search box over our own data would answer: the assistant must
    beat it clearly to justify its machinery.
    """

    def __init__(self, examples: List[Tuple[str, str]], lexicon: Lexicon) -> None:
        self.vectorizers = [
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ]
        self.intents = [intent for _, intent in examples]
        texts = [text for text, _ in examples]
        self.matrix = hstack([v.fit_transform(texts) for v in self.vectorizers]).tocsr()
        # Variants hold every name too; exact variants ("US") count only as written.
        self.loose = [(_whole_words(variant), i) for (_, variant), i in lexicon.variants.items()]
        self.exact = [(_whole_words(variant), i) for (_, variant), i in lexicon.exact_variants.items()]

    def predict(self, text: str) -> Tuple[str, Set[str]]:
        """The nearest example's intent, and the lexicon ids named in the text."""
        vector = hstack([v.transform([text]) for v in self.vectorizers])
        intent = self.intents[int(cosine_similarity(vector, self.matrix)[0].argmax())]
        lowered = normalise(text).lower()
        named = {i for pattern, i in self.loose if pattern.search(lowered)}
        return intent, named | {i for pattern, i in self.exact if pattern.search(text)}


def baseline_meets(label: str, intent: str, named: Set[str]) -> bool:
    """Whether the baseline's intent and named ids would answer this label."""
    family, *rest = label.split("/")
    if family == "faq":
        return intent == label
    if family == "term":
        wanted = "ask_term" if len(rest) == 1 else f"followup_{rest[1]}"
        return intent == wanted and rest[0] in named
    if family == "medicine":
        return intent == "ask_child_medicine" and (not rest or rest[0] in named)
    if family == "org":
        return intent == "ask_org_contact" and rest[0] in named
    if family == "support":
        return intent in ("ask_support", "inform_region") and (not rest or rest[0] in named)
    return intent == INTENTS.get(label)


def baseline_grade(question: Question, intent: str, named: Set[str]) -> bool:
    return any(baseline_meets(label, intent, named) for label in question.expect)


# --- running it ----------------------------------------------------------------------


@contextmanager
def timed(part: str, timings: Dict[str, float]) -> Iterator[None]:
    start = time.monotonic()
    yield
    timings[part] = time.monotonic() - start


def run_rasa(args: List[str]) -> None:
    """Run `rasa test nlu ...` from the project root; stop with its exit code if it fails."""
    command = [sys.executable, "-m", "rasa", "test", "nlu", "--no-plot", "--quiet", *args]
    print("==> rasa", " ".join(command[3:]), flush=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"rasa exited with {result.returncode}: {' '.join(command[3:])}")


def scores(report_file: Path) -> Optional[Dict[str, float]]:
    """Accuracy and macro F1 from a report Rasa wrote, or None if it wrote none."""
    if not report_file.exists():
        return None
    report = json.loads(report_file.read_text(encoding="utf-8"))
    # sklearn writes "accuracy", or "micro avg" when predictions hold extra labels.
    accuracy = report["accuracy"] if "accuracy" in report else report["micro avg"]["f1-score"]
    return {"accuracy": accuracy, "macro_f1": report["macro avg"]["f1-score"]}


def print_scores(title: str, out: Path) -> None:
    print(f"\n{title}  (reports in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out})")
    for kind, name in REPORTS.items():
        result = scores(out / name)
        if result is None:
            print(f"  {kind:<19} no report written")
        else:
            print(f"  {kind:<19} accuracy {result['accuracy']:.3f}   macro F1 {result['macro_f1']:.3f}")


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
    held_back = {
        kind: sum(1 for r in found if r["intent_response_key_prediction"]["confidence"] < threshold)
        for kind, found in results.items()
    }
    print(f"\nTopic answers below min_confidence {threshold} (suggestions instead of an answer)")
    print(f"  wrong topic:  {held_back['errors']} of {len(results['errors'])} become suggestions")
    print(f"  right topic:  {held_back['successes']} of {len(results['successes'])} become suggestions")


def ask_assistant(
    model: Path, questions: List[Question], content: Content, timings: Dict[str, float]
) -> List[Dict[str, Any]]:
    """Each question as the first message of a new REST conversation, graded."""
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="jdm-evaluate-") as workdir:
        start = time.monotonic()
        with running_servers(model, Path(workdir), web=False) as urls:
            timings["servers start"] = time.monotonic() - start
            with timed("end-to-end questions", timings):
                for question in questions:
                    try:
                        replies = say(urls["rasa"], f"evaluate-{uuid.uuid4()}", question.text)
                    except OSError as error:  # a crash or timeout is a wrong answer, not the end
                        replies = [{"text": f"<request failed: {error}>"}]
                    outcomes.append(
                        {
                            "text": question.text,
                            "expect": list(question.expect),
                            "style": question.style,
                            "right": grade(question, replies, content),
                            "replies": replies,
                        }
                    )
    return outcomes


def accuracy(rights: List[bool]) -> float:
    return sum(rights) / len(rights) if rights else 0.0


def print_comparison(questions: List[Question], assistant: List[bool], baseline: List[bool]) -> None:
    print(f"\n{'':<22}{'n':>5}  {'assistant':>9}  {'baseline':>8}  {'margin':>7}")

    def row(name: str, picked: List[int]) -> None:
        a, b = accuracy([assistant[i] for i in picked]), accuracy([baseline[i] for i in picked])
        print(f"  {name:<20}{len(picked):>5}  {a:>9.3f}  {b:>8.3f}  {100 * (a - b):>+7.1f}")

    row("overall", list(range(len(questions))))
    for title, key in (("per label family", "family"), ("per style", "style")):
        print(f"  {title}")
        groups: Dict[str, List[int]] = defaultdict(list)
        for index, question in enumerate(questions):
            groups[getattr(question, key)].append(index)
        for name in sorted(groups):
            row("  " + name, groups[name])


def write_errors(path: Path, outcomes: List[Dict[str, Any]]) -> None:
    lines = []
    for outcome in outcomes:
        if not outcome["right"]:
            lines.append(f"{outcome['text']}\n  expected: {' | '.join(outcome['expect'])}")
            lines += [f"  got: {normalise(reply.get('text') or '')[:80]}" for reply in outcome["replies"]]
            lines += ["  got nothing"] if not outcome["replies"] else []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/jdm.tar.gz", help="trained model to test")
    parser.add_argument("--nlu", default="data/nlu", help="training data for cross-validation and the baseline")
    parser.add_argument("--heldout", default="tests/nlu/heldout.yml", help="held-out NLU examples")
    parser.add_argument("--questions", default="tests/heldout/questions.yml", help="end-to-end questions")
    parser.add_argument("--out", default="results/evaluation", help="where reports are written")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--skip-cross-validation", action="store_true", help="skip cross-validation (it trains 5 models: minutes)"
    )
    args = parser.parse_args()

    model = ROOT / args.model
    if not model.exists():
        sys.exit(f"{args.model} is missing: train a model first (make train)")
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    cv_out, heldout_out = out / "cross_validation", out / "heldout"
    timings: Dict[str, float] = {}

    content = Content.load()
    questions = load_questions(ROOT / args.questions)
    missing = Counter(
        name
        for question in questions  # unknown labels stop us before any server starts
        for name in {name for e in expectations(question, content) for name in e.missing}
    )
    for name, count in missing.items():
        print(f"WARNING: domain.yml has no {name}: {count} questions that need it are graded wrong")

    if not args.skip_cross_validation:
        with timed("cross-validation", timings):
            run_rasa(
                [
                    "--nlu",
                    args.nlu,
                    "--config",
                    "config.yml",
                    "--cross-validation",
                    "--folds",
                    str(args.folds),
                    "--out",
                    str(cv_out),
                ]
            )
        print_scores(f"{args.folds}-fold cross-validation on {args.nlu}", cv_out)
    with timed("held-out NLU examples", timings):
        run_rasa(["--nlu", args.heldout, "--model", str(model), "--out", str(heldout_out), "--successes"])
    print_scores(f"Held-out examples {args.heldout} with {args.model} (intent level; not the bar)", heldout_out)
    print_unsure_topics(heldout_out)

    with timed("baseline training", timings):
        baseline = Baseline(read_nlu_examples(sorted((ROOT / args.nlu).glob("*.yml"))), load_lexicon())
    with timed("baseline questions", timings):
        predictions = [baseline.predict(question.text) for question in questions]
    outcomes = ask_assistant(model, questions, content, timings)
    for outcome, question, (intent, named) in zip(outcomes, questions, predictions, strict=False):
        outcome["baseline"] = {
            "intent": intent,
            "named": sorted(named),
            "right": baseline_grade(question, intent, named),
        }

    (out / "heldout_e2e.json").write_text(json.dumps(outcomes, indent=2, ensure_ascii=False), encoding="utf-8")
    write_errors(out / "heldout_e2e_errors.txt", outcomes)
    assistant_right = [o["right"] for o in outcomes]
    baseline_right = [o["baseline"]["right"] for o in outcomes]
    e2e, base = accuracy(assistant_right), accuracy(baseline_right)
    # The headline for other tools (scripts/bench.py prints it beside the speed figures).
    summary = {
        "end_to_end_accuracy": e2e,
        "right": sum(assistant_right),
        "questions": len(questions),
        "baseline_accuracy": base,
        "model": args.model,
        "model_mtime": model.stat().st_mtime,
        "written": time.strftime("%Y-%m-%d %H:%M"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(
        f"\nEnd to end on {args.questions} through the REST channel with {args.model}: "
        f"{sum(assistant_right)}/{len(questions)} right; TF-IDF baseline {sum(baseline_right)}/{len(questions)}"
    )
    print_comparison(questions, assistant_right, baseline_right)
    print(f"  outcomes in {args.out}/heldout_e2e.json, wrong ones in {args.out}/heldout_e2e_errors.txt")

    print("\nTime taken")
    for part, seconds in timings.items():
        print(f"  {part:<28}{seconds:>8.1f} s")
    for part in ("end-to-end questions", "baseline questions"):
        print(f"  {part + ' (each)':<28}{1000 * timings[part] / len(questions):>8.1f} ms")

    failed = []
    if e2e < E2E_BAR:
        failed.append(f"end-to-end accuracy {e2e:.3f} is below {E2E_BAR}")
    if e2e - base < MARGIN_BAR:
        failed.append(f"margin over the baseline {100 * (e2e - base):+.1f} points is below {100 * MARGIN_BAR:.0f}")
    for reason in failed:
        print(f"FAIL: {reason}")
    if not failed:
        print(f"\nOK: end-to-end accuracy {e2e:.3f} >= {E2E_BAR}, {100 * (e2e - base):+.1f} points over the baseline")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
