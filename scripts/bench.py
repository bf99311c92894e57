"""Benchmark the assistant under load (`make bench`, issue 13).

    .venv/bin/python scripts/bench.py                       # start the servers, 1/10/50 concurrent, 60 s each
    .venv/bin/python scripts/bench.py --levels 1,5 --duration 20   # a short smoke run
    .venv/bin/python scripts/bench.py --profile --levels 10        # py-spy on both servers at 10 concurrent
    .venv/bin/python scripts/bench.py --url http://host:5005       # servers someone else started
    .venv/bin/python scripts/bench.py --dry-run                    # a stub server: checks the tool itself
    .venv/bin/python scripts/bench.py --production no               # the default profile only

Starts the action server and the Rasa server as `make run` does
(scripts/live_servers.py: the trained model, a fresh SQLite tracker store),
times cold start to the first answer, then replays parents' conversations
from bench/conversations.yml on the public REST channel, each conversation its
own `sender`, at each level of concurrency: every simulated parent sends a
turn, waits for the reply, sends the next (no think time, so N parents means
up to N messages in flight; they arrive 50 ms apart, `--ramp`). Prints
latency percentiles per message, sustained messages a second, errors, the
servers' memory and CPU per message, training time and the quality headline
of `make evaluate`, each beside its target in issue 13, and writes results/bench/bench.json and bench.png.

Then, when PostgreSQL, Redis and nginx are there (`--production auto`), it
does the same against the production profile (scripts/production.py: two
Rasa servers behind nginx, conversations in PostgreSQL, locks in Redis, in a
database of its own, `jdm_bench`, emptied first) and prints both side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import aiohttp
import yaml
from aiohttp import web

# beside this file (the tests put scripts/ on sys.path)
from live_servers import RASA_WORKERS, child_pids, free_port, proc_status_mb, running_servers, two_free_ports
from production import ProfileError, Stack, check_nginx, check_redis, ensure_database
from production import Settings as ProfileSettings

ROOT = Path(__file__).resolve().parent.parent

REST_PATH = "/webhooks/rest/webhook"
MIN_TURNS, MAX_TURNS = 3, 8
ERROR_KINDS = ("non_200", "empty", "timeout", "connection")
# What `make train` writes (Makefile): seconds `rasa train` took for the current model.
TRAINING_RECORD = ROOT / "models" / "jdm.train.json"
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]  # as the Makefile's TRAINING_DATA
EVALUATION = ROOT / "results" / "evaluation"
MB = 1024 * 1024
BENCH_DATABASE = "jdm_bench"  # the production profile's run writes here (emptied first), never to `jdm`

# Issue 13's targets on the 2-core machine.
TARGET_P95_MS_AT_10 = 150.0
TARGET_MSG_S_AT_50 = 40.0
TARGET_COLD_START_S = 20.0
TARGET_TRAINING_S = 240.0
TARGET_RASA_RSS_MB = 1536.0  # 1.5 GB (GiB, as /proc counts)

# Where a server's time goes, for the profile. A stack belongs to the first part
# any of whose needles is in any of its frames, so the order matters: a tracker
# store write inside the message handler is the tracker store's, and what is
# left under Sanic (no handler below it) is the HTTP server's. py-spy names a
# frame "function (path:line)", paths relative to site-packages or the project.
# Sanic runs on uvloop, whose wait for I/O is C code py-spy does not see as idle:
# a stack that ends in Sanic's `serve` is the event loop waiting, not work. So is
# one that ends in multiprocessing's `poll`: Sanic's main process waiting for its workers.
IDLE_LEAVES = (("serve (", "sanic/server/runners.py"), ("poll (", "multiprocessing/popen_fork.py"))
IDLE_PART = "idle: waiting for I/O or for worker processes"
WORKER = "-worker-"  # in the name of a server's worker process: "rasa-worker-1"
NLU_COMPONENTS = ("intent_override", "named_things", "triage_guard", "unfamiliar_words", "language_model")
PROFILE_PARTS: Sequence[Tuple[str, Sequence[str]]] = (
    # Rasa checks every action server reply against a JSON schema; deep stacks of it
    # come truncated (no Rasa frame left), hence the jsonschema package itself.
    ("remote actions: checking the reply (jsonschema)", ("_validate_action_result", "(jsonschema/")),
    ("remote actions: the HTTP call to the action server", ("(rasa/utils/endpoints", "(aiohttp/")),
    ("actions run by Rasa: built-in actions, responses", ("(rasa/core/actions/", "(rasa/core/nlg/")),
    ("NLU: sentence encoder (MiniLM)", ("(components/sentence_embeddings", "lm_featurizer.py")),
    ("NLU: intent and topic classifier", ("(components/sentence_classifier", "(sklearn/")),
    ("tracker store (SQLAlchemy, SQLite or PostgreSQL)", ("tracker_store", "(sqlalchemy/", "sqlite3", "(psycopg2/")),
    # Every graph node runs under components/graph_runner.py: name the NLU components one by one.
    ("NLU: other components", ("(rasa/nlu/", "(spacy/", *(f"(components/{name}" for name in NLU_COMPONENTS))),
    ("dialogue policies", ("(rasa/core/policies", "(rasa/core/featurizers")),
    ("Rasa's graph runner", ("(rasa/engine/", "(dask/", "(components/graph_runner")),
    (
        "message handling: processor, trackers, events",
        ("(rasa/core/processor", "(rasa/shared/core", "(rasa/core/agent"),
    ),
    ("custom actions (action server)", ("(actions/", "(jdm_content/")),
    ("action server framework (rasa_sdk)", ("(rasa_sdk/",)),
    ("HTTP server and channel (Sanic)", ("(sanic/", "(channels/", "(rasa/core/channels")),
)


# --- conversations -------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: Tuple[str, ...]


def load_conversations(path: Path) -> List[Conversation]:
    """Read and check the conversation file, so a typo fails before any server starts."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    records = data.get("conversations") if isinstance(data, dict) else None
    if not isinstance(records, list) or not records:
        raise ValueError(f"{path}: needs a non-empty list under `conversations:`")
    conversations: List[Conversation] = []
    seen = set()
    for number, record in enumerate(records, 1):
        name = record.get("id") if isinstance(record, dict) else None
        where = f"{path}: conversation {number} ({name or 'no id'})"
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: needs an `id`")
        if name in seen:
            raise ValueError(f"{where}: the id is used twice")
        seen.add(name)
        turns = record.get("turns")
        if not isinstance(turns, list) or not MIN_TURNS <= len(turns) <= MAX_TURNS:
            raise ValueError(f"{where}: needs {MIN_TURNS} to {MAX_TURNS} `turns`")
        for turn in turns:
            if not isinstance(turn, str) or not turn.strip():
                raise ValueError(f"{where}: every turn must be a non-empty message, not {turn!r}")
        conversations.append(Conversation(name, tuple(turns)))
    return conversations


