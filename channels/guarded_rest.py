"""The public chat endpoint: Rasa's REST channel, refusing junk before NLU runs.

credentials.yml lists `channels.guarded_rest.GuardedRestInput` instead of
`rest:`. Its name is "rest", so the URL stays `/webhooks/rest/webhook` and the
conversation's channel stays "rest": the widget, the tests and the action
server (which renders links for "rest") see no difference for good requests.

What it refuses, and why (each refusal is a JSON object with an `error` code
and a `message` a person can read; none logs a stack trace or the text sent):

- 415: no `Content-Type: application/json`.
- 413: a body over JDM_MAX_BODY_BYTES (default 16 KiB). The body is read in
  chunks and reading stops at the limit, so a huge upload costs no memory.
- 400: a body that is not a JSON object; `sender` missing or not an id
  (stock Rasa files such requests under one shared conversation, "default",
  so every such visitor would read the others' context); `message` missing,
  not a string, or not valid Unicode; a `message_id` that is not an id.
- 409: a `message_id` already used in this conversation for another text.
- 422: a message that is empty (only whitespace or invisible characters), or longer than
  JDM_MAX_MESSAGE_CHARS (default 1,000: the widget's own limit). Long texts
  are what makes NLU slow and the server grow, and no parent's question needs
  more.
- 405: any method but POST.

Everything else (emoji, right-to-left text, zero-width characters, HTML,
SQL-looking text) is an ordinary message and gets an ordinary reply. Two
things are tidied first, both found by sending such text to the assistant:

- Characters with nothing to read (controls, zero-width and direction marks,
  unassigned code points, combining accents with no letter to sit on) are
  removed: a word made only of them reached NLU as a token with no word
  pieces, and the sentence featurizer failed on it (HTTP 500). A message with
  nothing left is empty (422).
- A message starting with "/" is Rasa's button syntax (`/intent{"entity":
  "value"}`). It is passed on only when the intent and entities exist in the
  model's domain; anything else loses its leading "/" and is read as text.
  Rasa would otherwise log a WARNING quoting what the person typed.

Deleting a conversation (the parent's right to be forgotten): when a reply
carries the custom payload {"forget_conversation": true} (sent by
action_forget_conversation after the parent confirmed), the conversation is
deleted from the tracker store once Rasa has saved the turn; deleting it any
earlier, Rasa would write the turn's events straight back. The widget's
"Delete" button uses POST /webhooks/rest/forget {"sender": "<id>"} (no NLU,
the widget asks for confirmation itself), answered with {"deleted": true}.

Sending a message again is safe when it carries its own id: the widget
gives every message a random `message_id` and keeps it when the parent
presses Retry. If the conversation already holds a message with that id
(the first try was answered and stored, but the answer never reached the
browser: a lost connection, a server killed between saving and replying),
the stored answer is sent again and nothing is stored twice. A stored answer
that deleted the conversation deletes it again before it is sent (deleting
is idempotent): the first try's deletion may have failed or never run, and
the parent must not be told "deleted" while the rows stay. The check, the
turn and that deletion run under one hold of the conversation's lock, so
copies sent together (a double click, a retry while the first try is still
being answered) wait for each other, and only the first is answered anew.
The check looks in every session of the conversation: a retry may come after
the session expired and a newer message started another. The same id with a
different text is refused (409). Without a `message_id` every request is a
new message, as in stock Rasa.

A conversation holding JDM_MAX_TURNS messages (default 200) already is closed:
each further message gets utter_conversation_limit (the clinic's contact),
without NLU, and is not stored. A conversation that grew without end would
make every turn slower and the store larger, and no parent needs that many.
Creating the channel also caps the Rasa server's connections and times each
request's arrival (JDM_MAX_CONNECTIONS, JDM_REQUEST_SECONDS: http_limits.py).

Unlike the stock channel it ignores the client's `input_channel`, `metadata`
and `?stream=true`: nothing of ours uses them, and they would let a client
write arbitrary data into the tracker store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Collection, Dict, List, Optional, Text, Tuple

import redis  # type: ignore[import-untyped]
import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import http_limits
from components.cached_tracker_store import CachedSQLTrackerStore
from jdm_content.clinic import UNKNOWN_CLINIC, load_clinic
from jdm_content.files import DataFileError

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS_ENV = "JDM_MAX_MESSAGE_CHARS"
MAX_BODY_BYTES_ENV = "JDM_MAX_BODY_BYTES"
MAX_CONNECTIONS_ENV = "JDM_MAX_CONNECTIONS"
REQUEST_SECONDS_ENV = "JDM_REQUEST_SECONDS"
MAX_TURNS_ENV = "JDM_MAX_TURNS"
DEFAULT_MAX_MESSAGE_CHARS = 1000
# A 1,000-character message written entirely as JSON \uXXXX escapes of emoji
# (12 bytes a character) still fits.
DEFAULT_MAX_BODY_BYTES = 16 * 1024
# Connections one Rasa process holds at once (each of RASA_WORKERS): far more than it can
# answer at once, well under the 1,024 files a process may usually open.
DEFAULT_MAX_CONNECTIONS = 100
# Seconds from a request's first byte to its last: 16 KB takes 2 s on a poor mobile line.
DEFAULT_REQUEST_SECONDS = 10
# Messages from the parent in one conversation; no parent needs more, and each turn reads the conversation.
DEFAULT_MAX_TURNS = 200
# A conversation's or a message's id: the widget sends random UUIDs. At least 8 characters,
# so an id is not a word another client would pick too ("default", "test", "1").
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{7,127}")
SENDER_HELP = (
    'Every request needs a "sender": the conversation\'s own id, 8 to 128 letters, digits or . _ : @ - '
    "(a random UUID is best)."
)
MESSAGE_ID_HELP = 'A "message_id", when sent, is 8 to 128 letters, digits or . _ : @ - (a random UUID is best).'


class Refusal(Exception):
    """A request we will not pass to the assistant: HTTP status, error code, a human message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
        return response.json({"error": self.code, "message": self.message}, status=self.status, headers=headers)


