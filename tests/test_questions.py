"""Reading a message by its questions: the parts, what each question is about, the first answered first."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import numpy as np
import scipy.sparse
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.events import SlotSet

from actions.care_team import ActionTriageNote
from actions.faq import ActionAnswerFaq, ActionExplainTerm
from components.sentence_classifier import feature_blocks, part_blocks
from conftest import make_tracker
from jdm_content.knowledge import load_terms
from jdm_content.questions import FIRST_QUESTION_ENTITY, QuestionFinder, asked_last, first_question, named_in_question

FINDER = QuestionFinder(["what", "how", "why", "will", "is", "can"])


def parts(text: str) -> List[str]:
    return [text[s:e] for s, e in FINDER.split(text).parts]


def asking(text: str) -> List[str]:
    return [text[s:e] for s, e in FINDER.split(text).asking]


def test_a_story_is_read_by_its_question_sentence() -> None:
    story = "He was in hospital for a week. The rash is on his knuckles. Will he need steroids for years?"
    assert parts(story) == ["He was in hospital for a week.", "The rash is on his knuckles.", asking(story)[0]]
    assert asking(story) == ["Will he need steroids for years?"]


def test_a_question_without_a_question_mark_is_found_by_its_opening_word() -> None:
    assert asking("She is 6. what helps the rash") == ["what helps the rash"]


def test_two_questions_joined_by_and_are_two_parts_but_a_statement_is_not_split() -> None:
    assert asking("Why is methotrexate given, and how long will she take it?") == [
        "Why is methotrexate given",
        "how long will she take it?",
    ]
    assert parts("She is tired and is sleeping a lot.") == ["She is tired and is sleeping a lot."]


def test_cant_opens_no_question() -> None:
    assert asking("Can't get her to take the tablets. She cries.") == []


def mark(start: int, end: int, label: str = "faq/rash") -> Dict[str, Any]:
    return {"entity": FIRST_QUESTION_ENTITY, "value": label, "start": start, "end": end, "confidence": 0.9}


def test_the_last_question_keeps_its_own_named_things_or_borrows_the_firsts() -> None:
    text = "Why is plaquenil given, and how long will she take it?"
    drug = {"entity": "drug", "value": "plaquenil", "start": 7, "end": 16}
    entities = [drug, mark(0, 22)]
    rest, named = asked_last(text, entities, {"drug"})
    assert rest.endswith("and how long will she take it?") and "plaquenil" not in rest
    assert drug in named  # "it" is the first question's medicine
    rash = {"entity": "symptom", "value": "rash", "start": 50, "end": 54}
    _, named = asked_last(text + " the rash", [*entities, rash], {"drug", "symptom"})
    assert named == [rash]


def test_the_first_question_is_its_words_its_named_things_and_its_label() -> None:
    text = "Why is plaquenil given, and how long will she take it?"
    drug = {"entity": "drug", "value": "plaquenil", "start": 7, "end": 16}
    assert first_question(text, [drug, mark(0, 22, "ask_term")]) == ("Why is plaquenil given", [drug], "ask_term", 0.9)
    assert first_question(text, [drug]) is None


def featurized(text: str) -> Message:
    """A message with tokens, two count featurizers' sequence and sentence features and a dense sentence vector."""
    words = text.split()
    tokens, offset = [], 0
    for word in words:
        start = text.index(word, offset)
        tokens.append(Token(word, start))
        offset = start + len(word)
    vocab = sorted(set(words))
    rows = np.zeros((len(words), len(vocab)))
    for index, word in enumerate(words):
        rows[index, vocab.index(word)] = 1
    features = [Features(np.ones((1, 4)), "sentence", "text", "embedding")]
    for origin in ("words", "chars"):
        features.append(Features(scipy.sparse.coo_matrix(rows), "sequence", "text", origin))
        features.append(Features(scipy.sparse.coo_matrix(rows.sum(axis=0, keepdims=True)), "sentence", "text", origin))
    return Message(data={"text": text, TOKENS_NAMES["text"]: tokens}, features=features)


def test_a_part_spanning_the_whole_message_has_the_whole_messages_features() -> None:
    message = featurized("the rash is red . is it sore ?")
    whole = feature_blocks(message, 0.5)
    part = part_blocks(message, (0, len(message.get("text"))), np.ones(4), 0.5)
    assert part is not None and len(part) == len(whole)
    for (a, scale_a), (b, scale_b) in zip(part, whole, strict=True):
        dense_a = a.toarray() if scipy.sparse.issparse(a) else a
        dense_b = b.toarray() if scipy.sparse.issparse(b) else b
        assert np.allclose(dense_a * scale_a, dense_b * scale_b)


