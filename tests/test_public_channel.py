"""The public chat endpoint refuses junk politely and survives every kind of it.

/webhooks/rest/webhook is open to the internet (channels/guarded_rest.py). What
a visitor or an IT person notices: a clear 4xx with a JSON message for a bad
request, an ordinary answer for odd but real text, no stack trace in the log,
and a server that stays small and quick after a flood of junk.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import say

MAX_MESSAGE_CHARS = 1000  # the default of JDM_MAX_MESSAGE_CHARS
MAX_BODY_BYTES = 16 * 1024  # the default of JDM_MAX_BODY_BYTES
FLOOD_REQUESTS = 1000
MAX_GROWTH_MB = 100


def post(rasa: str, body: bytes, content_type: Optional[str] = "application/json") -> Tuple[int, Any]:
    """POST raw bytes to the chat endpoint; (status, decoded JSON body)."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(f"{rasa}/webhooks/rest/webhook", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw


def chat(sender: Any = "missing", message: Any = "missing", **extra: Any) -> bytes:
    """A request body; the string "missing" leaves a field out."""
    fields: Dict[str, Any] = dict(extra)
    if sender != "missing":
        fields["sender"] = sender
    if message != "missing":
        fields["message"] = message
    return json.dumps(fields).encode()


def new_sender() -> str:
    return f"channel-{uuid.uuid4()}"


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