def limit_from_env(name: str, default: int) -> int:
    """A positive whole number from the environment; a bad value stops the server at start-up."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    request_seconds: int = DEFAULT_REQUEST_SECONDS
    max_turns: int = DEFAULT_MAX_TURNS

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_message_chars=limit_from_env(MAX_MESSAGE_CHARS_ENV, DEFAULT_MAX_MESSAGE_CHARS),
            max_body_bytes=limit_from_env(MAX_BODY_BYTES_ENV, DEFAULT_MAX_BODY_BYTES),
            max_connections=limit_from_env(MAX_CONNECTIONS_ENV, DEFAULT_MAX_CONNECTIONS),
            request_seconds=limit_from_env(REQUEST_SECONDS_ENV, DEFAULT_REQUEST_SECONDS),
            max_turns=limit_from_env(MAX_TURNS_ENV, DEFAULT_MAX_TURNS),
        )


def body_too_large(limits: Limits) -> Refusal:
    return Refusal(413, "body_too_large", f"The request is too large (more than {limits.max_body_bytes:,} bytes).")


def check_content_type(request: Request) -> None:
    media_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise Refusal(
            415, "unsupported_media_type", 'Send the message as JSON, with the header "Content-Type: application/json".'
        )


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, read in chunks; refused as soon as it passes the limit.

    The route streams (Sanic would otherwise read any body up to 100 MB into
    memory before we see it). What we leave unread Sanic discards.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise body_too_large(limits)
    if request.stream is None:  # not streamed: Sanic has read it already
        body = request.body or b""
        if len(body) > limits.max_body_bytes:
            raise body_too_large(limits)
        return body
    chunks, size = [], 0
    async for chunk in request.stream:
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise body_too_large(limits)
        chunks.append(chunk)
    return b"".join(chunks)


# Rasa's conversation controls: a button never sends them, and a visitor has no use for them.
CONTROL_INTENTS = frozenset({"restart", "back", "session_start"})
PAYLOAD = re.compile(r"/(?P<intent>[A-Za-z0-9_]+)(?P<entities>\{.*\})?", re.DOTALL)


def readable(text: str) -> str:
    """`text` without characters that carry nothing to read.

    Dropped: control, format (zero-width, direction marks, BOM), unassigned,
    private-use and surrogate code points, U+FFFD, and combining marks that do
    not follow a letter, digit or another mark. The sentence encoder's
    tokenizer drops exactly these, and a word made only of them broke NLU.
    Tabs and line breaks become spaces.
    """
    kept: List[str] = []
    for char in text:
        category = unicodedata.category(char)
        unreadable = category[0] == "C" or char == "\ufffd"
        loose_mark = category == "Mn" and not (kept and unicodedata.category(kept[-1])[0] in "LNM")
        if char in "\t\n\r":
            kept.append(" ")
        elif not (unreadable or loose_mark):
            kept.append(char)
    return "".join(kept).strip()


def is_button_payload(text: str, intents: Collection[str], entities: Collection[str]) -> bool:
    """Whether `text` is a well-formed `/intent{"entity": "value"}` for this domain."""
    match = PAYLOAD.fullmatch(text)
    if not match or match["intent"] not in intents or match["intent"] in CONTROL_INTENTS:
        return False
    if match["entities"] is None:
        return True
    try:
        values = json.loads(match["entities"])
    except ValueError:
        return False
    return isinstance(values, dict) and all(key in entities and isinstance(value, str) for key, value in values.items())


def as_text_unless_payload(text: str, intents: Collection[str], entities: Collection[str]) -> str:
    """A message starting with "/" that is no payload of ours, without its leading slashes."""
    if not text.startswith("/") or is_button_payload(text, intents, entities):
        return text
    return text.lstrip("/").strip()


def sender_from(payload: Any) -> str:
    """The conversation id of a parsed JSON body, or the Refusal that says what is wrong."""
    if not isinstance(payload, dict):
        raise Refusal(400, "invalid_request", 'Send a JSON object: {"sender": "...", "message": "..."}.')
    sender = payload.get("sender")
    if sender is None:
        raise Refusal(400, "missing_sender", SENDER_HELP)
    return checked_id(sender, "invalid_sender", SENDER_HELP)


def checked_id(value: Any, code: str, help_text: str) -> str:
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise Refusal(400, code, help_text)
    return value


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        raise Refusal(400, "invalid_json", "The request body is not valid JSON.") from None


@dataclass(frozen=True)
class ChatRequest:
    """A checked chat message: who, what (tidied), and the client's id for it if it sent one."""

    sender: str
    text: str
    message_id: Optional[str] = None


