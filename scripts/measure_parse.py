"""How long understanding one message takes: the whole NLU pipeline, and the sentence encoder in it.

Parses every held-out question with the trained model (Rasa's Agent, no
servers), then runs the sentence encoder alone on the same questions, one at
a time as messages arrive. Prints mean and 95th percentile milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: components/ is beside scripts/


def summary(name: str, seconds: List[float]) -> str:
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"  {name:<32} mean {statistics.mean(ms):6.1f} ms   p95 {p95:6.1f} ms   ({len(ms)} messages)"


def timed_each(texts: List[str], work: Callable[[str], object]) -> List[float]:
    durations = []
    for text in texts:
        start = time.perf_counter()
        work(text)
        durations.append(time.perf_counter() - start)
    return durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/jdm.tar.gz")
    parser.add_argument("--questions", default="tests/heldout/questions.yml")
    args = parser.parse_args()

    from rasa.core.agent import load_agent
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message

    from components.sentence_embeddings import SentenceEmbeddingFeaturizer

    texts = [q["text"] for q in yaml.safe_load((ROOT / args.questions).read_text(encoding="utf-8"))["questions"]]
    loop = asyncio.new_event_loop()
    agent = loop.run_until_complete(load_agent(model_path=str(ROOT / args.model)))
    loop.run_until_complete(agent.parse_message(texts[0]))  # warm up
    pipeline = timed_each(texts, lambda text: loop.run_until_complete(agent.parse_message(text)))

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    settings = next(c for c in config["pipeline"] if c["name"].endswith("SentenceEmbeddingFeaturizer"))
    encoder = SentenceEmbeddingFeaturizer.create(
        {
            **SentenceEmbeddingFeaturizer.get_default_config(),
            **settings,
            "model_weights": str(ROOT / settings["model_weights"]),
        },
        None,
        None,
        ExecutionContext(GraphSchema({}), node_name="encoder"),
    )
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())

    def encode(text: str) -> None:
        message = Message.build(text=text)
        tokenizer.process([message])
        encoder.process([message])

    encoded = timed_each(texts, encode)
    print(f"Understanding one message ({args.model}, {args.questions})")
    print(summary("whole NLU pipeline", pipeline))
    print(summary("sentence encoder alone", encoded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