REFUSED = [
    # (why, body, content type, status, error code)
    ("no sender", chat(message="hello"), "application/json", 400, "missing_sender"),
    ("sender null", chat(None, "hello"), "application/json", 400, "missing_sender"),
    ("sender a number", chat(12345678, "hello"), "application/json", 400, "invalid_sender"),
    ("sender empty", chat("", "hello"), "application/json", 400, "invalid_sender"),
    ("sender too short", chat("x", "hello"), "application/json", 400, "invalid_sender"),
    ("sender with spaces", chat("a sender id", "hello"), "application/json", 400, "invalid_sender"),
    ("sender too long", chat("a" * 129, "hello"), "application/json", 400, "invalid_sender"),
    ("sender a list", chat(["abcdefgh"], "hello"), "application/json", 400, "invalid_sender"),
    ("no message", chat(new_sender()), "application/json", 400, "missing_message"),
    (
        "message_id a number",
        chat(new_sender(), "hello", message_id=12345678),
        "application/json",
        400,
        "invalid_message_id",
    ),
    (
        "message_id too short",
        chat(new_sender(), "hello", message_id="m1"),
        "application/json",
        400,
        "invalid_message_id",
    ),
    (
        "message_id with spaces",
        chat(new_sender(), "hi", message_id="my message"),
        "application/json",
        400,
        "invalid_message_id",
    ),
    ("message a number", chat(new_sender(), 42), "application/json", 400, "invalid_message"),
    ("message a list", chat(new_sender(), ["hello"]), "application/json", 400, "invalid_message"),
    ("message an object", chat(new_sender(), {"text": "hello"}), "application/json", 400, "invalid_message"),
    ("message true", chat(new_sender(), True), "application/json", 400, "invalid_message"),
    (
        "message a lone surrogate",
        b'{"sender": "abcdefgh-1", "message": "\\ud800"}',
        "application/json",
        400,
        "invalid_message",
    ),
    ("message empty", chat(new_sender(), ""), "application/json", 422, "empty_message"),
    ("message only whitespace", chat(new_sender(), " \t\n  "), "application/json", 422, "empty_message"),
    ("message only zero-width", chat(new_sender(), "\u200b\u200d\ufeff"), "application/json", 422, "empty_message"),
    (
        "message too long",
        chat(new_sender(), "a" * (MAX_MESSAGE_CHARS + 1)),
        "application/json",
        422,
        "message_too_long",
    ),
    (
        "body too large",
        chat(new_sender(), "hi", padding="x" * MAX_BODY_BYTES),
        "application/json",
        413,
        "body_too_large",
    ),
    ("not JSON", b"hello there", "application/json", 400, "invalid_json"),
    ("truncated JSON", b'{"sender": "abcdefgh-1", "message": "hel', "application/json", 400, "invalid_json"),
    ("not UTF-8", b'{"sender": "abcdefgh-1", "message": "\xff\xfe"}', "application/json", 400, "invalid_json"),
    ("nested too deep", b"[" * 5000, "application/json", 400, "invalid_json"),
    ("a JSON list", b'["abcdefgh-1", "hello"]', "application/json", 400, "invalid_request"),
    ("a JSON string", b'"hello"', "application/json", 400, "invalid_request"),
    ("text/plain", chat(new_sender(), "hello"), "text/plain", 415, "unsupported_media_type"),
    ("a form", b"sender=abcdefgh-1&message=hello", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("no content type", chat(new_sender(), "hello"), None, 415, "unsupported_media_type"),
]


@pytest.mark.parametrize(
    "body, content_type, status, code", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_a_bad_request_is_refused_with_a_clear_json_message(
    live_servers, body: bytes, content_type: Optional[str], status: int, code: str
) -> None:
    got_status, reply = post(live_servers["rasa"], body, content_type)
    assert (got_status, reply.get("error") if isinstance(reply, dict) else reply) == (status, code)
    assert len(reply["message"]) > 20 and reply["message"].endswith(".")


def test_a_request_without_sender_never_lands_in_a_shared_conversation(live_servers) -> None:
    rasa = live_servers["rasa"]
    # Stock Rasa filed sender-less requests under "default": one visitor's region was the next one's.
    assert post(rasa, chat(message="we live in the UK, any support groups?"))[0] == 400
    assert post(rasa, chat("default", "any support groups?"))[0] == 400


def test_only_post_is_allowed(live_servers) -> None:
    request = urllib.request.Request(f"{live_servers['rasa']}/webhooks/rest/webhook", method="GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 405
    assert json.loads(refused.value.read())["error"] == "method_not_allowed"


def test_a_message_of_exactly_the_limit_is_answered(live_servers) -> None:
    message = ("my daughter has a purple rash on her eyelids and knuckles " * 20)[:MAX_MESSAGE_CHARS]
    status, reply = post(live_servers["rasa"], chat(new_sender(), message))
    assert status == 200 and texts(reply).strip()


ODD_BUT_REAL = [
    "😀😀 hello",
    "🇬🇧👨\u200d👩\u200d👧 is there a support group?",
    "مرحبا، ابني يعاني من طفح جلدي",
    "שלום, לבת שלי יש פריחה",
    "\u202ewhat is jdm\u202c",
    "\u200b\u200bwhat is\u200b jdm",
    "<script>alert('hi')</script>",
    "<b>what</b> is <i>jdm</i>?",
    "' OR 1=1; DROP TABLE events; --",
    "Robert'); DELETE FROM events WHERE ('1'='1",
    "{region} {{slot}} %s %(x)s",
    "/",
    "/restart",
    "/inform_region{",
    '/inform_region{"nope": "x"}',
    "/not_an_intent",
    "e\u0301\u0301 a\u0300",
    "\u0300\u0301 what is jdm",
    # As long as allowed, in many short words (more word pieces than the sentence encoder's 512).
    "日本" * (MAX_MESSAGE_CHARS // 2),
    "a " * (MAX_MESSAGE_CHARS // 2),
    "rash? " * (MAX_MESSAGE_CHARS // 6),
    "😀" * MAX_MESSAGE_CHARS,
]


@pytest.mark.parametrize("message", ODD_BUT_REAL, ids=[ascii(m[:24]) + f"[{len(m)}]" for m in ODD_BUT_REAL])
def test_odd_text_gets_an_ordinary_polite_reply(live_servers, message: str) -> None:
    status, reply = post(live_servers["rasa"], chat(new_sender(), message))
    if message.strip("/") == "":
        assert (status, reply["error"]) == (422, "empty_message")
        return
    assert status == 200, reply
    assert texts(reply).strip(), f"no reply to {message!r}"


def test_the_region_button_still_works_through_the_guard(live_servers) -> None:
    rasa, sender = live_servers["rasa"], new_sender()
    say(rasa, sender, "are there support groups for families?")
    assert "the United Kingdom" in texts(say(rasa, sender, '/inform_region{"region": "uk"}'))


# --- sending a message again: the widget's Retry, a client's retry after a lost answer ------------


def stored_user_texts(live_servers, sender: str) -> List[str]:
    with sqlite3.connect(live_servers.workdir / "tracker.db") as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,))
        return [json.loads(data)["text"] for (data,) in rows]


def test_a_message_sent_again_with_its_id_gets_the_same_answer_and_is_stored_once(live_servers) -> None:
    rasa, sender = live_servers["rasa"], new_sender()
    question = chat(sender, "are there support groups for families?", message_id=str(uuid.uuid4()))
    status, first = post(rasa, question)
    assert status == 200 and "United Kingdom" in [b["title"] for m in first for b in m.get("buttons") or []]
    assert post(rasa, question) == (200, first)  # the answer was lost on the way: the same answer again

    status, region = post(rasa, chat(sender, '/inform_region{"region": "uk"}', message_id=str(uuid.uuid4())))
    assert status == 200 and "the United Kingdom" in texts(region)
    assert post(rasa, question) == (200, first)  # a late retry still gets that turn's own answer
    assert stored_user_texts(live_servers, sender) == [
        "are there support groups for families?",
        '/inform_region{"region": "uk"}',
    ]


def test_without_an_id_a_message_sent_twice_is_two_messages(live_servers) -> None:
    rasa, sender = live_servers["rasa"], new_sender()
    assert post(rasa, chat(sender, "thank you"))[0] == 200
    assert post(rasa, chat(sender, "thank you"))[0] == 200
    assert stored_user_texts(live_servers, sender) == ["thank you", "thank you"]


def test_an_id_used_again_for_another_text_is_refused_and_not_stored(live_servers) -> None:
    rasa, sender, message_id = live_servers["rasa"], new_sender(), str(uuid.uuid4())
    assert post(rasa, chat(sender, "what is jdm?", message_id=message_id))[0] == 200
    status, reply = post(rasa, chat(sender, "what causes the rash?", message_id=message_id))
    assert (status, reply["error"]) == (409, "message_id_reused")
    assert "own" in reply["message"]
    assert stored_user_texts(live_servers, sender) == ["what is jdm?"]


# --- the flood: generated requests of every shape -------------------------------------------

GOOD_SENDERS = st.one_of(st.uuids().map(str), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@-]{7,40}", fullmatch=True))
BAD_SENDERS = st.one_of(
    st.text(max_size=200), st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=3)
)
ODD_CHARACTERS = st.sampled_from(
    list("\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u200f\u00ad\u0300\u0301\u20e3\ufe0f\x00\x07\x1b\ufffd\U0010ffff")
    + ["😀", "👨\u200d👩\u200d👧", "🇬🇧", "مرحبا", "שלום", "日本語", "<script>", "'; DROP TABLE events; --", "/", "{x}"]
)
TEXTS = st.one_of(
    st.text(min_size=1, max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200),
    st.lists(st.one_of(ODD_CHARACTERS, st.text(max_size=8)), max_size=20).map("".join),
    st.sampled_from(ODD_BUT_REAL + ["what does the jdm rash look like?", "hello", "/affirm", "thanks"]),
    st.builds(lambda word, n: (word + " ") * n, st.sampled_from(["rash", "a", "😀", "\u200b"]), st.integers(0, 600)),
    st.integers(MAX_MESSAGE_CHARS - 5, 3 * MAX_MESSAGE_CHARS).map(lambda n: "x" * n),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


MOSTLY = st.sampled_from([True] * 9 + [False])  # hypothesis picks the first entries more often than 9 in 10


@st.composite
def requests(draw: st.DrawFn) -> Tuple[bytes, Optional[str]]:
    """(body, content type): mostly chat-shaped JSON, some broken, some not JSON at all."""
    kind = draw(st.sampled_from(["chat"] * 12 + ["json", "bytes", "mangled", "padded"]))
    fields: Dict[str, Any] = {}
    if draw(MOSTLY):  # a sender, usually a good one
        fields["sender"] = draw(GOOD_SENDERS if draw(MOSTLY) else BAD_SENDERS)
    if draw(MOSTLY):  # a message, usually text
        fields["message"] = draw(TEXTS if draw(MOSTLY) else JSON_VALUES)
    if not draw(MOSTLY):
        fields.update(draw(st.dictionaries(st.sampled_from(["metadata", "input_channel", "x"]), JSON_VALUES)))
    if kind == "padded":
        fields["padding"] = "p" * draw(st.integers(MAX_BODY_BYTES - 200, 4 * MAX_BODY_BYTES))
    body = json.dumps(fields, ensure_ascii=draw(st.booleans())).encode()
    if kind == "json":
        body = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=300))
    elif kind == "mangled":
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=5)) + body[cut + 1 :]
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 12
            + ["application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", None]
        )
    )
    return body, content_type