def message_id_from(payload: Dict[str, Any]) -> Optional[str]:
    """The client's optional id for this message (safe retries), or the Refusal for a malformed one."""
    message_id = payload.get("message_id")
    return None if message_id is None else checked_id(message_id, "invalid_message_id", MESSAGE_ID_HELP)


def parse_request(
    body: bytes, limits: Limits, intents: Collection[str] = (), entities: Collection[str] = ()
) -> ChatRequest:
    """The checked message of a JSON body, or the Refusal that says what is wrong.

    `intents` and `entities` are the model's, for telling button payloads from text.
    """
    payload = load_json(body)
    sender = sender_from(payload)
    message_id = message_id_from(payload)
    message = payload.get("message")
    if message is None:
        raise Refusal(400, "missing_message", 'Every request needs a "message": the text the person typed.')
    if not isinstance(message, str):
        raise Refusal(400, "invalid_message", 'The "message" must be text.')
    try:
        message.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") would break storing and answering it
        raise Refusal(400, "invalid_message", 'The "message" is not valid text.') from None
    if len(message.strip()) > limits.max_message_chars:
        raise Refusal(
            422,
            "message_too_long",
            f"The message is too long. Please keep it under {limits.max_message_chars:,} characters.",
        )
    text = as_text_unless_payload(readable(message), intents, entities)
    if not text:
        raise Refusal(422, "empty_message", "The message is empty. Please type a question.")
    return ChatRequest(sender, text, message_id)


MESSAGE_ID_REUSED = Refusal(
    409, "message_id_reused", 'This "message_id" was already sent with a different message: give each message its own.'
)


def stored_answer(events: List[Event], message_id: str) -> Optional[Tuple[UserUttered, List[BotUttered]]]:
    """The stored message with this id and the bot messages its request was answered with.

    A turn's answer is what the bot said from the end of the previous turn
    (its action_listen) to the end of this one: the first message of a
    session is answered with the session-start messages too, which Rasa
    stores before the user's message.
    """
    turn_start: Optional[int] = 0
    for index, event in enumerate(events):
        if isinstance(event, UserUttered):
            if event.message_id == message_id:
                answer = events[index if turn_start is None else turn_start : index]
                for later in events[index + 1 :]:
                    if is_listen(later):
                        break
                    answer.append(later)
                return event, [e for e in answer if isinstance(e, BotUttered)]
            turn_start = None
        elif turn_start is None and is_listen(event):
            turn_start = index + 1
    return None


