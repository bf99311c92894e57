"""The whole report from a tracker store: read, count, mask, group; the JSON summary."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Dict, List, Optional, Pattern

from clinic_report.conversations import Vocabulary, read_conversations
from clinic_report.figures import SECONDS_PER_DAY, summarise, unanswered_questions
from clinic_report.grouping import Group, SentenceEncoder, group_questions
from clinic_report.masking import load_masker
from clinic_report.settings import ReportSettings, load_report_settings
from clinic_report.store import EventStore
from jdm_content.knowledge import load_topics

EDGE_PUNCTUATION = " .,;:!?¿¡-–—…'\"“”‘’()"


def normalised(text: str, filler: Pattern[str]) -> str:
    """One form for wordings that differ only in case, spacing, punctuation or greetings around the question."""
    text = " ".join(text.lower().split()).strip(EDGE_PUNCTUATION)
    while True:
        shorter = filler.sub("", text).strip(EDGE_PUNCTUATION)
        if shorter == text or not shorter:
            return text
        text = shorter


def masked_questions(questions: Counter, settings: ReportSettings) -> Counter:
    """The questions with what identifies a family masked, in one form; the same wording is counted together."""
    masked = load_masker().mask_all(questions)
    result: Counter = Counter()
    for text, count in questions.items():
        result[normalised(masked[text], settings.filler)] += count
    return result


def groups_summary(groups: List[Group], settings: ReportSettings) -> Dict[str, Any]:
    """Groups of at least `min_group_size` questions with their wordings; smaller ones only as counts."""
    titles = {topic.id: topic.title for topic in load_topics().values()}
    shown = [group for group in groups if group.count >= settings.min_group_size]
    small = [group for group in groups if group.count < settings.min_group_size]
    return {
        "questions": sum(group.count for group in groups),
        "distinct_wordings": sum(len(group.wordings) for group in groups),
        "min_group_size": settings.min_group_size,
        "groups": [
            {
                "count": group.count,
                "wordings": [
                    {"text": text, "count": count} for text, count in group.wordings[: settings.wordings_per_group]
                ],
                "nearest_topic": group.topic,
                "nearest_topic_title": titles.get(group.topic, group.topic),
                "similarity": group.similarity,
                "topic_is_close": group.similarity >= settings.close_topic,
            }
            for group in shown[: settings.top_groups]
        ],
        "groups_not_listed": len(shown[settings.top_groups :]),
        "questions_not_listed": sum(group.count for group in shown[settings.top_groups :]),
        "small_groups": len(small),
        "questions_in_small_groups": sum(group.count for group in small),
    }


def build_report(
    store: EventStore,
    days: int,
    now: Optional[float] = None,
    settings: Optional[ReportSettings] = None,
    encoder: Optional[SentenceEncoder] = None,
) -> Dict[str, Any]:
    """The JSON summary of the last `days` days of `store`."""
    settings = settings or load_report_settings()
    own_encoder = encoder is None
    encoder = encoder or SentenceEncoder()  # its processes load the model while the store is read
    try:
        return _build(store, days, now, settings, encoder)
    finally:
        if own_encoder:
            encoder.close()


def _build(
    store: EventStore, days: int, now: Optional[float], settings: ReportSettings, encoder: SentenceEncoder
) -> Dict[str, Any]:
    now = time.time() if now is None else now
    since = now - days * SECONDS_PER_DAY
    vocabulary = Vocabulary.load(settings.ending_intents)
    conversations = read_conversations(store.rows(since, vocabulary.actions), vocabulary)
    still_there = store.senders()
    conversations = {sender: turns for sender, turns in conversations.items() if sender in still_there}
    summary: Dict[str, Any] = {
        "period": {
            "days": days,
            "from": time.strftime("%Y-%m-%d %H:%M", time.localtime(since)),
            "to": time.strftime("%Y-%m-%d %H:%M", time.localtime(now)),
        },
        **summarise(conversations, settings, since, now),
    }
    questions = masked_questions(unanswered_questions(conversations), settings)
    groups = group_questions(questions, encoder, settings.group_similarity)
    summary["unanswered"] = groups_summary(groups, settings)
    return summary