def test_a_parts_counts_are_its_own_tokens() -> None:
    message = featurized("the rash is red . is it sore ?")
    part = part_blocks(message, (18, 30), np.ones(4), 0.5)  # "is it sore ?"
    assert part is not None
    counts = part[1][0].toarray()[0]
    assert counts.sum() == 4 and counts[sorted(set(message.get("text").split())).index("rash")] == 0


def test_the_first_question_is_answered_after_the_advice_and_sets_the_topic(dispatcher, domain) -> None:
    text = "What causes JDM? And can her brother catch it?"
    tracker = make_tracker(text, "faq", entities=[mark(0, 16, "faq/cause")], retrieval_intent="faq/others_get_it")
    events = asyncio.run(ActionTriageNote().run(dispatcher, tracker, domain))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/cause"]
    assert events == [SlotSet("topic", "cause")]


def test_an_emergency_reply_stands_alone(dispatcher, domain) -> None:
    tracker = make_tracker("What causes JDM? She can't breathe", "emergency", entities=[mark(0, 16, "faq/cause")])
    assert asyncio.run(ActionTriageNote().run(dispatcher, tracker, domain)) == []
    assert dispatcher.messages == []


def test_a_term_answer_given_for_the_first_question_is_not_repeated_for_the_second(dispatcher, domain) -> None:
    """ "Why is she on methotrexate?? isn't it a chemo drug??": one methotrexate answer, not two."""
    answer = load_terms().by_id["methotrexate"].answer
    events = [{"event": "user", "text": "..."}, {"event": "bot", "text": answer}]
    drug = {"entity": "drug", "value": "methotrexate", "start": 14, "end": 26}
    tracker = make_tracker("why is she on methotrexate?? isnt it a chemo drug??", "ask_term", [drug], events=events)
    ActionExplainTerm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []


# --- a story's own named things (issue 22, item 1: stories written by others) ---------------
STORY = "She has been on methotrexate since May and the rash is fading. Will she grow out of it?"
MTX = {"entity": "drug", "value": "methotrexate", "start": STORY.index("meth"), "end": STORY.index(" since")}


def test_a_storys_named_things_are_left_out_of_its_question() -> None:
    words, named = named_in_question(FINDER, STORY, [MTX], {"drug"})
    assert words == "Will she grow out of it?" and named == []
    region = {"entity": "region", "value": "uk", "start": 0, "end": 3}
    assert named_in_question(FINDER, STORY, [MTX, region], {"drug"})[1] == [region]  # other labels stay


def test_a_one_sentence_question_keeps_all_its_named_things() -> None:
    text = "Is methotrexate why she feels sick?"
    drug = {"entity": "drug", "value": "methotrexate", "start": 3, "end": 15}
    assert named_in_question(FINDER, text, [drug], {"drug"}) == (text, [drug])


def test_a_topic_asked_after_a_story_that_names_a_medicine_is_the_topics_answer(dispatcher, domain) -> None:
    tracker = make_tracker(STORY, "faq", entities=[MTX], retrieval_intent="faq/outlook")
    ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/outlook"]


def test_a_medicine_named_in_a_storys_question_is_still_answered_about(dispatcher, domain) -> None:
    text = "The rash is fading since May. Will she have to stay on methotrexate?"
    drug = {"entity": "drug", "value": "methotrexate", "start": text.index("meth"), "end": len(text) - 1}
    tracker = make_tracker(text, "faq", entities=[drug], retrieval_intent="faq/outlook")
    ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert [m.get("text") for m in dispatcher.messages] == [load_terms().by_id["methotrexate"].answer]


def test_a_term_question_that_names_nothing_is_about_the_storys_medicine(dispatcher, domain) -> None:
    text = "He started hydroxychloroquine last month. What is it for?"
    drug = {"entity": "drug", "value": "hydroxychloroquine", "start": 11, "end": text.index(" last")}
    ActionExplainTerm().run(dispatcher, make_tracker(text, "ask_term", [drug]), domain)
    assert [m.get("text") for m in dispatcher.messages] == [load_terms().by_id["hydroxychloroquine"].answer]


def test_a_storys_medicine_note_is_said_before_the_answer(dispatcher, domain) -> None:
    note = {"entity": "care_note", "value": "ask_child_medicine", "start": 0, "end": 5}
    tracker = make_tracker("He is on 20mg of pred. Can JDM affect the eyes?", "faq", [note])
    asyncio.run(ActionTriageNote().run(dispatcher, tracker, domain))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_child_medicine"]