def is_valid_chat(body: bytes, content_type: Optional[str]) -> bool:
    """Whether the guard should let this request through to the assistant (as far as the client can tell)."""
    if not (content_type or "").startswith("application/json") or len(body) > MAX_BODY_BYTES:
        return False
    try:
        fields = json.loads(body)
    except ValueError:
        return False
    if not isinstance(fields, dict):
        return False
    sender, message = fields.get("sender"), fields.get("message")
    return (
        isinstance(sender, str)
        and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:@-]{7,127}", sender) is not None
        and isinstance(message, str)
        and message.isprintable()
        and message.isascii()
        and 0 < len(message.strip()) <= MAX_MESSAGE_CHARS
        and not message.startswith("/")
    )


def test_a_flood_of_generated_requests_gets_no_5xx_and_leaves_the_server_small_and_quick(live_servers) -> None:
    rasa = live_servers["rasa"]
    # Warm up first (the first messages build caches and compile graphs), then measure.
    for message in ["hello", "what does the jdm rash look like?", "x " * 499]:
        say(rasa, new_sender(), message)
    memory_before = live_servers.rss_mb("rasa")
    sent: List[Tuple[int, bytes]] = []

    @settings(
        max_examples=FLOOD_REQUESTS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(requests())
    def send(request: Tuple[bytes, Optional[str]]) -> None:
        body, content_type = request
        status, reply = post(rasa, body, content_type)
        sent.append((status, body))
        assert status < 500, f"HTTP {status} for {body[:300]!r} ({content_type}): {reply!r}"
        if status == 200:
            assert isinstance(reply, list)
        else:
            assert 400 <= status < 500 and isinstance(reply, dict) and reply.get("message"), reply
        if is_valid_chat(body, content_type):
            assert status == 200 and texts(reply).strip(), f"no answer to {body[:300]!r}: {status} {reply!r}"

    send()
    growth = live_servers.rss_mb("rasa") - memory_before
    statuses = Counter(status for status, _ in sent)
    print(f"\nflood: {len(sent)} requests, statuses {dict(sorted(statuses.items()))}, Rasa server grew {growth:.0f} MB")
    assert len(sent) >= FLOOD_REQUESTS
    assert 200 in statuses and {400, 413, 415, 422} <= set(statuses), "the generator missed a kind of request"
    assert growth <= MAX_GROWTH_MB, f"the Rasa server grew by {growth:.0f} MB"

    started = time.monotonic()
    answer = texts(say(rasa, new_sender(), "what does the jdm rash look like?"))
    assert time.monotonic() - started < 1.0, "the server is slow to answer after the flood"
    assert "heliotrope" in answer and "Source:" in answer
    assert "Traceback" not in live_servers.log("rasa")
