"""Every fact points at its source words, and every answer says only what its facts' passages say.

The project keeps no copy of the two source documents: tests that need them
read them from SOURCES_DIR (default ../shared/seeds beside the project). When
they are absent the tests skip with a loud reason, except under CI (CI=true),
where a missing document fails.

Key terms are numbers, medicines and tests (the lexicon's spellings plus
"steroid", "chemotherapy", "anti-malarial", "lab") and, for facts, body parts
(scripts/content_review.py `key_terms`, shared with `make review`).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Dict, Set

import pytest
from content_review import SAFETY, key_terms, parent_texts

from jdm_content import knowledge
from jdm_content.files import DataFileError
from jdm_content.knowledge import (
    DEFAULT_SOURCES_DIR,
    load_facts,
    load_sources,
    located_passage,
    missing_sources,
    source_sentences,
    sources_dir,
    split_sentences,
)

# Texts that name a medicine only in an example question a parent could ask.
EXAMPLE_QUESTIONS = {"domain.yml: utter_capabilities", "terms.yml: unknown"}
# The year of the NORD report, named where a card says its details come from that listing.
SOURCE_YEARS = {"num:2007"}


def source_documents() -> Path:
    """The folder holding the source documents; skips (fails under CI=true) when they are absent."""
    folder = sources_dir()
    missing = missing_sources(folder)
    if not missing:
        return folder
    reason = (
        "SOURCE DOCUMENTS NOT FOUND: "
        + ", ".join(str(path) for path in missing)
        + ". Tests that check the answers against the sources did NOT run. "
        "Set SOURCES_DIR to the folder holding them (default ../shared/seeds)."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the documents must be there)")
    warnings.warn(reason, UserWarning, stacklevel=2)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def documents() -> Path:
    return source_documents()


@pytest.fixture(scope="module")
def passage_terms(documents: Path) -> Dict[str, Set[str]]:
    """Fact id -> the key terms (with body parts) of the passage it points at."""
    return {fact.id: key_terms(located_passage(fact, documents), body_parts=True) for fact in load_facts().values()}


# --- where the documents come from (no documents needed) ---------------------------


def test_sources_dir_defaults_to_shared_seeds_beside_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES_DIR", raising=False)
    assert sources_dir() == DEFAULT_SOURCES_DIR == Path(knowledge.PROJECT_ROOT).parent / "shared" / "seeds"
    monkeypatch.setenv("SOURCES_DIR", "/somewhere/else")
    assert sources_dir() == Path("/somewhere/else")


def test_absent_documents_skip_loudly_but_fail_under_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.warns(UserWarning, match="SOURCE DOCUMENTS NOT FOUND"), pytest.raises(pytest.skip.Exception):
        source_documents()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="SOURCE DOCUMENTS NOT FOUND.*CI=true"):
        source_documents()


def test_a_missing_document_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"source document 'jdm_article' cannot be read.*SOURCES_DIR"):
        source_sentences("jdm_article", tmp_path)


def test_sentences_split_at_sentence_ends_and_line_breaks() -> None:
    text = 'It is "misery."  The speed varies. Close to 30 percent (i.e., most) do.\nTel: (586)776-3900\n\n  • IIM\n'
    assert split_sentences(text) == [
        'It is "misery."',
        "The speed varies.",
        "Close to 30 percent (i.e., most) do.",
        "Tel: (586)776-3900",
        "IIM",
    ]


def test_every_fact_has_a_locator() -> None:
    assert [fact.id for fact in load_facts().values() if not fact.sentences] == []


# --- facts against their passages ------------------------------------------------


def test_every_locator_is_inside_its_document(documents: Path) -> None:
    for fact in load_facts().values():
        count = len(source_sentences(fact.source, documents))
        assert all(1 <= n <= count for n in fact.sentences), (fact.id, fact.sentences, count)


def test_located_passage_holds_the_facts_numbers_medicines_tests_and_body_parts(passage_terms) -> None:
    missing = {}
    for fact in load_facts().values():
        lacking = key_terms(fact.text, body_parts=True) - passage_terms[fact.id]
        if lacking:
            missing[fact.id] = sorted(lacking)
    assert not missing, f"located passages lack these terms of their facts: {missing}"


def test_a_wrong_locator_is_caught(documents: Path) -> None:
    """The check above is not vacuous: point the prednisone dose at the incidence sentence."""
    fact = dataclasses.replace(load_facts()["tx_oral_prednisone"], sentences=(4,))
    lacking = key_terms(fact.text, body_parts=True) - key_terms(located_passage(fact, documents), body_parts=True)
    assert {"drug:prednisone", "num:1"} <= lacking


def test_located_passages_are_where_the_facts_say(documents: Path) -> None:
    """A few spot checks a clinician would make first."""
    facts = load_facts()
    assert "3-day course" in located_passage(facts["tx_pulse_steroids"], documents)
    assert "about half will recover completely" in located_passage(facts["half_recover"], documents)
    assert "almost certainly not the cause" in located_passage(facts["trigger_not_cause"], documents)
    assert "reddish-purple" in located_passage(facts["nord_heliotrope_eyelids"], documents)
    assert "registered users" in located_passage(facts["nord_full_report"], documents)


# --- parent-facing texts against their facts' passages -----------------------------


def test_each_answer_names_only_numbers_medicines_and_tests_its_facts_passages_contain(passage_terms) -> None:
    unsupported = {}
    for item in parent_texts():
        if not item.answer:
            continue
        supported = set().union(*(passage_terms[fact_id] for fact_id in item.facts))
        extra = key_terms(item.text) - supported
        if extra:
            unsupported[item.where] = sorted(extra)
    assert not unsupported, f"named, but in none of the cited facts' passages: {unsupported}"


def test_an_answer_naming_what_its_facts_do_not_say_is_caught(passage_terms) -> None:
    text = "Treatment is usually methotrexate for 6 weeks.\n\nSource: JDM overview article."
    assert key_terms(text) - passage_terms["tx_pulse_steroids"] == {"drug:methotrexate", "num:6"}


def test_texts_that_cite_no_facts_name_no_medicine_test_or_number() -> None:
    """Only safety replies (emergency numbers) and example questions may; they are reviewed apart."""
    named = {}
    for item in parent_texts():
        if item.answer or item.section == SAFETY or item.label or item.where in EXAMPLE_QUESTIONS:
            continue
        if item.where.endswith("example (button)"):
            continue
        # Templates as written (a {name} filled in is the parent's own word); cards without their contact lines.
        texts = item.fillings if item.where.startswith("organisations.yml") else (item.text,)
        terms = set().union(*(key_terms(text) for text in texts)) - SOURCE_YEARS
        if terms:
            named[item.where] = sorted(terms)
    assert not named, f"texts that cite no facts but name medicines, tests or numbers: {named}"


def test_every_answer_with_a_source_line_cites_facts() -> None:
    uncited = [i.where for i in parent_texts() if "\nSource: " in i.text and not i.facts]
    assert uncited == []


def test_the_sources_yml_files_are_the_documents(documents: Path) -> None:
    for source in load_sources().values():
        assert (documents / source.file).is_file()
        assert len(source_sentences(source.id, documents)) > 20
