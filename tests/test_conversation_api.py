"""The first conversation, end to end over the REST channel that `make run` serves."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import say


def texts(messages: list) -> str:
    return "\n".join(message.get("text", "") for message in messages)


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4()}"


def test_greeting_question_thanks_goodbye(live_servers, sender: str) -> None:
    rasa = live_servers["rasa"]
    assert "welcome" in texts(say(rasa, sender, "hello")).lower()
    answer = texts(say(rasa, sender, "what is juvenile dermatomyositis?"))
    assert "immune" in answer.lower() and "Source:" in answer
    assert "welcome" in texts(say(rasa, sender, "thank you so much")).lower()
    assert "take care" in texts(say(rasa, sender, "bye")).lower()


def test_says_it_is_not_a_person(live_servers, sender: str) -> None:
    reply = texts(say(live_servers["rasa"], sender, "am i talking to a real person?"))
    assert "automated assistant" in reply and "not a person" in reply


def test_says_what_it_can_help_with(live_servers, sender: str) -> None:
    reply = texts(say(live_servers["rasa"], sender, "what can you help me with?"))
    assert "rash" in reply and "support organizations" in reply


def test_answers_a_retrieval_question_through_the_response_selector(live_servers, sender: str) -> None:
    reply = texts(say(live_servers["rasa"], sender, "how rare is jdm in kids?"))
    assert "million" in reply and "Source:" in reply


def test_a_jdm_question_the_sources_do_not_answer_gets_no_guessed_answer(live_servers, sender: str) -> None:
    messages = say(live_servers["rasa"], sender, "which foods should a child with jdm eat more of")
    reply = texts(messages)
    # Honest either way: "my information doesn't cover that", or "did you mean...?" - never a guessed topic.
    assert "doesn't cover that" in reply or "not sure I understood" in reply
    assert "Source:" not in reply and "only help with questions about" not in reply
    # A clear question right after is answered normally.
    assert "Source:" in texts(say(live_servers["rasa"], sender, "what does the jdm rash look like?"))


@pytest.mark.parametrize("body", [b"not json", b'{"sender": "x"}', b'{"sender": "x", "message": 42}'])
def test_bad_requests_get_an_http_answer_not_a_crash(live_servers, body: bytes) -> None:
    # tests/test_public_channel.py checks every kind of bad request in detail.
    request = urllib.request.Request(
        f"{live_servers['rasa']}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["message"]
    # The server is still there for the next parent.
    assert say(live_servers["rasa"], f"after-{uuid.uuid4()}", "hello")
