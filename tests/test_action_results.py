"""The once-compiled check of action-server replies accepts and refuses what Rasa's own check does."""

from __future__ import annotations

from typing import Any, Dict

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import components  # noqa: F401  (installs the check, as the Rasa server does)
from components import action_results
from components.action_results import validate_action_result

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
    assert RemoteAction("action_x", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_action_replies_are_refused_with_rasas_hint(result: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_x", None)._validate_action_result(result)


def test_the_rasa_server_uses_the_compiled_check_once_components_are_loaded() -> None:
    assert RemoteAction._validate_action_result is validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_action_replies_take_the_fast_path(result: Dict[str, Any]) -> None:
    """jsonschema is only asked about replies the compiled schema refuses: ours must pass it."""
    assert action_results.passes_fast(result)


UNKNOWN_KINDS = [{"events": [{"event": "no_such_kind"}]}, {"events": [{"event": ["slot"]}]}]


@pytest.mark.parametrize("result", INVALID + UNKNOWN_KINDS)
def test_the_fast_path_refuses_what_jsonschema_refuses(result: Dict[str, Any]) -> None:
    assert not action_results.passes_fast(result)
