"""The report's figures, counted from every conversation's turns (the JSON summary but the question groups)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, Iterable, List, Tuple

from clinic_report.conversations import OUTCOMES, TurnResult, day_of
from clinic_report.settings import ENDINGS, ReportSettings
from jdm_content.directory import directory, matching
from jdm_content.knowledge import load_topics
from jdm_content.lexicon import entry
from jdm_content.triage import RULE_TIERS

SECONDS_PER_DAY = 86400
NOT_STATED = "not_stated"


def days_in(since: float, now: float) -> List[str]:
    """Every calendar day from `since` to `now`, so a quiet day shows as 0."""
    days: List[str] = []
    moment = since
    while moment < now + SECONDS_PER_DAY:
        day = day_of(min(moment, now))
        if not days or days[-1] != day:
            days.append(day)
        moment += SECONDS_PER_DAY / 2  # half days: a 23- or 25-hour day (clock change) is not skipped
    return days


def _ranked(counts: Counter, limit: int) -> List[Tuple[Any, int]]:
    """Most frequent first, ties by name, so the same store always gives the same report."""
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))[:limit]


def per_day(conversations: Iterable[List[TurnResult]], days: List[str]) -> List[Dict[str, Any]]:
    messages: Counter = Counter()
    talking: Counter = Counter()
    for turns in conversations:
        for day in {turn.day for turn in turns}:
            talking[day] += 1
        messages.update(turn.day for turn in turns)
    return [{"date": day, "conversations": talking[day], "messages": messages[day]} for day in days]


def answers(turns: List[TurnResult]) -> Dict[str, Any]:
    outcomes = Counter(turn.outcome for turn in turns if turn.outcome)
    questions = sum(outcomes.values())
    figures: Dict[str, Any] = {"questions": questions, **{outcome: outcomes[outcome] for outcome in OUTCOMES}}
    figures["answer_rate"] = round(outcomes["answered"] / questions, 4) if questions else None
    return figures


def topics(turns: List[TurnResult], limit: int) -> List[Dict[str, Any]]:
    titles = {topic.id: topic.title for topic in load_topics().values()}
    counts = Counter(turn.topic for turn in turns if turn.outcome == "answered" and turn.topic)
    return [{"topic": t, "title": titles.get(t, t), "count": n} for t, n in _ranked(counts, limit)]


def terms(turns: List[TurnResult], limit: int) -> List[Dict[str, Any]]:
    counts = Counter(term for turn in turns for term in turn.terms)
    ranked = []
    for (label, term_id), count in _ranked(counts, limit):
        found = entry(label, term_id)
        ranked.append({"term": term_id, "kind": label, "name": found.name if found else term_id, "count": count})
    return ranked


def handoffs(turns: List[TurnResult]) -> Dict[str, Any]:
    shown = [turn for turn in turns if turn.organisations]
    ids = {organisation.name: organisation.id for organisation in directory().values()}
    needs = {need.id: need.name for need in matching().needs}
    by_organisation = Counter(name for turn in shown for name in turn.organisations)
    by_need = Counter(turn.need or NOT_STATED for turn in shown)
    return {
        "total": len(shown),
        "by_organisation": [
            {"organisation": ids.get(name), "name": name, "count": n}
            for name, n in _ranked(by_organisation, len(by_organisation))
        ],
        "by_need": [
            {"need": need, "name": needs.get(need, "no particular need stated"), "count": n}
            for need, n in _ranked(by_need, len(by_need))
        ],
    }


def summarise(
    conversations: Dict[str, List[TurnResult]], settings: ReportSettings, since: float, now: float
) -> Dict[str, Any]:
    """Every figure of the report but the question groups; no sender id leaves this function."""
    every = list(conversations.values())
    turns = [turn for conversation in every for turn in conversation]
    tiers = Counter(turn.tier for turn in turns if turn.tier)
    endings = Counter(conversation[-1].ending for conversation in every)
    return {
        "totals": {"conversations": len(every), "messages": len(turns)},
        "per_day": per_day(every, days_in(since, now)),
        "topics": topics(turns, settings.top_topics),
        "terms": terms(turns, settings.top_terms),
        "answers": answers(turns),
        "triage": {tier: tiers[tier] for tier in RULE_TIERS},
        "handoffs": handoffs(turns),
        "endings": {ending: endings[ending] for ending in ENDINGS},
    }


def unanswered_questions(conversations: Dict[str, List[TurnResult]]) -> Counter:
    """The words of every question not answered, with how often each was asked (unmasked: mask before use)."""
    return Counter(turn.question for turns in conversations.values() for turn in turns if turn.question)
