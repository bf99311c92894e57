"""What the logs may say about a conversation: a short tag, never its id.

A conversation id (the REST `sender`) is the conversation's only credential:
whoever has it can read on and delete it. So log lines that need to tell
conversations apart carry `conversation_tag(id)` instead, the first 8 hex
digits of an HMAC under a key made at random when the process starts. Two
lines of one process about one conversation carry the same tag; nobody can
turn a tag back into the id, nor match tags across processes or restarts.

Rasa itself names the sender in a few lines above DEBUG (the processor's
"Circuit breaker tripped ... for sender '<id>'" WARNING): `hide_sender_ids`
rewrites those on Rasa's loggers before any handler writes them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Text

_TAG_KEY = secrets.token_bytes(32)

# Rasa's loggers whose lines above DEBUG quote a sender id, and how they quote it.
RASA_LOGGERS_NAMING_SENDERS = ("rasa.core.processor", "rasa.core.lock_store")
QUOTED_SENDER = re.compile(r"((?:sender|conversation(?:_id| ID)?) )'([^']*)'")


def conversation_tag(conversation_id: Text) -> Text:
    """A tag that tells conversations apart in this process's log and cannot be turned back into the id."""
    digest = hmac.new(_TAG_KEY, conversation_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "conv-" + digest.hexdigest()[:8]


def without_sender_ids(text: Text) -> Text:
    """`text` with every quoted sender or conversation id replaced by its tag."""
    return QUOTED_SENDER.sub(lambda match: match.group(1) + conversation_tag(match.group(2)), text)


class SenderIdFilter(logging.Filter):
    """Rewrites a record's message so no quoted sender id reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = without_sender_ids(message)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


def hide_sender_ids() -> None:
    """Install the rewrite on Rasa's loggers that quote sender ids (once per logger)."""
    for name in RASA_LOGGERS_NAMING_SENDERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, SenderIdFilter) for f in log.filters):
            log.addFilter(SenderIdFilter())
