"""What the person running the assistant sees: clean logs, and conversations that survive a restart.

Both use servers of their own (not the shared live_servers, which other tests
flood with junk), started as `make run` starts them, with Python's warnings
shown so that Rasa's own warnings cannot hide.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from conftest import MODEL, say
from live_servers import Servers, running_servers

ROOT = Path(__file__).resolve().parent.parent
# Rasa, Sanic and the action server write the level as a word; Python warnings end in "Warning:".
ALARM = re.compile(r"\b(ERROR|WARNING|CRITICAL)\b|Traceback|\w+Warning:")
STARTUP_ALARM = re.compile(r"\b(ERROR|WARNING|CRITICAL)\b|Traceback")
REGION_BUTTONS = ["United States", "United Kingdom", "Europe", "Elsewhere"]
# Said in the flows; the logs must not repeat what parents write.
PRIVATE = "my daughter Zerelda Quist has a purple rash on her eyelids"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    with running_servers(
        MODEL, tmp_path_factory.mktemp("own-servers"), web=False, env={"PYTHONWARNINGS": "default"}
    ) as s:
        yield s


def conversation_test_flows() -> List[Tuple[str, List[str]]]:
    """(story name, user messages) of every conversation test in tests/test_*.yml."""
    flows = []
    for path in sorted((ROOT / "tests").glob("test_*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            messages = [step["user"].strip() for step in story["steps"] if "user" in step]
            flows.append((f"{path.name}: {story['story']}", messages))
    return flows


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def button_titles(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def alarms(log: str, pattern: re.Pattern = ALARM) -> List[str]:
    return [line for line in log.splitlines() if pattern.search(line)]


def test_a_region_given_before_a_restart_is_still_known_after_it(servers: Servers) -> None:
    rasa, sender = servers["rasa"], f"restart-{uuid.uuid4()}"
    first = say(rasa, sender, "is there a support group for parents of children with jdm?")
    assert button_titles(first)[:4] == REGION_BUTTONS
    assert "the United Kingdom" in texts(say(rasa, sender, '/inform_region{"region": "uk"}'))

    servers.restart("rasa")
    assert servers.log("rasa").count("Rasa server is up and running") >= 2

    # The bot remembers: UK groups, and no question about the region.
    again = say(rasa, sender, "can I talk to other parents?")
    assert "Myositis Support Group (UK)" in texts(again)
    assert not set(REGION_BUTTONS) & set(button_titles(again))
    # And the SQLite file holds the whole conversation, in order, with the slot.
    with sqlite3.connect(servers.workdir / "tracker.db") as db:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    said = [json.loads(data)["text"] for kind, data in rows if kind == "user"]
    assert said == [
        "is there a support group for parents of children with jdm?",
        '/inform_region{"region": "uk"}',
        "can I talk to other parents?",
    ]
    regions = [
        event["value"]
        for event in map(json.loads, (data for kind, data in rows if kind == "slot"))
        if event["name"] == "region"
    ]
    assert regions and regions[-1] == "uk"


def test_the_default_profile_keeps_conversations_in_sqlite_in_a_git_ignored_folder() -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.utils.common import class_from_module_path

    store = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]
    # Our store keeps recent conversations in memory too, but the events live in SQLite.
    assert issubclass(class_from_module_path(store["type"]), SQLTrackerStore)
    assert (store["dialect"], store["db"]) == ("sqlite", "var/tracker.db")
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/tracker.db"], cwd=ROOT)
    assert ignored.returncode == 0, "var/ must be git-ignored: it holds families' conversations"


def test_no_button_in_domain_yml_makes_rasa_log_a_missing_slot_error(domain: Dict[str, Any], capfd) -> None:
    """Rasa fills {placeholders} in every field of a domain response, buttons included.

    A payload written in domain.yml as `/inform_region{"region": "uk"}` logs "The
    specified slot name does not exist" (ERROR, with a stack trace) each time the
    response is sent: that was the region prompt's noise. Buttons that carry
    entities are built by the actions (actions/support.py), which Rasa sends
    beside the response without filling; in domain.yml, double the braces.
    """
    from rasa.core.nlg.interpolator import interpolate

    slots = {name: None for name in domain["slots"]}
    interpolate({"payload": '/inform_region{"region": "uk"}'}, slots)  # the mistake, to show it is seen
    assert "slot name does not exist" in "".join(capfd.readouterr())
    buttons = [
        button
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons") or []
    ]
    assert buttons
    for button in buttons:
        assert interpolate(dict(button), slots) == button
    assert "slot name does not exist" not in "".join(capfd.readouterr())


def test_normal_conversations_leave_no_error_or_warning_and_no_message_text_in_the_logs(servers: Servers) -> None:
    rasa = servers["rasa"]
    startup = {name: len(servers.log(name)) for name in ("rasa", "actions")}
    sent: List[str] = []
    offers: Dict[str, str] = {}  # button payload -> a message whose reply offered it

    def talk(sender: str, message: str) -> List[Dict[str, Any]]:
        reply = say(rasa, sender, message)
        sent.append(message)
        assert texts(reply).strip() or button_titles(reply), f"no reply to {message!r}"
        for m in reply:
            for button in m.get("buttons") or []:
                offers.setdefault(button["payload"], message)
        return reply

    flows = conversation_test_flows()
    assert len(flows) > 50 and sum(len(messages) for _, messages in flows) > 100
    for _, messages in flows:
        sender = f"flow-{uuid.uuid4()}"
        for message in messages:
            talk(sender, message)
    for message in [PRIVATE, "how do I contact an organisation", "asdf qwer zxcv", "asdf qwer zxcv"]:
        talk(f"extra-{uuid.uuid4()}", message)
    # Every button the assistant offered, clicked in a conversation of its own.
    region_payloads = [payload for payload in offers if payload.startswith("/inform_region{")]
    assert len(region_payloads) == len(REGION_BUTTONS) and any("/ask_org_contact{" in p for p in offers)
    for payload, message in sorted(offers.items()):
        sender = f"button-{uuid.uuid4()}"
        talk(sender, message)
        talk(sender, payload)

    for name in ("rasa", "actions"):
        log = servers.log(name)
        assert not alarms(log[: startup[name]], STARTUP_ALARM), f"{name} server start-up:\n" + "\n".join(
            alarms(log[: startup[name]], STARTUP_ALARM)
        )
        found = alarms(log[startup[name] :])
        assert not found, f"{name} server, {len(sent)} messages:\n" + "\n".join(found[:20])
        assert "Zerelda" not in log
        quoted = [message for message in set(sent) if len(message) >= 12 and message in log]
        assert not quoted, f"the {name} server's log quotes what people wrote: {quoted[:5]}"
