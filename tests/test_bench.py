"""scripts/bench.py (`make bench`): its figures, its conversation file and its report.

No timing targets here: those are checked by the benchmark itself on the real
servers. These tests run the load generator against its stub server only.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pytest
import yaml

import bench

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = re.compile(r"/(?P<intent>\w+)(?P<entities>\{.*\})?")


def read(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


# --- percentiles ---------------------------------------------------------------------


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], list(range(1, 101)), [120.0, 7.5, 33.0, 7.5, 980.0, 64.0, 12.0]])
@pytest.mark.parametrize("q", [0, 50, 95, 99, 100])
def test_percentile_matches_numpy(values: List[float], q: float) -> None:
    assert bench.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_known_data() -> None:
    latencies = [float(ms) for ms in range(10, 1010, 10)]  # 10, 20, ..., 1000 ms, in any order
    latencies.reverse()
    assert bench.percentile(latencies, 50) == pytest.approx(505.0)
    assert bench.percentile(latencies, 95) == pytest.approx(950.5)
    assert bench.percentile(latencies, 99) == pytest.approx(990.1)


def test_percentile_of_nothing_is_none_and_bad_q_is_refused() -> None:
    assert bench.percentile([], 95) is None
    with pytest.raises(ValueError):
        bench.percentile([1.0], 101)


def test_level_summary_counts_answered_messages_and_each_kind_of_error() -> None:
    result = bench.LevelResult(concurrency=10, elapsed_s=2.0, conversations=3, latencies_ms=[100.0, 200.0, 300.0])
    result.errors.update({"timeout": 2, "empty": 1})
    summary = result.summary()
    assert summary["answered"] == 3 and summary["messages"] == 6
    assert summary["messages_per_s"] == 1.5  # answered messages only
    assert summary["errors"] == {"non_200": 0, "empty": 1, "timeout": 2, "connection": 0, "total": 3}
    assert summary["latency_ms"]["p50"] == 200.0 and summary["latency_ms"]["max"] == 300.0


# --- the conversation file -----------------------------------------------------------


@pytest.fixture(scope="module")
def conversations() -> List[bench.Conversation]:
    return bench.load_conversations(ROOT / "bench" / "conversations.yml")


def test_the_conversation_file_has_enough_multi_turn_conversations(conversations: List[bench.Conversation]) -> None:
    assert len(conversations) >= 40
    assert all(bench.MIN_TURNS <= len(c.turns) <= bench.MAX_TURNS for c in conversations)
    kinds = {"support": 0, "payload": 0, "follow-up": 0}
    for conversation in conversations:
        text = " ".join(conversation.turns).lower()
        kinds["payload"] += any(turn.startswith("/") for turn in conversation.turns)
        short = {turn.lower().rstrip("?") for turn in conversation.turns}
        kinds["follow-up"] += bool(short & {"why", "how long", "tell me more"})
        kinds["support"] += "support" in text or "group" in text
    assert all(count >= 5 for count in kinds.values()), kinds


def test_every_button_payload_is_one_the_assistant_offers(conversations: List[bench.Conversation]) -> None:
    domain = read("domain.yml")
    needs = read("data/support_needs.yml")
    regions = {region["id"] for region in needs["regions"]}
    need_buttons = {need["id"] for need in needs["needs"] if need.get("button")}
    organisations = {org["id"] for org in read("data/organisations.yml")["organisations"]}
    allowed = {
        "inform_region": ("region", regions),
        "ask_support": ("support_need", need_buttons),
        "ask_org_contact": ("organisation", organisations),
    }
    payloads = [turn for c in conversations for turn in c.turns if turn.startswith("/")]
    assert payloads
    for payload in payloads:
        match = PAYLOAD.fullmatch(payload)
        assert match, f"not a payload: {payload}"
        assert match["intent"] in domain["intents"], payload
        entity, values = allowed[match["intent"]]
        assert json.loads(match["entities"]).keys() == {entity}, payload
        assert json.loads(match["entities"])[entity] in values, payload
        assert entity in domain["entities"], payload


def test_topic_buttons_send_example_questions_that_exist(conversations: List[bench.Conversation]) -> None:
    """A turn that looks like a topic button's question must still be one (topics.yml `example`)."""
    examples = {topic["example"] for topic in read("data/knowledge/topics.yml")["topics"]}
    button_like = [t for c in conversations for t in c.turns if t[0].isupper() and t.endswith("?") and "JDM" in t]
    assert button_like, "no conversation presses a topic button"
    assert set(button_like) <= examples


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("conversations: []\n", "non-empty list"),
        ("conversations:\n  - id: a\n    turns: [hi, bye]\n", "3 to 8"),
        ("conversations:\n  - id: a\n    turns: [hi, yes, no]\n", "non-empty message"),  # YAML reads yes as true
        ("conversations:\n  - id: a\n    turns: [hi, why, bye]\n  - id: a\n    turns: [hi, why, bye]\n", "twice"),
        ("conversations:\n  - turns: [hi, why, bye]\n", "needs an `id`"),
    ],
)
def test_a_broken_conversation_file_is_refused_with_the_reason(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "conversations.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(complaint)):
        bench.load_conversations(path)


# --- targets, training time, quality -------------------------------------------------


def fake_report(p95_at_10: float = 120.0, rate_at_50: float = 45.0, errors_at_50: int = 0) -> Dict[str, Any]:
    def level(concurrency: int, p95: float, rate: float, errors: int) -> Dict[str, Any]:
        return {
            "concurrency": concurrency,
            "latency_ms": {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.2},
            "messages_per_s": rate,
            "errors": {"total": errors},
            "rss_mb_end": {"rasa": 1400.0, "actions": 120.0},
        }

    return {
        "cold_start_s": 18.0,
        "training": {"seconds": 200.0},
        "levels": [level(1, 60.0, 15.0, 0), level(10, p95_at_10, 40.0, 0), level(50, 400.0, rate_at_50, errors_at_50)],
    }


def statuses(report: Dict[str, Any]) -> Dict[str, str]:
    return {row["name"]: row["status"] for row in bench.check_targets(report)}


def test_targets_pass_when_every_figure_is_within_its_target() -> None:
    assert set(statuses(fake_report()).values()) == {"PASS"}


def test_targets_miss_for_a_slow_p95_or_any_error_at_50() -> None:
    assert statuses(fake_report(p95_at_10=151.0))["p95 latency at 10 concurrent"] == "MISS"
    assert statuses(fake_report(errors_at_50=1))["messages/s at 50 concurrent"] == "MISS"
    assert statuses(fake_report(rate_at_50=39.9))["messages/s at 50 concurrent"] == "MISS"


def test_targets_without_a_level_or_figure_are_not_measured() -> None:
    report = fake_report()
    report["levels"] = report["levels"][:1]
    report["cold_start_s"] = None
    result = statuses(report)
    assert result["p95 latency at 10 concurrent"] == "not measured"
    assert result["messages/s at 50 concurrent"] == "not measured"
    assert result["Rasa server RSS after the 50 run"] == "not measured"
    assert result["cold start to first answer"] == "not measured"


def test_training_time_is_read_only_for_the_model_it_was_recorded_for(tmp_path: Path) -> None:
    model, record = tmp_path / "jdm.tar.gz", tmp_path / "jdm.train.json"
    model.write_bytes(b"model")
    os.utime(model, (1_700_000_000, 1_700_000_000))
    assert bench.training_from_record(model, record)["seconds"] is None  # no record yet
    record.write_text(json.dumps({"seconds": 230, "started": 1_700_000_000, "forced": False}))
    assert bench.training_from_record(model, record)["seconds"] == 230
    os.utime(model, (1_700_000_900, 1_700_000_900))  # retrained without a record (an older Makefile)
    assert bench.training_from_record(model, record)["seconds"] is None


def test_quality_reads_the_evaluation_summary_or_the_outcomes(tmp_path: Path) -> None:
    model = tmp_path / "jdm.tar.gz"
    model.write_bytes(b"model")
    assert bench.quality(model, tmp_path) is None
    outcomes = [{"right": True}, {"right": True}, {"right": False}, {"right": True}]
    (tmp_path / "heldout_e2e.json").write_text(json.dumps(outcomes))
    assert bench.quality(model, tmp_path)["end_to_end_accuracy"] == 0.75
    summary = {"end_to_end_accuracy": 0.9, "right": 9, "questions": 10, "model_mtime": model.stat().st_mtime}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    found: Optional[Dict[str, Any]] = bench.quality(model, tmp_path)
    assert found is not None and found["end_to_end_accuracy"] == 0.9 and found["same_model"] is True


# --- profiles ------------------------------------------------------------------------

MAIN, REST = "main (rasa/__main__.py:96)", "handle (rasa/core/channels/rest.py:120)"
COLLAPSED = "\n".join(
    [
        f"{MAIN};serve (sanic/server/runners.py:37) 900",
        f"{MAIN};{REST};parse (rasa/core/processor.py:700);process (components/sentence_embeddings.py:50);"
        "quick_execute (tensorflow/python/eager/execute.py:27) 30",
        f"{MAIN};{REST};run (rasa/core/actions/action.py:748);"
        "_validate_action_result (rasa/core/actions/action.py:699);iter_errors (jsonschema/validators.py:251) 15",
        "iter_errors (jsonschema/validators.py:251);descend (jsonschema/validators.py:304) 5",
        f"{MAIN};{REST};save (rasa/core/tracker_store.py:1300);do_commit (sqlalchemy/engine/default.py:685) 40",
        "malformed line without a count",
    ]
)


def test_the_profile_is_split_into_parts_with_idle_time_apart() -> None:
    stacks = bench.read_collapsed(COLLAPSED)
    assert sum(stacks.values()) == 990
    text = bench.profile_text(stacks, rate=100, messages=10, title="rasa")
    assert "90 busy samples" in text and "900 more idle" in text
    lines = {line.split("ms/msg")[-1].strip(): line for line in text.splitlines() if "ms/msg" in line}
    # 40 samples at 100/s over 10 messages: 40 ms of each message
    tracker = lines["tracker store (SQLAlchemy, SQLite or PostgreSQL)"]
    assert "44.4%" in tracker and "40.0 ms/msg" in tracker
    # a truncated jsonschema stack still counts as checking action replies
    assert "20.0 ms/msg" in lines["remote actions: checking the reply (jsonschema)"]
    assert "30.0 ms/msg" in lines["NLU: sentence encoder (MiniLM)"]
    assert "90.0 ms/msg" in lines["all busy time"]
    assert "serve (sanic" not in text  # the idle loop is not a "top function"


def test_the_flame_graph_is_an_svg_of_the_busy_stacks() -> None:
    svg = bench.flamegraph_svg(bench.read_collapsed(COLLAPSED), 'rasa <10 "concurrent">')
    root = ET.fromstring(svg)
    titles = [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("do_commit (sqlalchemy") for t in titles)
    assert not any(t.startswith("serve (sanic") for t in titles)
    main = next(t for t in titles if t.startswith("main (rasa/__main__.py:96)"))
    assert "(85 samples, " in main  # the idle samples are not in the root either


# --- the whole run, against the stub server ------------------------------------------


def test_a_dry_run_counts_every_kind_of_error_and_writes_json_and_png(tmp_path: Path) -> None:
    conversations = tmp_path / "conversations.yml"
    conversations.write_text(
        yaml.safe_dump(
            {
                "conversations": [
                    {"id": "errors", "turns": ["hello", "stub:500 please", "stub:empty now"]},
                    {"id": "slow", "turns": ["hi there", "stub:slow one", "thanks"]},
                ]
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    argv = ["--dry-run", "--conversations", str(conversations), "--levels", "1,2", "--duration", "0"]
    assert bench.main([*argv, "--per-level", "2", "--timeout", "0.5", "--stub-delay-ms", "1", "--out", str(out)]) == 0

    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    expected_keys = {"date", "machine", "levels", "targets", "memory_mb", "cold_start_s", "training", "quality"}
    assert expected_keys | {"production_profile", "settings"} <= set(report)
    assert report["dry_run"] is True and report["cold_start_s"] is None
    assert report["production_profile"] == "not run (the bench did not start the servers)"
    assert report["production"] is None
    assert [level["concurrency"] for level in report["levels"]] == [1, 2]
    for level in report["levels"]:
        assert level["conversations"] == 2
        assert level["answered"] == 3
        assert level["errors"] == {"non_200": 1, "empty": 1, "timeout": 1, "connection": 0, "total": 3}
        assert level["latency_ms"]["p50"] is not None and level["messages_per_s"] > 0
    # Nothing the stub served is measured; training time comes from `make train`'s record, if any.
    assert {row["status"] for row in report["targets"] if row["name"] != "training time"} == {"not measured"}
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_dry_run_stops_each_level_after_its_duration(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--dry-run", "--levels", "3", "--duration", "1", "--stub-delay-ms", "20", "--out", str(out)]
    assert bench.main(argv) == 0
    (level,) = json.loads((out / "bench.json").read_text(encoding="utf-8"))["levels"]
    assert 1.0 <= level["elapsed_s"] < 3.0
    assert level["errors"]["total"] == 0
    # 3 parents, one message each 20+ ms: some dozens of messages, never more than the stub can answer
    assert 20 <= level["answered"] <= 3 * 1.0 / 0.020 + 3


@pytest.mark.parametrize(
    "leaf, part",
    [
        ("predict_action_probabilities (rasa/core/policies/rule_policy.py:1)", "dialogue policies"),
        ("process (components/triage_guard.py:1)", "NLU: other components"),
        ("__call__ (rasa/engine/graph.py:440)", "Rasa's graph runner"),
    ],
)
def test_every_graph_node_counts_for_its_own_part_not_for_the_runner_it_runs_under(leaf: str, part: str) -> None:
    stack = ("handle_message (rasa/core/processor.py:1)", "run (components/graph_runner.py:1)", leaf)
    assert bench.profile_part(stack) == part


def test_sanics_main_process_waiting_for_its_workers_is_idle() -> None:
    stack = ("serve_multiple (sanic/server/runners.py:268)", "join (multiprocessing/process.py:149)")
    assert bench.profile_part((*stack, "poll (multiprocessing/popen_fork.py:24)")) == bench.IDLE_PART
