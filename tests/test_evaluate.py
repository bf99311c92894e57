"""scripts/evaluate.py's grading and baseline on small made-up content: no servers, no model."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import evaluate  # noqa: E402
from evaluate import Baseline, Content, Question, UnknownLabel, baseline_grade, grade  # noqa: E402

from jdm_content.knowledge import Answer, load_follow_ups, load_terms, load_topics  # noqa: E402
from jdm_content.lexicon import Lexicon  # noqa: E402

# Real records given made-up values: fields added to jdm_content later keep working.
TERM = next(iter(load_terms().by_id.values()))
TOPIC = next(iter(load_topics().values()))
FOLLOW_UPS = load_follow_ups()
ANSWER = next(iter(FOLLOW_UPS.defaults.values()))


def answer(text: str | None = None, topic: str | None = None) -> Answer:
    return replace(ANSWER, text=text, topic=topic)


RASH = "The JDM rash is pinkish-purple.\n\nIt shows on the eyelids.\n\nSource: overview."
CONTENT = Content(
    responses={
        "utter_faq/rash": RASH,
        "utter_faq/cause": "No one knows the cause.\n\nSource: overview.",
        "utter_faq/skin_treatment": "Creams help the rash.\n\nSource: overview.",
        "utter_child_medicine": "I can't give advice about your child's medicine.\n\nGeneral information.",
        "utter_emergency": "**This may be an emergency.**\n\nCall 911.",
        "utter_clinic_contact": "Please contact the clinic:\n\n**{clinic_name}**",
    },
    terms={
        "tacrolimus": replace(
            TERM,
            id="tacrolimus",
            topic="skin_treatment",
            answer="Tacrolimus is a cream.\n\nSource.",
            dose_answer="Tacrolimus is a cream; the team sets how much.\n\nSource.",
        ),
        "methotrexate": replace(
            TERM, id="methotrexate", topic="cause", answer="Methotrexate lets steroids come down.\n\nSource."
        ),
    },
    follow_ups=replace(
        FOLLOW_UPS,
        kinds=("side_effects", "more", "why"),
        defaults={
            "side_effects": answer("My information doesn't list side effects."),
            "more": answer('That\'s all I have on "{title}".'),
            "why": answer("My information doesn't say why."),
        },
        by_topic={"cause": {"more": answer(topic="rash")}},
        term_answers=("why",),
    ),
    topics={
        topic_id: replace(TOPIC, id=topic_id, title=title)
        for topic_id, title in [("rash", "The rash"), ("cause", "Causes"), ("skin_treatment", "Skin treatment")]
    },
    organisations={"cure_jm": "Cure JM Foundation", "tma": "The Myositis Association"},
    regions={"uk": "the United Kingdom", "us": "the United States"},
)


def replies(*texts: str) -> List[dict]:
    """Bot messages as the REST channel returns them: one per paragraph."""
    return [{"text": text, "buttons": []} for text in texts]


def right(expect: str | tuple, *texts: str) -> bool:
    labels = (expect,) if isinstance(expect, str) else expect
    return grade(Question("a question", labels, "plain"), replies(*texts), CONTENT)


def test_the_first_paragraph_of_the_right_answer_passes() -> None:
    assert right("faq/rash", "Some disclaimer.", "The JDM rash is   pinkish-purple.", "It shows on the eyelids.")


def test_another_topics_answer_fails() -> None:
    assert not right("faq/rash", "No one knows the cause.", "Source: overview.")
    assert not right("faq/rash")


def test_any_of_several_acceptable_labels_passes() -> None:
    assert right(("faq/rash", "faq/cause"), "No one knows the cause.")
    assert not right(("faq/rash", "faq/cause"), "Creams help the rash.")


def test_term_answer_and_follow_ups_come_from_the_data() -> None:
    assert right("term/tacrolimus", "Tacrolimus is a cream.")
    assert right("term/tacrolimus/side_effects", "My information doesn't list side effects.")
    # a follow-up pointing to a topic expects that topic's answer; {title} is filled in
    assert right("term/methotrexate/more", "The JDM rash is pinkish-purple.")
    assert right("term/tacrolimus/more", 'That\'s all I have on "Skin treatment".')
    assert not right("term/tacrolimus/side_effects", "Tacrolimus is a cream.")
    # kinds listed in term_answers are answered with the term's own answer
    assert right("term/tacrolimus/why", "Tacrolimus is a cream.")


def test_medicine_needs_the_advice_warning_and_the_terms_dose_answer() -> None:
    warning = "I can't give advice about your child's medicine."
    assert right("medicine/tacrolimus", warning, "Tacrolimus is a cream; the team sets how much.")
    assert not right("medicine/tacrolimus", warning, "Tacrolimus is a cream.")
    assert not right("medicine/tacrolimus", warning)
    assert right("medicine", warning)


def test_org_card_is_its_bold_name() -> None:
    card = "**Cure JM Foundation**\nIt focuses on juvenile myositis.\nPhone: 123"
    assert right("org/cure_jm", card)
    assert not right("org/tma", card)


def test_support_needs_a_card_and_the_region() -> None:
    intro = "Here are support organisations that may fit your family in the United Kingdom."
    card = "**The Myositis Association**\nwhy\ncontact"
    assert right("support", card)
    assert right("support/uk", intro, card)
    assert not right("support/us", intro, card)
    assert not right("support/uk", intro)


def test_placeholders_are_cut_off() -> None:
    assert right("clinic_admin", "Please contact the clinic:", "**Royal Clinic**")


def test_a_label_whose_response_is_missing_is_wrong_not_an_error() -> None:
    assert not right("human", "Please contact the clinic:")
    assert evaluate.expected("human", CONTENT).missing == ("utter_human_contact",)


@pytest.mark.parametrize(
    "label", ["faq/no_such_topic", "term/aspirin", "org/nobody", "support/mars", "term/tacrolimus/dosage", "banana"]
)
def test_an_unknown_label_is_an_error_naming_the_question(label: str) -> None:
    with pytest.raises(UnknownLabel, match=rf"'{label}'.*'what about it\?'"):
        grade(Question("what about it?", ("faq/rash", label), "plain"), [], CONTENT)


def test_baseline_reads_nlu_yaml_and_predicts_the_nearest_intent(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: faq/rash\n"
        "  examples: |\n"
        "    - what does the jdm rash look like\n"
        "    - purple rash on the eyelids\n"
        "- intent: ask_term\n"
        "  examples: |\n"
        "    - what is [mtx](drug) for\n"
        "    - what is this medicine\n"
        "- synonym: methotrexate\n"
        "  examples: |\n"
        "    - mtx\n",
        encoding="utf-8",
    )
    examples = evaluate.read_nlu_examples([tmp_path / "nlu.yml"])
    assert ("what is mtx for", "ask_term") in examples and len(examples) == 4
    lexicon = Lexicon(
        entries=(),
        variants={("drug", "mtx"): "methotrexate", ("region", "uk"): "uk"},
        exact_variants={("region", "US"): "us"},
    )
    baseline = Baseline(examples, lexicon)

    assert baseline.predict("my son has a purple rash on his eyelids") == ("faq/rash", set())
    intent, named = baseline.predict("what is MTX used for")
    assert (intent, named) == ("ask_term", {"methotrexate"})
    assert baseline_grade(Question("", ("term/methotrexate",), "plain"), intent, named)
    assert not baseline_grade(Question("", ("term/prednisone",), "plain"), intent, named)
    assert baseline.predict("we are in the US")[1] == {"us"}
    assert baseline.predict("tell us about mtxs")[1] == set()  # whole words; "us" only as written


@pytest.mark.parametrize(
    "label, intent, named, met",
    [
        ("support/uk", "inform_region", {"uk"}, True),
        ("support/uk", "ask_support", set(), False),
        ("support", "ask_support", set(), True),
        ("org/cure_jm", "ask_org_contact", {"cure_jm"}, True),
        ("term/tacrolimus/side_effects", "followup_side_effects", {"tacrolimus"}, True),
        ("term/tacrolimus/side_effects", "followup_how_long", {"tacrolimus"}, False),
        ("medicine", "ask_child_medicine", set(), True),
        ("not_covered", "ask_not_covered", set(), True),
        ("human", "ask_clinic_admin", set(), False),
    ],
)
def test_baseline_grading(label: str, intent: str, named: set, met: bool) -> None:
    assert evaluate.baseline_meets(label, intent, named) is met