# --- figures -------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The q-th percentile (0-100), interpolated between neighbours as numpy's default; None if empty."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LevelResult:
    """What one level of concurrency measured: each answered message's latency, and the failures."""

    concurrency: int
    elapsed_s: float = 0.0
    conversations: int = 0
    latencies_ms: List[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_examples: List[str] = field(default_factory=list)
    server_cpu_s: Dict[str, float] = field(default_factory=dict)
    rss_mb_end: Dict[str, float] = field(default_factory=dict)

    def summary(self) -> Dict[str, Any]:
        answered = len(self.latencies_ms)
        errors = {kind: self.errors.get(kind, 0) for kind in ERROR_KINDS}
        rounded = {q: percentile(self.latencies_ms, q) for q in (50, 95, 99)}
        return {
            "concurrency": self.concurrency,
            "elapsed_s": round(self.elapsed_s, 2),
            "conversations": self.conversations,
            "messages": answered + sum(errors.values()),
            "answered": answered,
            "messages_per_s": round(answered / self.elapsed_s, 2) if self.elapsed_s else None,
            "latency_ms": {
                **{f"p{q}": None if v is None else round(v, 1) for q, v in rounded.items()},
                "mean": round(sum(self.latencies_ms) / answered, 1) if answered else None,
                "max": round(max(self.latencies_ms), 1) if answered else None,
            },
            "errors": {**errors, "total": sum(errors.values())},
            "error_examples": self.error_examples,
            "cpu_ms_per_message": {
                name: round(1000 * seconds / answered, 1) if answered else None
                for name, seconds in self.server_cpu_s.items()
            },
            "rss_mb_end": {name: round(mb) for name, mb in self.rss_mb_end.items()},
        }


# --- the load generator --------------------------------------------------------------


async def send(
    session: aiohttp.ClientSession, url: str, sender: str, text: str, timeout: float
) -> Tuple[Optional[float], Optional[str], str]:
    """One message as the widget sends it: (latency in ms if answered, error kind, detail)."""
    start = time.perf_counter()
    try:
        async with session.post(
            url + REST_PATH,
            json={"sender": sender, "message": text, "message_id": str(uuid.uuid4())},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
            elapsed = 1000 * (time.perf_counter() - start)
            if response.status != 200:
                return None, "non_200", f"HTTP {response.status} for {text!r}: {body[:200]!r}"
            try:
                replies = json.loads(body)
            except ValueError:
                return None, "non_200", f"not JSON for {text!r}: {body[:200]!r}"
            if not replies:
                return None, "empty", f"no reply to {text!r}"
            return elapsed, None, ""
    except asyncio.TimeoutError:
        return None, "timeout", f"no answer within {timeout:g} s to {text!r}"
    except aiohttp.ClientError as error:
        return None, "connection", f"{type(error).__name__} for {text!r}: {error}"


async def replay(
    url: str,
    conversations: Sequence[Conversation],
    concurrency: int,
    duration: Optional[float],
    max_conversations: Optional[int],
    timeout: float,
    ramp: float = 0.0,
    seed: int = 13,
) -> LevelResult:
    """`concurrency` parents, each replaying conversation after conversation on its own sender.

    Parent n starts n * `ramp` seconds after the first: parents arrive over time.

    Stops starting messages after `duration` seconds, or conversations after
    `max_conversations` in all (whichever comes first); what is in flight finishes.
    """
    if duration is None and max_conversations is None:
        raise ValueError("give a duration or a number of conversations")
    order = list(conversations)
    random.Random(seed).shuffle(order)
    queue: Iterator[Conversation] = itertools.cycle(order)
    if max_conversations is not None:
        queue = itertools.islice(queue, max_conversations)
    result = LevelResult(concurrency)
    start = time.monotonic()
    deadline = start + duration if duration is not None else math.inf

    async def parent(session: aiohttp.ClientSession, number: int) -> None:
        await asyncio.sleep(number * ramp)
        for conversation in queue:  # one shared iterator: each conversation goes to one parent
            if time.monotonic() >= deadline:
                return
            result.conversations += 1
            sender = f"bench-{conversation.id}-{uuid.uuid4().hex[:12]}"
            for text in conversation.turns:
                if time.monotonic() >= deadline:
                    return
                latency, error, detail = await send(session, url, sender, text, timeout)
                if latency is not None:
                    result.latencies_ms.append(latency)
                elif error is not None:
                    result.errors[error] += 1
                    if len(result.error_examples) < 5:
                        result.error_examples.append(detail)

    connector = aiohttp.TCPConnector(limit=0)  # no pool limit: one connection per parent
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(parent(session, number) for number in range(concurrency)))
    result.elapsed_s = time.monotonic() - start
    return result


async def first_answer(url: str, timeout: float) -> float:
    """Send "hello" (a new conversation each try) until a reply comes; the time it took, in s."""
    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while True:
            latency, _, detail = await send(session, url, f"bench-cold-{uuid.uuid4().hex}", "hello", 10)
            if latency is not None:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"no answer within {timeout:.0f} s: {detail}")
            await asyncio.sleep(0.25)


