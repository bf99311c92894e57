"""Check the action server's replies against Rasa's schema, compiled once.

Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate`,
which re-checks and rebuilds the validator for the large events schema on every
custom-action call: about 35-55 ms of CPU per message on these machines, more
than the whole NLU pipeline. A jsonschema validator built once still walks the
schema for each reply (0.8 ms a message in `make profile`), mostly trying each
event against all 23 event kinds of the schema's `oneOf`. The kinds differ by
the constant in `event`, so an event is valid exactly when it is valid for its
own kind: each kind's schema is compiled to Python code once
(fastjsonschema), and a reply is checked event by event against its kind's
code, in microseconds. A reply refused there goes to jsonschema with the whole
schema, which has the last word and gives Rasa's own error. Installed when the
Rasa server imports this package (it loads our components with the model); the
action server never imports it.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Callable, Dict, Text, Tuple

import fastjsonschema
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

logger = logging.getLogger(__name__)


Check = Callable[[Any], Any]  # raises fastjsonschema.JsonSchemaException when invalid


@lru_cache(maxsize=1)
def _compiled() -> Tuple[Check, Dict[str, Check]]:
    """The reply without its events' kinds, and each event kind, compiled."""
    schema = RemoteAction.action_response_format_spec()
    event = schema["properties"]["events"]["items"]
    common = {key: value for key, value in event.items() if key != "oneOf"}
    kinds = {
        kind["properties"]["event"]["const"]: fastjsonschema.compile({"allOf": [common, kind]})
        for kind in event["oneOf"]
    }
    if len(kinds) != len(event["oneOf"]):
        raise RuntimeError("Rasa's event kinds no longer differ by their `event` constant: the fast check is wrong")
    reply = fastjsonschema.compile({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})
    return reply, kinds


def passes_fast(result: Any) -> bool:
    """True if `result` is a valid reply; False means only that jsonschema must look."""
    reply, kinds = _compiled()
    try:
        reply(result)
        for event in result.get("events", []):
            kind = event.get("event") if isinstance(event, dict) else None
            check = kinds.get(kind) if isinstance(kind, str) else None
            if check is None:
                return False
            check(event)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@lru_cache(maxsize=1)
def _validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """What Rasa's own check does, with the schema compiled once."""
    if passes_fast(result):
        return True
    error = best_match(_validator().iter_errors(result))
    if error is None:
        # Right, only slow: the live tests fail on this warning in the server's log.
        logger.warning("An action-server reply valid for Rasa's schema failed the compiled check (action_results.py).")
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