def is_listen(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME


async def replay_if_answered(store: TrackerStore, request: ChatRequest, collector: CollectingOutputChannel) -> bool:
    """Send the stored answer again if this message (same id) is already in the conversation, in any session.

    Called holding the conversation's lock. The answer goes through the collector exactly as Rasa sent it the first
    time. A database that cannot be asked lets the message through as new (WARNING, no values): Rasa may still
    answer it from memory.
    """
    if request.message_id is None:
        return False
    try:
        found = await find_stored(store, request.sender, request.message_id)
    except sa.exc.SQLAlchemyError as error:
        # Answering it as new could store it twice (its first try may be stored): the parent tries again.
        raise store_unavailable(error) from error
    if found is None:
        return False
    message, answer = found
    if message.text != request.text:
        raise MESSAGE_ID_REUSED
    for bot_message in answer:
        await collector.send_response(request.sender, bot_message.message())
    return True


async def find_stored(
    store: TrackerStore, sender: str, message_id: str
) -> Optional[Tuple[UserUttered, List[BotUttered]]]:
    """The stored message with this id and its answer (stored_answer), looked for in every session.

    Every session, not just the latest that Rasa reads for a turn: a retry may come after the session expired and a
    newer message started another. On the SQL stores our profiles use, one indexed query over the conversation's
    messages says first whether it is there at all, so only a message sent twice (rare) reads the whole conversation.
    """
    inner = innermost_store(store)
    if isinstance(inner, SQLTrackerStore):
        events = inner.SQLEvent.__table__
        mentioning = sa.select(events.c.data).where(
            events.c.sender_id == sender,
            events.c.type_name == UserUttered.type_name,
            events.c.data.contains(message_id, autoescape=True),
        )
        with inner.engine.connect() as connection:
            rows = connection.execute(mentioning).scalars().all()
        if not any(json.loads(data).get("message_id") == message_id for data in rows):
            return None
    tracker = await store.retrieve_full_tracker(sender)
    return None if tracker is None else stored_answer(list(tracker.events), message_id)


async def messages_stored(store: TrackerStore, sender: str) -> int:
    """How many messages from the parent the conversation holds, over every session.

    One indexed COUNT on the SQL stores our profiles use; any other store replays the conversation.
    """
    inner = innermost_store(store)
    if isinstance(inner, SQLTrackerStore):
        events = inner.SQLEvent.__table__
        counted = sa.select(sa.func.count()).where(
            events.c.sender_id == sender, events.c.type_name == UserUttered.type_name
        )
        with inner.engine.connect() as connection:
            return int(connection.execute(counted).scalar() or 0)
    tracker = await store.retrieve_full_tracker(sender)
    return 0 if tracker is None else sum(isinstance(event, UserUttered) for event in tracker.events)


CONVERSATION_FULL = "utter_conversation_limit"


async def answered_as_full(agent: Agent, chat: ChatRequest, collector: CollectingOutputChannel, limit: int) -> bool:
    """Close a conversation that holds `limit` messages already: the closing with the clinic's contact, nothing stored.

    Called holding the conversation's lock, so a message sent at the same moment waits for this one to be counted.
    A database that cannot count lets the message through: Rasa may still answer it from memory.
    """
    try:
        if await messages_stored(agent.tracker_store, chat.sender) < limit:
            return False
    except sa.exc.SQLAlchemyError as error:
        logger.warning("Could not count a conversation's messages (%s); answering it anyway.", type(error).__name__)
        return False
    try:
        clinic = load_clinic()
    except DataFileError as error:
        logger.error("Clinic details unavailable: %s", error)
        clinic = UNKNOWN_CLINIC
    message = await agent.nlg.generate(
        CONVERSATION_FULL,
        DialogueStateTracker(chat.sender, []),
        GuardedRestInput.name(),
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
        clinic_hours=clinic.hours,
    )
    if message is None:
        raise RuntimeError(f"the model's domain has no {CONVERSATION_FULL}: train it again")
    await collector.send_response(chat.sender, message)
    return True


# The custom payload that marks action_forget_conversation's reply (actions/privacy.py).
FORGET_KEY = "forget_conversation"


class CannotForget(Exception):
    """The tracker store is of a kind we cannot delete from."""


def asks_to_forget(messages: List[Dict[str, Any]]) -> bool:
    """Whether the bot's replies include the forget payload: only action_forget_conversation sends it."""
    return any(isinstance(m.get("custom"), dict) and m["custom"].get(FORGET_KEY) is True for m in messages)


def innermost_store(store: TrackerStore) -> TrackerStore:
    """The store that holds the events: Rasa wraps it (AwaitableTrackerStore, FailSafeTrackerStore)."""
    inner = getattr(store, "_tracker_store", None)
    while isinstance(inner, TrackerStore):
        store, inner = inner, getattr(inner, "_tracker_store", None)
    return store


def delete_conversation(store: TrackerStore, sender: str) -> None:
    """Delete every stored event of `sender` (Rasa 3.6's TrackerStore has no delete).

    SQL (SQLite, PostgreSQL) and in-memory stores only: those are the ones our profiles use.
    """
    store = innermost_store(store)
    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:
            event = store.SQLEvent
            session.query(event).filter(event.sender_id == sender).delete(synchronize_session=False)
            session.commit()
        if isinstance(store, CachedSQLTrackerStore):
            store.evict(sender)  # nothing of it stays in memory either
    elif isinstance(store, InMemoryTrackerStore):
        store.store.pop(sender, None)
    else:
        raise CannotForget(f"deleting conversations from a {type(store).__name__} is not supported")


NOT_READY = Refusal(503, "not_ready", "The assistant is starting. Please try again in a minute.")


def store_unavailable(error: BaseException) -> Refusal:
    """The refusal for a turn the conversation store could not read or keep: the widget shows Retry."""
    # The error as Rasa logged it (the store's engine hides the statement's values): no text, no conversation id.
    logger.error(
        "The conversation store or its lock failed (%s: %s); the parent is asked to try again.",
        type(error).__name__,
        error,
    )
    return Refusal(
        503,
        "store_unavailable",
        "Sorry, the assistant can't keep your message right now. Please try again in a moment. "
        "If your child is very unwell, call your care team or your local emergency number.",
    )


def _refuse_turn(error: Exception) -> None:
    raise store_unavailable(error) from error


def no_answers_from_memory(store: TrackerStore) -> None:
    """Make a store failure fail the turn (503, try again) instead of Rasa's answer from memory.

    Rasa wraps the tracker store in a FailSafeTrackerStore: a conversation it cannot read is answered as a new one
    (its history gone), and a turn it cannot save is kept in memory only, so the parent was answered and the
    message lost (a PostgreSQL restart lost messages that way: tests/test_chaos.py). With its error callback
    raising, the turn fails before anything is answered; the widget's Retry, with the same message_id, is then
    answered once and stored once.
    """
    while isinstance(store, TrackerStore):
        if isinstance(store, FailSafeTrackerStore):
            store._on_tracker_store_error = _refuse_turn
        store = getattr(store, "_tracker_store", None)


def ready(agent: Optional[Agent]) -> Agent:
    """The server's agent once it can answer (model loaded, tracker store open), or the Refusal that says wait."""
    if agent is None or agent.tracker_store is None or agent.processor is None:
        raise NOT_READY
    no_answers_from_memory(agent.tracker_store)
    return agent


async def forget(agent: Agent, sender: str) -> None:
    """Delete `sender`'s conversation, holding its lock so no turn of it is being saved meanwhile."""
    async with agent.lock_store.lock(sender):
        delete_conversation(agent.tracker_store, sender)


FORGET_FAILED = Refusal(
    500, "not_deleted", "Sorry, the conversation could not be deleted. Please try again, or ask the clinic."
)


class NotDeleted(Exception):
    """The answer said the conversation was deleted, but deleting it failed."""


async def answer_once(agent: Agent, chat: ChatRequest, collector: CollectingOutputChannel, max_turns: int) -> None:
    """Answer `chat` into `collector`, holding the conversation's lock from the retry check until the turn is stored.

    One hold for the check and the turn: copies of one message that arrive together (a double click, the widget's
    retry while the first try is still being answered) queue, the first is answered and stored, and each later one
    finds it stored and gets the same answer. Rasa's own handler would take the lock again (it is not re-entrant),
    so the turn goes to Rasa's processor, as Agent.handle_message does inside its lock.
    """
    async with agent.lock_store.lock(chat.sender):
        if await replay_if_answered(agent.tracker_store, chat, collector):
            logger.info("Answering a message sent twice with its stored answer.")
        elif await answered_as_full(agent, chat, collector, max_turns):
            logger.info("Closed a conversation at its limit of %d messages.", max_turns)
        else:
            message = UserMessage(
                chat.text, collector, chat.sender, input_channel=GuardedRestInput.name(), message_id=chat.message_id
            )
            await agent.processor.handle_message(message)
        if asks_to_forget(collector.messages):
            # A stored "Done, deleted" is not the truth until the deletion has run again: the first try's may have
            # failed, or its server died before it ran. Deleting is idempotent.
            try:
                delete_conversation(agent.tracker_store, chat.sender)
            except Exception as error:
                raise NotDeleted from error
            logger.info("Deleted a conversation at the parent's request.")


class GuardedRestInput(RestInput):
    """Rasa's REST channel at the same URL, with every request checked before NLU runs."""

    def __init__(self, limits: Optional[Limits] = None) -> None:
        self.limits = limits or Limits.from_env()

    @classmethod
    def name(cls) -> Text:
        # The URL (/webhooks/<name>/webhook) and the tracker's input channel stay "rest".
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> GuardedRestInput:
        """The channel as the Rasa server creates it, with its connections limited too (before Sanic starts)."""
        # Limits come from the environment, so a deployment changes them without editing files.
        limits = Limits.from_env()
        http_limits.install(limits.max_connections, limits.request_seconds)
        return cls(limits)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The channel's routes. Rasa's `on_new_message` (Agent.handle_message) goes unused: it takes the
        conversation's lock itself, and answer_once must hold it from the retry check to the end of the turn."""
        webhook = Blueprint(f"guarded_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            try:
                check_content_type(request)
                domain = getattr(getattr(request.app.ctx, "agent", None), "domain", None)
                chat = parse_request(
                    await read_body(request, self.limits),
                    self.limits,
                    intents=domain.intents if domain else (),
                    entities=domain.entities if domain else (),
                )
            except Refusal as refusal:
                # No text and no sender id: the log must not hold what people wrote.
                logger.info("Refused a chat request: %s %s", refusal.status, refusal.code)
                return refusal.response()
            collector = CollectingOutputChannel()
            try:
                agent = ready(getattr(request.app.ctx, "agent", None))
                await answer_once(agent, chat, collector, self.limits.max_turns)
            except Refusal as refusal:
                logger.info("Refused a chat request: %s %s", refusal.status, refusal.code)
                return refusal.response()
            except NotDeleted:
                logger.exception("A conversation could not be deleted.")
                return FORGET_FAILED.response()
            except (LockError, redis.exceptions.RedisError) as error:
                # The lock store (Redis) is down or restarting: nothing was answered or stored, so try again.
                return store_unavailable(error).response()
            except asyncio.CancelledError:
                logger.error("A chat message was not answered in time (Rasa's response timeout).")
                return response.json(
                    {"error": "timeout", "message": "Sorry, the assistant took too long to answer. Please try again."},
                    status=503,
                )
            except Exception:
                # A real fault of ours, not of the request: keep the trace (never the text) for whoever fixes it.
                logger.exception("A chat message could not be answered.")
                return response.json(
                    {"error": "server_error", "message": "Sorry, something went wrong. Please try again."},
                    status=500,
                )
            return response.json(collector.messages)

        @webhook.route("/forget", methods=["POST"], stream=True)
        async def forget_conversation(request: Request) -> HTTPResponse:
            # The widget's Delete button: the widget has asked for confirmation, so no NLU is involved.
            try:
                check_content_type(request)
                sender = sender_from(load_json(await read_body(request, self.limits)))
                await forget(ready(getattr(request.app.ctx, "agent", None)), sender)
            except Refusal as refusal:
                logger.info("Refused a delete request: %s %s", refusal.status, refusal.code)
                return refusal.response()
            except Exception:
                logger.exception("A conversation could not be deleted.")
                return FORGET_FAILED.response()
            logger.info("Deleted a conversation at the parent's request.")
            return response.json({"deleted": True})

        @webhook.route("/forget", methods=["GET", "PUT", "PATCH", "DELETE"])
        async def forget_wrong_method(request: Request) -> HTTPResponse:
            return Refusal(405, "method_not_allowed", "Ask to delete with POST.").response(headers={"Allow": "POST"})

        @webhook.route("/webhook", methods=["GET", "PUT", "PATCH", "DELETE"])
        async def wrong_method(request: Request) -> HTTPResponse:
            # Sanic's own 405 is an HTML page; clients of a JSON API get JSON.
            return Refusal(405, "method_not_allowed", "Send messages with POST.").response(headers={"Allow": "POST"})

        return webhook