# --- the servers' processes ----------------------------------------------------------


def server_pid(port: int) -> Optional[int]:
    """The pid of our child process serving `port` (its command line has `--port <port>`)."""
    for pid in child_pids(os.getpid()):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(a == "--port" and b == str(port) for a, b in zip(args, args[1:], strict=False)):
            return pid
    return None


def cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU time a process has used so far (psutil is not installed: read /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- profiling -----------------------------------------------------------------------


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is not installed: `make setup` installs it (requirements.txt)")
    return found


def start_profiler(pid: int, out: Path, rate: int) -> subprocess.Popen:
    """py-spy sampling `pid` and its worker processes until stopped; raw collapsed stacks, by function."""
    return subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--rate", str(rate), "--format", "raw"]
        + ["--function", "--nonblocking", "--output", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_profiler(process: subprocess.Popen) -> str:
    """Stop py-spy as Ctrl-C does (it writes its file then) and return what it said."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def read_collapsed(text: str) -> Dict[Tuple[str, ...], int]:
    """py-spy's raw format: `frame;frame;...;leaf count` per line."""
    stacks: Dict[Tuple[str, ...], int] = defaultdict(int)
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return dict(stacks)


def profile_part(stack: Sequence[str]) -> str:
    if stack and any(all(needle in stack[-1] for needle in leaf) for leaf in IDLE_LEAVES):
        return IDLE_PART
    for part, needles in PROFILE_PARTS:
        if any(needle in frame for frame in stack for needle in needles):
            return part
    return "other"


def profile_text(stacks: Mapping[Tuple[str, ...], int], rate: int, messages: int, title: str, top: int = 30) -> str:
    """Where the busy samples fell: by part of the server, then the top functions by own and total time.

    Shares are of the busy samples (idle ones are counted apart); ms/msg spreads
    them over the messages answered meanwhile, so the parts add up to the server's
    busy time per message.
    """
    parts: Counter = Counter()
    own: Counter = Counter()
    inclusive: Counter = Counter()
    for stack, count in stacks.items():
        part = profile_part(stack)
        parts[part] += count
        if part == IDLE_PART:
            continue
        own[stack[-1]] += count
        for frame in set(stack):
            inclusive[frame] += count
    idle = parts.pop(IDLE_PART, 0)
    busy = sum(parts.values())
    if not busy:
        return f"{title}\nno busy samples ({idle} idle)\n"

    def share(count: int) -> str:
        ms = f"{1000 * count / rate / messages:7.1f} ms/msg" if messages else ""
        return f"  {100 * count / busy:5.1f}%  {ms}  "

    lines = [
        title,
        f"{busy} busy samples at {rate}/s ({idle} more idle, waiting for I/O or for workers)"
        f" over {messages} answered messages",
        "Busy means not waiting for I/O: on a loaded machine that includes waiting for a CPU, so the shares",
        "say more than the absolute ms (the bench's CPU per message, from /proc, is the harder figure).",
        "",
        "By part (first matching rule in scripts/bench.py PROFILE_PARTS):",
    ]
    lines += [share(count) + part for part, count in parts.most_common()]
    lines.append(share(busy) + "all busy time")
    for heading, counter in (("own time", own), ("total time (self and callees)", inclusive)):
        lines += ["", f"Top {top} functions by {heading}:"]
        lines += [share(count) + frame for frame, count in counter.most_common(top)]
    return "\n".join(lines) + "\n"


def flamegraph_svg(stacks: Mapping[Tuple[str, ...], int], title: str, width: int = 1200) -> str:
    """A flame graph of the busy samples (root at the bottom) as standalone SVG; hover a box for details."""
    tree: Dict[str, Any] = {"count": 0, "children": {}}
    for stack, count in stacks.items():
        if profile_part(stack) == IDLE_PART:
            continue  # the event loop waiting would dwarf the work
        node = tree
        node["count"] += count
        for frame in stack:
            node = node["children"].setdefault(frame, {"count": 0, "children": {}})
            node["count"] += count
    total = tree["count"] or 1
    row = 16

    def depth(node: Dict[str, Any]) -> int:
        return 1 + max((depth(child) for child in node["children"].values()), default=0)

    height = row * (depth(tree) + 1) + 30
    boxes: List[str] = []

    def draw(node: Dict[str, Any], x: float, level: int) -> None:
        for frame, child in sorted(node["children"].items()):
            w = width * child["count"] / total
            if w >= 1:
                y = height - row * (level + 2)
                hue = sum(map(ord, frame.split(" (")[-1].split(":")[0])) % 60
                label = frame if len(frame) * 6.5 < w else frame[: max(0, int(w / 6.5) - 2)] + ".." if w > 20 else ""
                share = f"{100 * child['count'] / total:.1f}%"
                boxes.append(
                    f'<g><title>{escape(frame)} ({child["count"]} samples, {share})</title>'
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="hsl({hue},80%,60%)"/>'
                    f'<text x="{x + 2:.1f}" y="{y + 11}">{escape(label)}</text></g>'
                )
                draw(child, x, level + 1)
            x += w

    draw(tree, 0.0, 0)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="11">'
        f'<text x="4" y="16" font-size="14">{escape(title)} ({total} samples)</text>' + "".join(boxes) + "</svg>\n"
    )


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --- a stub server, to check the tool without a model --------------------------------


@asynccontextmanager
async def stub_server(delay: float) -> AsyncIterator[str]:
    """A REST channel look-alike: answers after `delay` s. Messages containing
    "stub:500", "stub:empty" or "stub:slow" get an HTTP 500, an empty reply, or no
    reply for 5 s, so the error counting can be seen to work (tests/test_bench.py)."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        text = body["message"]
        if "stub:slow" in text:
            await asyncio.sleep(5)
        await asyncio.sleep(delay)
        if "stub:500" in text:
            return web.json_response({"error": "stub"}, status=500)
        if "stub:empty" in text:
            return web.json_response([])
        return web.json_response([{"recipient_id": body["sender"], "text": "stub reply"}])

    app = web.Application()
    app.router.add_post(REST_PATH, webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=1)  # slow replies are not waited for
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# --- the run -------------------------------------------------------------------------


@dataclass
class Settings:
    conversations: List[Conversation]
    levels: List[int]
    duration: Optional[float]
    per_level: Optional[int]
    timeout: float
    out: Path
    profile_at: Optional[int]
    profile_rate: int
    ramp: float
    workers: int = RASA_WORKERS


async def drive(url: str, settings: Settings, pids: Dict[str, int], started: Optional[float]) -> Dict[str, Any]:
    """Cold start (if we started the servers at `started`), a warm-up, then every level."""
    report: Dict[str, Any] = {"levels": [], "memory_mb": {}, "profile": None}
    cold_start = await first_answer(url, timeout=600)
    report["cold_start_s"] = round(time.monotonic() - started, 1) if started is not None else None
    if started is None:
        print(f"first answer after {cold_start:.1f} s (servers not started by the bench: no cold start)")
    else:
        print(f"cold start to first answer: {report['cold_start_s']:.1f} s")
    # Warm-up, not measured: each code path once (TensorFlow traces its graphs on first use).
    await replay(url, settings.conversations[:3], 1, None, 3, settings.timeout)

    samples: Dict[str, List[float]] = defaultdict(list)

    async def sample_memory() -> None:
        while True:
            for name, pid in pids.items():
                mb = proc_status_mb(pid, "VmRSS")
                if mb is not None:
                    samples[name].append(mb)
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample_memory())
    try:
        for level in settings.levels:
            profilers: Dict[str, Tuple[subprocess.Popen, Path]] = {}
            if level == settings.profile_at:
                settings.out.mkdir(parents=True, exist_ok=True)
                for name, pid in pids.items():
                    if WORKER in name:
                        continue  # profiled with its server (py-spy --subprocesses)
                    raw = settings.out / f"profile-{name}.collapsed.txt"
                    profilers[name] = (start_profiler(pid, raw, settings.profile_rate), raw)
                await asyncio.sleep(1)  # py-spy attaches
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            what = f"{settings.duration:g} s" if settings.duration is not None else ""
            what += " or " if settings.duration is not None and settings.per_level else ""
            what += f"{settings.per_level} conversations" if settings.per_level else ""
            print(f"{level} concurrent conversations for {what}{' (profiled)' if profilers else ''} ...", flush=True)
            result = await replay(
                url,
                settings.conversations,
                level,
                settings.duration,
                settings.per_level,
                settings.timeout,
                settings.ramp,
            )
            for name, pid in pids.items():
                before, after = cpu_before[name], cpu_seconds(pid)
                if before is not None and after is not None:
                    result.server_cpu_s[name] = after - before
                mb = proc_status_mb(pid, "VmRSS")
                if mb is not None:
                    result.rss_mb_end[name] = mb
            summary = result.summary()
            report["levels"].append(summary)
            print("  " + level_line(summary), flush=True)
            if profilers:
                report["profile"] = write_profiles(profilers, settings, summary["answered"], level)
            await asyncio.sleep(2)  # let the servers settle between levels
    finally:
        sampler.cancel()
    for name, pid in pids.items():
        peak = max(proc_status_mb(pid, "VmHWM") or 0.0, *samples[name])  # VmHWM: the kernel's high-water mark
        report["memory_mb"][name] = {
            "peak": round(peak),
            "end": round(samples[name][-1]) if samples[name] else None,
        }
    return report


def write_profiles(
    profilers: Dict[str, Tuple[subprocess.Popen, Path]], settings: Settings, messages: int, level: int
) -> Dict[str, Any]:
    written: Dict[str, Any] = {}
    for name, (process, raw) in profilers.items():
        said = stop_profiler(process)
        if not raw.exists():
            print(f"  py-spy wrote no profile of the {name} server: {said.strip()[-500:]}", file=sys.stderr)
            print("  (py-spy needs ptrace: run as root, or with CAP_SYS_PTRACE / kernel.yama.ptrace_scope=0)")
            continue
        stacks = read_collapsed(raw.read_text(encoding="utf-8", errors="replace"))
        title = f"{name} server, {level} concurrent conversations"
        svg, text = settings.out / f"profile-{name}.svg", settings.out / f"profile-{name}.txt"
        svg.write_text(flamegraph_svg(stacks, title), encoding="utf-8")
        text.write_text(profile_text(stacks, settings.profile_rate, messages, title), encoding="utf-8")
        written[name] = {"samples": sum(stacks.values()), "svg": str(svg), "text": str(text), "raw": str(raw)}
        print(f"  profile of the {name} server: {text} and {svg}")
    return written


def level_line(summary: Dict[str, Any]) -> str:
    lat = summary["latency_ms"]
    errors = summary["errors"]

    def ms(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.0f}"

    rate = summary["messages_per_s"]
    return (
        f"{summary['concurrency']:>4} {summary['answered']:>8} {'-' if rate is None else f'{rate:.1f}':>7} "
        f"{ms(lat['p50']):>7} {ms(lat['p95']):>7} {ms(lat['p99']):>7}   "
        f"{errors['total']} ({'/'.join(str(errors[k]) for k in ERROR_KINDS)})"
    )


# --- what is read, not measured ------------------------------------------------------


def training_from_record(model: Path, record: Path = TRAINING_RECORD) -> Dict[str, Any]:
    """The seconds `make train` recorded for this model (not for an older one)."""
    if not record.exists():
        return {"seconds": None, "source": f"not measured: no {record.name} (written by `make train`; or --train)"}
    data = json.loads(record.read_text(encoding="utf-8"))
    if not model.exists() or abs(model.stat().st_mtime - data.get("started", 0)) > 2:
        return {"seconds": None, "source": f"not measured: {record.name} is for another model (retrain, or --train)"}
    cache = "--force, nothing reused" if data.get("forced") else "Rasa's cache may have reused unchanged parts"
    shown = record.relative_to(ROOT) if record.is_relative_to(ROOT) else record
    return {"seconds": data["seconds"], "source": f"{shown} from `make train` ({cache})"}


def measure_training() -> Dict[str, Any]:
    """`rasa train --force` into a scratch folder (the project's model is left alone)."""
    with_scratch = ROOT / "results" / "bench" / "train"
    with_scratch.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "rasa", "train", "--data", *TRAINING_DATA, "--config", "config.yml"]
    command += ["--domain", "domain.yml", "--out", str(with_scratch), "--fixed-model-name", "bench", "--force"]
    print("training (rasa train --force, about 6 minutes on 2 cores) ...", flush=True)
    start = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    shutil.rmtree(with_scratch, ignore_errors=True)
    return {"seconds": round(seconds, 1), "source": "measured now by --train (rasa train --force)"}


def quality(model: Path, folder: Path = EVALUATION) -> Optional[Dict[str, Any]]:
    """The headline of the latest `make evaluate`: end-to-end accuracy on the held-out questions."""
    summary_file, outcomes_file = folder / "summary.json", folder / "heldout_e2e.json"
    if summary_file.exists():
        data = json.loads(summary_file.read_text(encoding="utf-8"))
    elif outcomes_file.exists():  # written before summary.json existed
        outcomes = json.loads(outcomes_file.read_text(encoding="utf-8"))
        right = sum(1 for o in outcomes if o.get("right"))
        data = {"end_to_end_accuracy": right / len(outcomes) if outcomes else 0.0, "right": right}
        data |= {"questions": len(outcomes), "written": time.strftime("%Y-%m-%d %H:%M")}
    else:
        return None
    mtime = data.get("model_mtime")
    data["same_model"] = None if mtime is None or not model.exists() else abs(model.stat().st_mtime - mtime) < 2
    return data


# --- targets and the report ----------------------------------------------------------


def level(report: Dict[str, Any], concurrency: int) -> Optional[Dict[str, Any]]:
    return next((lv for lv in report["levels"] if lv["concurrency"] == concurrency), None)


def check_targets(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Each target of issue 13 beside its measured figure: PASS, MISS or not measured."""

    def row(name: str, value: Optional[float], shown: str, target: str, met: Optional[bool]) -> Dict[str, Any]:
        status = "not measured" if met is None else "PASS" if met else "MISS"
        return {"name": name, "value": value, "shown": shown, "target": target, "status": status}

    rows = []
    cold = report.get("cold_start_s")
    rows.append(
        row(
            "cold start to first answer",
            cold,
            "-" if cold is None else f"{cold:.1f} s",
            f"<= {TARGET_COLD_START_S:g} s",
            None if cold is None else cold <= TARGET_COLD_START_S,
        )
    )
    at10 = level(report, 10)
    p95 = at10["latency_ms"]["p95"] if at10 else None
    rows.append(
        row(
            "p95 latency at 10 concurrent",
            p95,
            "-" if p95 is None else f"{p95:.0f} ms",
            f"<= {TARGET_P95_MS_AT_10:g} ms",
            None if p95 is None else p95 <= TARGET_P95_MS_AT_10,
        )
    )
    at50 = level(report, 50)
    rate = at50["messages_per_s"] if at50 else None
    errors = at50["errors"]["total"] if at50 else None
    rows.append(
        row(
            "messages/s at 50 concurrent",
            rate,
            "-" if rate is None or errors is None else f"{rate:.1f} msg/s, {errors} errors",
            f">= {TARGET_MSG_S_AT_50:g} msg/s, 0 errors",
            None if rate is None else rate >= TARGET_MSG_S_AT_50 and errors == 0,
        )
    )
    seconds = (report.get("training") or {}).get("seconds")
    rows.append(
        row(
            "training time",
            seconds,
            "-" if seconds is None else f"{seconds:.0f} s",
            f"<= {TARGET_TRAINING_S:g} s",
            None if seconds is None else seconds <= TARGET_TRAINING_S,
        )
    )
    # The largest Rasa server (the production profile runs several, each under the target).
    rasa_rss = [mb for name, mb in at50["rss_mb_end"].items() if name.startswith("rasa")] if at50 else []
    rss = max(rasa_rss) if rasa_rss else None
    rows.append(
        row(
            "Rasa server RSS after the 50 run",
            rss,
            "-" if rss is None else f"{rss:.0f} MB",
            f"<= {TARGET_RASA_RSS_MB:g} MB",
            None if rss is None else rss <= TARGET_RASA_RSS_MB,
        )
    )
    return rows


def format_levels(levels: List[Dict[str, Any]]) -> List[str]:
    lines = ["conc answered   msg/s     p50     p95     p99   errors (" + "/".join(ERROR_KINDS) + ")"]
    lines += [level_line(lv) for lv in levels]
    lines.append("  latency in ms per message, of answered messages; msg/s: answered messages / level's wall time")
    cpu = {lv["concurrency"]: lv["cpu_ms_per_message"] for lv in levels if lv["cpu_ms_per_message"]}
    if cpu:
        per_level = "; ".join(
            f"{c}: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in parts.items() if ms is not None)
            for c, parts in cpu.items()
        )
        lines.append(f"  server CPU per answered message by concurrency: {per_level}")
    return lines


def format_targets(targets: List[Dict[str, Any]]) -> List[str]:
    return [f"  {t['name']:<36} {t['shown']:<26} target {t['target']:<26} {t['status']}" for t in targets]


def format_memory(memory: Dict[str, Dict[str, Any]]) -> List[str]:
    if not memory:
        return ["  server memory: not measured (servers not started by the bench)"]
    return [f"  {name} server memory: peak {mb['peak']} MB, at the end {mb['end']} MB" for name, mb in memory.items()]


def side_by_side(default: List[Dict[str, Any]], production: List[Dict[str, Any]]) -> List[str]:
    """Each level's throughput and latency in both profiles, on one line."""
    by_level = {lv["concurrency"]: lv for lv in production}
    lines = ["conc   default: msg/s   p50   p95    production: msg/s   p50   p95"]
    for lv in default:
        other = by_level.get(lv["concurrency"])
        if other is None:
            continue
        cells = []
        for level_summary in (lv, other):
            lat = level_summary["latency_ms"]
            cells.append(f"{level_summary['messages_per_s'] or 0:15.1f} {lat['p50'] or 0:5.0f} {lat['p95'] or 0:5.0f}")
        lines.append(f"{lv['concurrency']:4d} {cells[0]}    {cells[1]}")
    return lines


def format_report(report: Dict[str, Any]) -> str:
    lines = [
        "",
        f"JDM assistant benchmark, {report['date']}{'  (DRY RUN: a stub server)' if report['dry_run'] else ''}",
    ]
    machine = report["machine"]
    lines.append(
        f"  {machine['cpus']} CPUs, load average {machine['load_start']:.2f} at the start, "
        f"{machine['load_end']:.2f} at the end (other work on the machine makes figures noisy)"
    )
    lines.append(f"  model {report['model']}, {report['conversations']}")
    lines += ["", f"Default profile (`make run`: {report['workers']} Rasa process(es) on one port, SQLite)"]
    lines += format_levels(report["levels"])
    lines += ["", "Targets (issue 13), default profile"]
    lines += format_targets(report["targets"])
    lines.append(f"  training time source: {report['training']['source']}")
    lines += format_memory(report["memory_mb"])
    q = report["quality"]
    if q:
        same = {True: "this model", False: "an older model", None: "model unknown"}[q.get("same_model")]
        lines.append(
            f"  quality (make evaluate, {q.get('written', '?')}, {same}): end to end "
            f"{q['end_to_end_accuracy']:.3f} ({q.get('right')}/{q.get('questions')} held-out questions)"
        )
    else:
        lines.append("  quality: no results/evaluation/summary.json (run `make evaluate`)")
    production = report.get("production")
    lines += ["", f"Production profile: {report['production_profile']}"]
    if production:
        lines.append(f"  cold start to first answer through nginx: {production['cold_start_s']} s")
        lines += format_levels(production["levels"])
        lines += ["", "Targets (issue 13), production profile"]
        lines += format_targets(production["targets"])
        lines += format_memory(production["memory_mb"])
        lines += ["", "Side by side (latency in ms)"]
        lines += side_by_side(report["levels"], production["levels"])
    lines.append(f"\nWritten: {report['written']['json']} and {report['written']['png']}")
    return "\n".join(lines)


def write_plot(profiles: Dict[str, List[Dict[str, Any]]], path: Path, title: str) -> None:
    """Latency (p50, p95) and throughput against concurrency for each profile, with issue 13's targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    conc: List[int] = []
    for (name, levels), line in zip(profiles.items(), ("-", "--"), strict=False):
        conc = sorted({*conc, *(lv["concurrency"] for lv in levels)})
        x = [lv["concurrency"] for lv in levels]
        for q, marker in (("p50", "o"), ("p95", "s")):
            values = [lv["latency_ms"][q] for lv in levels]
            left.plot(x, [math.nan if v is None else v for v in values], marker + line, label=f"{name} {q}")
        right.plot(x, [lv["messages_per_s"] or 0 for lv in levels], "o" + line, label=name)
    left.axhline(
        TARGET_P95_MS_AT_10, color="grey", linestyle=":", label=f"target p95 at 10: {TARGET_P95_MS_AT_10:g} ms"
    )
    left.set(xlabel="concurrent conversations", ylabel="latency per message (ms)", title="Latency")
    left.set_yscale("log")
    left.legend(fontsize="small")
    right.axhline(TARGET_MSG_S_AT_50, color="grey", linestyle=":", label=f"target at 50: {TARGET_MSG_S_AT_50:g}/s")
    right.set(xlabel="concurrent conversations", ylabel="answered messages per second", title="Throughput")
    right.set_ylim(bottom=0)
    right.legend(fontsize="small")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xticks(conc)
        axis.set_xticklabels([str(c) for c in conc])
        axis.xaxis.set_minor_locator(NullLocator())
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/jdm.tar.gz", help="trained model to serve")
    parser.add_argument("--conversations", default="bench/conversations.yml", help="conversations to replay")
    parser.add_argument("--levels", default="1,10,50", help="concurrent conversations, comma-separated")
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds per level (default 60; 0: only --per-level counts)"
    )
    parser.add_argument("--per-level", type=int, help="stop each level after this many conversations")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a message counts as timed out")
    parser.add_argument(
        "--workers",
        type=int,
        default=RASA_WORKERS,
        help=f"Rasa processes of the default profile (make run's RASA_WORKERS, default {RASA_WORKERS})",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=0.05,
        help="seconds between one simulated parent's first message and the next one's (default 0.05)",
    )
    parser.add_argument("--out", help="where bench.json and bench.png go (default results/bench)")
    parser.add_argument("--url", help="drive this Rasa server instead of starting one (no cold start or memory)")
    parser.add_argument("--dry-run", action="store_true", help="drive a stub server: checks the tool, not Rasa")
    parser.add_argument("--stub-delay-ms", type=float, default=5, help="the stub's answer time (--dry-run)")
    parser.add_argument(
        "--production",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also bench the production profile: auto (when PostgreSQL, Redis and nginx answer), yes, no",
    )
    parser.add_argument("--train", action="store_true", help="measure `rasa train --force` first (minutes)")
    parser.add_argument("--profile", action="store_true", help="py-spy both servers during one level")
    parser.add_argument("--profile-at", type=int, default=10, help="the level to profile (default 10)")
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples a second")
    args = parser.parse_args(argv)
    args.level_list = [int(part) for part in args.levels.split(",") if part.strip()]
    if not args.level_list or min(args.level_list) < 1:
        parser.error("--levels needs whole numbers of at least 1")
    if not 1 <= args.workers <= 16:
        parser.error("--workers is the number of Rasa processes, from 1 to 16")
    if not 0 <= args.ramp <= 1:
        parser.error("--ramp is seconds between parents' starts, from 0 to 1")
    if args.duration <= 0 and not args.per_level:
        parser.error("give --duration above 0 or --per-level")
    if args.profile and args.profile_at not in args.level_list:
        parser.error(f"--profile-at {args.profile_at} is not one of --levels {args.levels}")
    if args.profile and (args.url or args.dry_run):
        parser.error("--profile needs the servers the bench starts (not --url or --dry-run)")
    return args


def bench_default_profile(model: Path, settings: Settings) -> Dict[str, Any]:
    """`make run`'s servers: the Rasa server (its worker processes), the action server, a fresh SQLite store."""
    workdir = settings.out / "servers"  # the servers' logs stay here; the tracker store starts empty
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    print(f"starting the action and Rasa servers ({model.name}); logs in {workdir} ...", flush=True)
    started = time.monotonic()
    with running_servers(model, workdir, web=False, env={"SANIC_WORKERS": str(settings.workers)}) as urls:
        pids = {name: server_pid(int(urls[name].rsplit(":", 1)[1])) for name in ("rasa", "actions")}
        found = {name: pid for name, pid in pids.items() if pid is not None}
        if len(found) < len(pids):
            print(f"warning: no process found for {set(pids) - set(found)}: its memory is not measured")
        if "rasa" in found:  # Sanic's main process starts the workers that answer
            workers = child_pids(found["rasa"])
            found.update({f"rasa{WORKER}{number}": pid for number, pid in enumerate(workers, 1)})
        return asyncio.run(drive(urls["rasa"], settings, found, started))


def production_settings(env: Mapping[str, str]) -> ProfileSettings:
    """The production profile as `JDM_PROFILE=production make run` starts it, on free ports and its own data.

    The database and Redis come from the same variables as the profile's (DB_HOST, REDIS_HOST, ...), but
    the bench writes to database `jdm_bench` and Redis database 2, never to the clinic's. All simulated
    parents come from one address, so nginx's per-address rate and connection limits are lifted.
    """
    return ProfileSettings.from_env(
        {
            **env,
            "DB_NAME": BENCH_DATABASE,
            "REDIS_DB": "2",
            "RASA_SERVERS": "2",
            "RASA_PORT": str(two_free_ports()),
            "ACTIONS_PORT": str(free_port()),
            "WEB_PORT": str(free_port()),
            "NGINX_RATE_PER_SECOND": "100000",
            "NGINX_BURST": "100000",
            "NGINX_CONNECTIONS_PER_CLIENT": "100000",
        }
    )


def bench_production_profile(model: Path, settings: Settings, required: bool) -> Tuple[Optional[Dict[str, Any]], str]:
    """The same levels through nginx to two Rasa servers; (measurements, what was run) or (None, why not)."""
    try:
        profile = production_settings(os.environ)
        check_nginx()
        check_redis(profile)
        ensure_database(profile, fresh=True)
    except (ProfileError, ImportError) as error:
        if required:
            raise SystemExit(f"error: the production profile cannot run: {error}") from None
        print(f"production profile not run: {error}")
        return None, f"not run: {error}"
    workdir = settings.out / "production-servers"
    shutil.rmtree(workdir, ignore_errors=True)
    stack = Stack(profile, workdir, model)
    described = (
        f"{profile.rasa_servers} Rasa servers behind nginx, PostgreSQL {profile.db_host}:{profile.db_port}/"
        f"{profile.db_name}, Redis {profile.redis_host}:{profile.redis_port}/{profile.redis_db}"
    )
    print(f"\nstarting the production profile ({described}); logs in {workdir} ...", flush=True)
    started = time.monotonic()
    try:
        stack.start_all()
        pids = {name: stack.processes[name].pid for name in (*stack.rasa_names(), "actions")}
        unprofiled = dataclasses.replace(settings, profile_at=None)  # `make profile` looks at the default profile
        return asyncio.run(drive(stack["nginx"], unprofiled, pids, started)), described
    finally:
        stack.stop_all()


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    conversations_file = ROOT / args.conversations
    conversations = load_conversations(conversations_file)
    out = Path(args.out) if args.out else ROOT / "results" / "bench" / ("dry-run" if args.dry_run else "")
    out.mkdir(parents=True, exist_ok=True)
    model = ROOT / args.model
    settings = Settings(
        conversations=conversations,
        levels=args.level_list,
        duration=args.duration if args.duration > 0 else None,
        per_level=args.per_level,
        timeout=args.timeout,
        out=out,
        profile_at=args.profile_at if args.profile else None,
        profile_rate=args.profile_rate,
        ramp=args.ramp,
        workers=args.workers,
    )
    load_start = os.getloadavg()[0]
    date = time.strftime("%Y-%m-%d %H:%M")
    training = measure_training() if args.train else training_from_record(model)

    if args.dry_run:

        async def against_stub() -> Dict[str, Any]:
            async with stub_server(args.stub_delay_ms / 1000) as url:
                return await drive(url, settings, {}, None)

        measured = asyncio.run(against_stub())
    elif args.url:
        measured = asyncio.run(drive(args.url.rstrip("/"), settings, {}, None))
    else:
        if not model.exists():
            raise SystemExit(f"{args.model} is missing: run `make train` first")
        measured = bench_default_profile(model, settings)
    production: Optional[Dict[str, Any]] = None
    if args.dry_run or args.url or args.production == "no":
        why = "--production no" if args.production == "no" else "the bench did not start the servers"
        production_note = f"not run ({why})"
    else:
        production, production_note = bench_production_profile(model, settings, required=args.production == "yes")
        if production is not None:
            production["targets"] = check_targets({**production, "training": training})

    turns = sum(len(c.turns) for c in conversations)
    report: Dict[str, Any] = {
        "date": date,
        "dry_run": args.dry_run,
        "machine": {"cpus": os.cpu_count(), "load_start": load_start, "load_end": os.getloadavg()[0]},
        "model": "stub" if args.dry_run else args.url or args.model,
        "conversations": f"{args.conversations}: {len(conversations)} conversations, {turns} turns",
        "settings": {
            "levels": settings.levels,
            "duration_s": settings.duration,
            "conversations_per_level": settings.per_level,
            "timeout_s": settings.timeout,
            "ramp_s": settings.ramp,
        },
        "workers": settings.workers,
        **measured,
        "training": training,
        "quality": None if args.dry_run else quality(model),
        "production_profile": production_note,
        "production": production,
    }
    report["targets"] = check_targets(report)
    json_path, png_path = out / "bench.json", out / "bench.png"
    report["written"] = {"json": str(json_path), "png": str(png_path)}
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    profiles = {"default": report["levels"]}
    if production:
        profiles["production (2 servers)"] = production["levels"]
    write_plot(profiles, png_path, f"JDM assistant, {date}{' (dry run)' if args.dry_run else ''}")
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
