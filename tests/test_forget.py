"""A parent can have their conversation deleted (issue 12 part 7).

Typed ("please delete my conversation", then yes) or with the widget's Delete
button (POST /webhooks/rest/forget), the conversation leaves the tracker store:
SQLite by default, PostgreSQL in the production profile. A no, a question in
between, or a stray confirmation deletes nothing.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import FORGET_KEY, ActionForgetConversation
from channels.guarded_rest import asks_to_forget, forget
from conftest import ROOT, make_tracker, postgresql_tracker_store, say, shown
from live_servers import Servers

QUESTION = "Do you want me to delete this conversation?"
DONE = "Done. This conversation has been deleted."
KEPT = "Okay, I've kept the conversation."


# ---------- the action and the rules ----------


def test_the_action_says_done_and_marks_its_reply_for_deletion(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    events = asyncio.run(ActionForgetConversation().run(dispatcher, make_tracker("yes", "affirm"), domain))
    assert events == []
    [message] = dispatcher.messages
    assert shown(message, domain).startswith(DONE)
    assert message["custom"] == {FORGET_KEY: True}
    assert asks_to_forget([{"recipient_id": "x", "text": DONE}, {"recipient_id": "x", "custom": message["custom"]}])


@pytest.mark.parametrize(
    "messages",
    [
        [{"text": "forget_conversation"}],
        [{"custom": {FORGET_KEY: "true"}}],
        [{"custom": {"forget": True}}],
        [{"custom": [FORGET_KEY]}],
        [],
    ],
)
def test_nothing_but_the_actions_payload_makes_the_channel_delete(messages: List[Dict[str, Any]]) -> None:
    assert not asks_to_forget(messages)


def test_only_a_yes_right_after_the_question_deletes() -> None:
    rules = yaml.safe_load((ROOT / "data" / "rules" / "privacy.yml").read_text(encoding="utf-8"))["rules"]
    deleting = [r["steps"] for r in rules if {"action": "action_forget_conversation"} in r["steps"]]
    assert sorted(steps[1]["intent"] for steps in deleting) == ["affirm", "forget_me_confirm"]
    for steps in deleting:
        assert steps[0] == {"action": "utter_ask_forget"}, "deleting without the question first"
        assert steps[2] == {"action": "action_forget_conversation"} and len(steps) == 3
    # Every other rule of any file that runs the action would be a way round the question.
    others = [
        rule
        for path in (ROOT / "data" / "rules").glob("*.yml")
        if path.name != "privacy.yml"
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
        if {"action": "action_forget_conversation"} in rule["steps"]
    ]
    assert others == []


def test_the_question_offers_both_buttons(domain: Dict[str, Any]) -> None:
    [question] = domain["responses"]["utter_ask_forget"]
    assert question["text"].startswith(QUESTION)
    assert [(b["title"], b["payload"]) for b in question["buttons"]] == [
        ("Yes, delete it", "/forget_me_confirm"),
        ("No, keep it", "/deny"),
    ]


# ---------- deleting from the store: SQLite and PostgreSQL ----------


DOMAIN = Domain.from_dict({"slots": {"region": {"type": "text", "mappings": [{"type": "custom"}]}}})


def stored_tracker(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen"),
            UserUttered("my daughter has a rash", {"name": "faq", "confidence": 0.9}),
            SlotSet("region", "uk"),
            ActionExecuted("action_listen"),
        ],
        slots=DOMAIN.slots,
    )


def check_forget_deletes_only_that_conversation(store: SQLTrackerStore) -> None:
    awaitable = AwaitableTrackerStore.create(store)
    agent: Any = SimpleNamespace(tracker_store=awaitable, lock_store=InMemoryLockStore())
    gone, kept = f"forget-{uuid.uuid4()}", f"keep-{uuid.uuid4()}"

    async def scenario() -> Tuple[Optional[DialogueStateTracker], Optional[DialogueStateTracker]]:
        for sender in (gone, kept):
            await awaitable.save(stored_tracker(sender))
            assert await awaitable.retrieve(sender) is not None
        await forget(agent, gone)
        return await awaitable.retrieve(gone), await awaitable.retrieve(kept)

    after_gone, after_kept = asyncio.run(scenario())
    assert after_gone is None
    assert after_kept is not None and after_kept.get_slot("region") == "uk"
    assert [e.text for e in after_kept.events if isinstance(e, UserUttered)] == ["my daughter has a rash"]


def test_forget_deletes_the_conversation_from_sqlite(tmp_path: Path) -> None:
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    try:
        check_forget_deletes_only_that_conversation(store)
    finally:
        store.engine.dispose()


def test_forget_deletes_the_conversation_from_postgresql() -> None:
    store = postgresql_tracker_store(
        SQLTrackerStore, "jdm_forget_test", "DELETION NOT TESTED ON POSTGRESQL", domain=DOMAIN
    )
    try:
        check_forget_deletes_only_that_conversation(store)
    finally:
        store.engine.dispose()


# ---------- through the public channel, with the trained model (SQLite) ----------


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def stored_user_texts(servers: Servers, sender: str) -> List[str]:
    with sqlite3.connect(servers.workdir / "tracker.db") as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def stored_events(servers: Servers, sender: str) -> int:
    with sqlite3.connect(servers.workdir / "tracker.db") as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def post_forget(
    rasa: str, body: bytes, content_type: str = "application/json", method: str = "POST"
) -> Tuple[int, Any]:
    request = urllib.request.Request(
        f"{rasa}/webhooks/rest/forget", data=body, headers={"Content-Type": content_type}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def started(live_servers: Servers) -> Iterator[Tuple[str, str]]:
    """(rasa url, sender) of a conversation with one question asked and answered."""
    sender = f"forget-{uuid.uuid4()}"
    assert "juvenile dermatomyositis" in texts(say(live_servers["rasa"], sender, "what is jdm?")).lower()
    yield live_servers["rasa"], sender


@pytest.mark.parametrize("confirm", ["/forget_me_confirm", "yes"])
def test_asking_to_delete_then_confirming_deletes_the_conversation(
    started: Tuple[str, str], live_servers: Servers, confirm: str
) -> None:
    rasa, sender = started
    question = say(rasa, sender, "please delete my conversation")
    assert QUESTION in texts(question)
    assert [b["title"] for r in question for b in r.get("buttons") or []] == ["Yes, delete it", "No, keep it"]
    assert stored_user_texts(live_servers, sender) == ["what is jdm?", "please delete my conversation"]

    done = say(rasa, sender, confirm)
    assert DONE in texts(done)
    assert {FORGET_KEY: True} in [r.get("custom") for r in done]
    assert stored_events(live_servers, sender) == 0

    # The same id afterwards is a new, empty conversation.
    assert texts(say(rasa, sender, "hello"))
    assert stored_user_texts(live_servers, sender) == ["hello"]


def test_no_keeps_the_conversation(started: Tuple[str, str], live_servers: Servers) -> None:
    rasa, sender = started
    assert QUESTION in texts(say(rasa, sender, "forget me"))
    kept = say(rasa, sender, "no")
    assert KEPT in texts(kept) and not any(r.get("custom") for r in kept)
    assert stored_user_texts(live_servers, sender) == ["what is jdm?", "forget me", "no"]


def test_a_question_after_the_offer_is_answered_and_a_later_yes_deletes_nothing(
    started: Tuple[str, str], live_servers: Servers
) -> None:
    rasa, sender = started
    assert QUESTION in texts(say(rasa, sender, "can you erase my data"))
    answer = texts(say(rasa, sender, "what does the jdm rash look like?"))
    assert "heliotrope" in answer and DONE not in answer
    later = say(rasa, sender, "yes")
    assert DONE not in texts(later) and not any(r.get("custom") for r in later)
    assert len(stored_user_texts(live_servers, sender)) == 4


def test_a_stray_confirmation_asks_the_question_again(started: Tuple[str, str], live_servers: Servers) -> None:
    rasa, sender = started
    reply = say(rasa, sender, "/forget_me_confirm")
    assert QUESTION in texts(reply) and DONE not in texts(reply)
    assert stored_user_texts(live_servers, sender) == ["what is jdm?", "/forget_me_confirm"]


def test_the_widgets_forget_endpoint_deletes_the_conversation(started: Tuple[str, str], live_servers: Servers) -> None:
    rasa, sender = started
    other = f"other-{uuid.uuid4()}"
    say(rasa, other, "hello")
    assert stored_events(live_servers, sender) > 0
    assert post_forget(rasa, json.dumps({"sender": sender}).encode()) == (200, {"deleted": True})
    assert stored_events(live_servers, sender) == 0
    assert stored_user_texts(live_servers, other) == ["hello"]
    # Deleting again (a double click) is no error.
    assert post_forget(rasa, json.dumps({"sender": sender}).encode()) == (200, {"deleted": True})


@pytest.mark.parametrize(
    "body, content_type, method, status, code",
    [
        (b'{"sender": "x"}', "application/json", "POST", 400, "invalid_sender"),
        (b'{"sender": 12345678}', "application/json", "POST", 400, "invalid_sender"),
        (b"{}", "application/json", "POST", 400, "missing_sender"),
        (b"[]", "application/json", "POST", 400, "invalid_request"),
        (b"not json", "application/json", "POST", 400, "invalid_json"),
        (b'{"sender": "forget-abcdefgh"}', "text/plain", "POST", 415, "unsupported_media_type"),
        (b"", "application/json", "DELETE", 405, "method_not_allowed"),
    ],
)
def test_a_bad_delete_request_is_refused_and_deletes_nothing(
    started: Tuple[str, str], live_servers: Servers, body: bytes, content_type: str, method: str, status: int, code: str
) -> None:
    rasa, sender = started
    before = stored_events(live_servers, sender)
    got_status, answer = post_forget(rasa, body, content_type, method)
    assert (got_status, answer["error"]) == (status, code)
    assert answer["message"]
    assert stored_events(live_servers, sender) == before
