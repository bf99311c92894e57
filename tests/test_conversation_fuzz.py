"""Random conversations through the REST channel: the assistant never breaks down.

Scripted tests check the conversations we thought of; parents will mix medical
questions, follow-ups, support requests, button clicks, small talk and junk in
orders nobody scripted. This test drives hundreds of such random conversations
(6-10 turns each) against the live servers and checks, on every turn, that:

1. the HTTP call succeeds (no 5xx; the test sends no malformed requests, so no 4xx);
2. the bot answers with at least one non-empty message (text or buttons);
3. the same prompt (last message with buttons or ending in "?") is not the
   last prompt of three turns in a row: the bot must not get stuck asking.

The generator is seeded (JDM_FUZZ_SEED, printed on failure) and each
conversation has its own Random, so a failing transcript reproduces exactly.
JDM_FUZZ_CONVERSATIONS sets how many conversations run (default 300).
"""

from __future__ import annotations

import os
import random
import time
import urllib.error
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import say

DEFAULT_CONVERSATIONS = 300
SEED = int(os.environ.get("JDM_FUZZ_SEED", "20240607"))
# A few conversations at a time keep the single Rasa process busy while the
# action server works; more would only queue up.
WORKERS = 4

MEDICAL = [
    "what is jdm exactly",
    "what does the jdm rash look like",
    "my daughter has a purple rash on her eyelids, is that jdm",
    "why are her knuckles red and scaly",
    "his legs are weak and he keeps falling over",
    "she can't climb the stairs anymore",
    "why is my son so tired all the time",
    "how is jdm treated",
    "what medicines will my child need",
    "what is methotrexate",
    "what does plaquenil do",
    "why does she have to take prednisone",
    "what are the side effects of prednisone",
    "does methotrexate have side effects",
    "is hydroxychloroquine safe for kids",
    "why do steroids have to come down slowly",
    "what is IVIG",
    "what are steroid sparing drugs",
    "does the sun make jdm worse",
    "what sunscreen should we use",
    "can she play outside in summer",
    "how do doctors diagnose jdm",
    "what is a muscle biopsy",
    "why do they need an MRI",
    "what is an EMG",
    "what blood tests show jdm",
    "could it be something else like muscular dystrophy",
    "will my child get better",
    "how long does jdm last",
    "will she grow out of it",
    "what is remission",
    "what causes jdm",
    "did a vaccine cause this",
    "is jdm genetic",
    "what are these hard lumps under his skin",
    "her voice sounds different and she chokes on food",
    "do kids with jdm get arthritis later",
    "how is it different in adults",
    "how rare is jdm",
    "what are the creams for the rash",
]
FOLLOW_UPS = [
    "why?",
    "how long?",
    "side effects?",
    "tell me more",
    "and the skin?",
    "what else?",
    "how long does that take",
]
SUPPORT = [
    "are there support groups",
    "I want to talk to a real person",
    "other families near us?",
    "can I talk to other parents",
    "is there a charity for jdm",
    "I feel so alone with this",
    "any research or clinical trials",
    "where can I find trusted information",
]
YES_NO = ["yes", "no thanks", "ok", "nope", "yes please", "sure", "no"]
REGIONS = ["we live in the UK", "Texas", "Germany", "somewhere else", "we're in the US", "Australia", "France"]
DIGRESSIONS = [
    "thanks",
    "thank you so much",
    "hello",
    "hi there",
    "what can you do",
    "are you a bot",
    "what's the weather",
    "who won the football",
    "bye",
    "good morning",
]
ORGANISATIONS = [
    "phone number for NORD",
    "cure jm contact",
    "how do I contact the Myositis Association",
    "address of the myositis support group uk",
    "what is GARD",
    "muscular dystrophy association phone",
]
JUNK = [
    "asdf jkl",
    "???",
    "😀😀",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "مرحبا، ابني يعاني من طفح جلدي",
    "שלום, לבת שלי יש פריחה",
    "\u200b\u200bhello",
    ("rash " * 100)[:500],
    "1234567890",
    ".",
    "   x   ",
]
EMERGENCIES = ["my son can't breathe", "she swallowed a whole bottle of her methotrexate tablets"]

