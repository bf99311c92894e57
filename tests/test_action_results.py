"""The once-compiled check of action-server replies accepts and refuses what Rasa's own check does.

And the running Rasa server uses it: Rasa's own check (jsonschema, its
validator rebuilt for every reply, 35-55 ms a message) never shows in a py-spy
profile of the server while it answers messages that call custom actions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from components import action_results
from components.action_results import validate_action_result
from conftest import rasa_server_profile
from live_servers import Servers

VALID = [
    {"events": [{"event": "slot", "name": "topic", "value": "rash"}], "responses": [{"response": "utter_faq/rash"}]},
    {"events": [], "responses": [{"text": "hello", "buttons": [{"title": "A", "payload": "/greet"}]}]},
    {},
]
INVALID = [
    {"events": [{"name": "topic"}]},  # an event without its type
    {"events": "slot"},
    {"responses": [1, 2]},
    {"events": [{"event": "slot", "name": 3}]},
]


@pytest.mark.parametrize("result", VALID)
def test_valid_action_replies_pass_both_checks(result: Dict[str, Any]) -> None:
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    assert validate_action_result(RemoteAction("action_x", None), result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_action_replies_are_refused_with_rasas_hint(result: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        validate_action_result(RemoteAction("action_x", None), result)


# Each calls custom actions: the session start (a new conversation each), then the answer's own.
MESSAGES = ["what is jdm?", "what does the rash look like?", "side effects of prednisone?", "hello", "thanks"] * 2


def test_the_running_rasa_server_never_checks_replies_with_rasas_own_jsonschema_check(
    live_servers: Servers, tmp_path: Path
) -> None:
    samples = rasa_server_profile(live_servers, tmp_path / "rasa.profile", MESSAGES)
    # The profile saw the server answer (the sentence encoder runs for every message)...
    assert samples("(components/sentence_embeddings") > 0, "py-spy saw no message being answered"
    # ...and no reply checked by jsonschema: Rasa's check would take about 4 samples a message here.
    assert samples("(jsonschema/") == 0, "the Rasa server checks action replies with Rasa's own (slow) check"


@pytest.mark.parametrize("result", VALID)
def test_valid_action_replies_take_the_fast_path(result: Dict[str, Any]) -> None:
    """jsonschema is only asked about replies the compiled schema refuses: ours must pass it."""
    assert action_results.passes_fast(result)


UNKNOWN_KINDS = [{"events": [{"event": "no_such_kind"}]}, {"events": [{"event": ["slot"]}]}]


@pytest.mark.parametrize("result", INVALID + UNKNOWN_KINDS)
def test_the_fast_path_refuses_what_jsonschema_refuses(result: Dict[str, Any]) -> None:
    assert not action_results.passes_fast(result)
