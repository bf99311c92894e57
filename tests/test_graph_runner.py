"""The trained model answers the same through our graph runner as through Rasa's dask runner.

components/graph_runner.py replaces `DaskGraphRunner.run` in the Rasa server:
a profile of the running server shows its graphs run by ours, never by dask.
Here the trained model is also loaded in this process and every message is
run both ways: the same intent, ranking and entities from NLU, the same next
action and policy from the dialogue graph.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import rasa.model_training
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.graph_runner import InOrderGraphRunner
from conftest import MODEL, rasa_server_profile
from live_servers import Servers

MESSAGES = [
    "hello",
    "my daughter has a purple rash on her eyelids, is that jdm?",
    "how long will she need to take methotrexate",
    "side effects of prednisone?",
    "she can't breathe and her lips are blue",
    "can i give him double the dose of his tablets today",
    "who can we talk to for support in the uk",
    "asdf jkl qwerty",
    "thanks, bye",
]


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    yield Agent.load(str(MODEL))


def both_ways(monkeypatch: pytest.MonkeyPatch, work: Any) -> List[Any]:
    """`work()` run with Rasa's dask runner, then with ours."""
    with monkeypatch.context() as patched:
        patched.setattr(InOrderGraphRunner, "run", DaskGraphRunner.run)
        dask = work()
    return [dask, work()]


def test_the_running_rasa_server_runs_its_graphs_with_our_runner(live_servers: Servers, tmp_path: Path) -> None:
    samples = rasa_server_profile(live_servers, tmp_path / "rasa.profile", MESSAGES)
    # The profile saw the server answer through our runner (the encoder is one of its nodes) ...
    assert samples("(components/graph_runner") > 0, "py-spy saw no graph run by our runner"
    # ... and never through dask's scheduler, which Rasa's own runner walks for every graph.
    assert samples("(dask/") == 0, "the Rasa server runs its graphs through dask"


def test_training_keeps_rasas_own_runner() -> None:
    assert rasa.model_training.DaskGraphRunner is DaskGraphRunner


@pytest.mark.parametrize("text", MESSAGES)
def test_nlu_gives_the_same_parse_both_ways(agent: Agent, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    dask, ours = both_ways(monkeypatch, lambda: asyncio.run(agent.parse_message(text)))
    assert ours == dask
    assert ours["intent"]["name"]  # a real parse, not an empty one on both sides


@pytest.mark.parametrize("text", MESSAGES)
def test_the_dialogue_graph_picks_the_same_action_both_ways(
    agent: Agent, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    parse: Dict[str, Any] = asyncio.run(agent.parse_message(text))
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, parse["intent"], parse["entities"], parse),
    ]

    def predict() -> Dict[str, Any]:
        tracker = DialogueStateTracker.from_events("graph-runner-test", events, slots=agent.domain.slots)
        prediction = agent.predict_next_with_tracker(tracker)
        assert prediction is not None
        return {key: prediction[key] for key in ("scores", "policy", "confidence")}

    dask, ours = both_ways(monkeypatch, predict)
    assert ours == dask
    assert ours["confidence"] > 0  # some policy chose an action