# (messages, weight): emergencies are rare (2%) because they end in the emergency reply.
MIX: List[Tuple[List[str], int]] = [
    (MEDICAL, 26),
    (FOLLOW_UPS, 10),
    (SUPPORT, 10),
    (YES_NO, 10),
    (REGIONS, 8),
    (DIGRESSIONS, 10),
    (ORGANISATIONS, 8),
    (JUNK, 16),
    (EMERGENCIES, 2),
]

Messages = List[Dict[str, Any]]


def next_message(rng: random.Random, previous: Messages) -> str:
    """A button payload from the last reply half the time, else a random message."""
    payloads = [b["payload"] for m in previous for b in m.get("buttons") or []]
    if payloads and rng.random() < 0.5:
        return rng.choice(payloads)
    pool = rng.choices([messages for messages, _ in MIX], weights=[w for _, w in MIX])[0]
    return rng.choice(pool)


def prompt_of(reply: Messages) -> Optional[str]:
    """The question the turn ends with: its last message if it has buttons or ends in '?'."""
    if not reply:
        return None
    last = reply[-1]
    text = (last.get("text") or "").strip()
    buttons = [b.get("title") for b in last.get("buttons") or []]
    if buttons or text.endswith("?"):
        return text or repr(buttons)
    return None


def transcript(sender: str, turns: List[Tuple[str, Any]]) -> str:
    lines = [f"conversation {sender}:"]
    for message, reply in turns:
        lines.append(f"  user: {message[:120]!r}")
        for bot in reply if isinstance(reply, list) else [{"text": f"<{reply}>"}]:
            buttons = [b.get("title") for b in bot.get("buttons") or []]
            lines.append(f"    bot: {(bot.get('text') or '')[:160]!r}" + (f" buttons={buttons}" if buttons else ""))
    return "\n".join(lines)


def converse(rasa: str, index: int) -> Optional[str]:
    """Run conversation `index`; return a failure report with its transcript, or None."""
    rng = random.Random(f"{SEED}-{index}")
    sender = f"fuzz-{index}-{uuid.uuid4()}"
    turns: List[Tuple[str, Any]] = []
    prompts: List[Optional[str]] = []
    reply: Messages = []
    for _ in range(rng.randint(6, 10)):
        message = next_message(rng, reply)
        try:
            reply = say(rasa, sender, message)
        except urllib.error.HTTPError as error:
            turns.append((message, f"HTTP {error.code}"))
            return f"HTTP {error.code} on {message!r}\n" + transcript(sender, turns)
        except OSError as error:  # connection refused, timeout
            turns.append((message, f"{type(error).__name__}: {error}"))
            return f"request failed on {message!r}\n" + transcript(sender, turns)
        turns.append((message, reply))
        if not any((m.get("text") or "").strip() or m.get("buttons") for m in reply):
            return f"no answer to {message!r}\n" + transcript(sender, turns)
        prompts.append(prompt_of(reply))
        if len(prompts) >= 3 and prompts[-1] is not None and len(set(prompts[-3:])) == 1:
            return f"prompt repeated three turns in a row: {prompts[-1][:100]!r}\n" + transcript(sender, turns)
    return None


def test_random_conversations_never_fail_go_silent_or_loop(live_servers: Dict[str, str]) -> None:
    setting = os.environ.get("JDM_FUZZ_CONVERSATIONS")
    count = int(setting) if setting else DEFAULT_CONVERSATIONS
    if setting is None:
        assert count >= 300, "the fuzz test must run at least 300 conversations by default"
    assert all(len(m) <= 1000 for pool, _ in MIX for m in pool)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(lambda i: converse(live_servers["rasa"], i), range(count)))
    failures = [r for r in results if r]
    print(f"\nfuzz: {count} conversations, seed {SEED}, {time.monotonic() - started:.0f} s, " f"{len(failures)} failed")
    if failures:
        kinds = Counter(failure.split("\n", 1)[0] for failure in failures)
        summary = "\n".join(f"  {n} x {kind}" for kind, n in kinds.most_common())
        pytest.fail(
            f"{len(failures)} of {count} random conversations failed (JDM_FUZZ_SEED={SEED}):\n"
            f"{summary}\n\nThe first {min(10, len(failures))}:\n\n" + "\n\n".join(failures[:10]),
            pytrace=False,
        )
