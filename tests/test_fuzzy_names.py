"""Misspelt names of medicines, tests and signs are read as the lexicon's; English look-alikes are not.

The component runs with config.yml's settings, as in the assistant; a name
counts as found when the actions would map its entity to the lexicon id
(jdm_content/lexicon.py), which is what decides the answer.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.named_things import MisspeltNames
from conftest import ROOT
from jdm_content.fuzzy_names import NameMatcher
from jdm_content.lexicon import canonical_id

SETTINGS = next(
    c
    for c in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    if c["name"].endswith("MisspeltNames")
)


@pytest.fixture(scope="module")
def component() -> MisspeltNames:
    return MisspeltNames.create(SETTINGS, None, None, ExecutionContext(GraphSchema({}), "test"))  # type: ignore[arg-type]


def named(component: MisspeltNames, text: str, entities: Optional[List[Dict[str, Any]]] = None) -> Set[Tuple[str, str]]:
    """(label, lexicon id) of every drug, test or sign the message's entities name."""
    message = Message(data={"text": text, "entities": entities or []})
    component.process([message])
    return {
        (e["entity"], canonical_id(e["entity"], e["value"]) or f"unmapped {e['value']!r}")
        for e in message.get("entities")
    }


@pytest.mark.parametrize(
    ("text", "label", "term_id"),
    [
        # medicines
        ("plaquenel for kids", "drug", "hydroxychloroquine"),
        ("is metotrexat a chemo", "drug", "methotrexate"),
        ("prednisolon?", "drug", "prednisone"),
        ("what is hydroxichloroquin", "drug", "hydroxychloroquine"),
        ("cyclosporene side effects", "drug", "ciclosporin"),
        # tests
        ("creatine kinaze levels", "test", "muscle_enzymes"),
        ("what does the capillaroscpy show", "test", "capillaroscopy"),
        ("electromiography for jdm", "test", "emg"),
        ("muscle biopsey tomorrow, what happens", "test", "muscle_biopsy"),
        ("neopterine test", "test", "neopterin"),
        # signs
        ("calcinosus lumps on her elbow", "symptom", "calcinosis"),
        ("gotrons papules on his knuckles", "symptom", "gottron"),
        ("what is vasculitas", "symptom", "vasculitis"),
        ("dysphagea in jdm", "symptom", "dysphagia"),
        ("heliotrop around the eyes", "symptom", "heliotrope_rash"),
    ],
)
def test_a_misspelt_name_is_read_as_the_lexicon_name(
    component: MisspeltNames, text: str, label: str, term_id: str
) -> None:
    assert named(component, text) == {(label, term_id)}


@pytest.mark.parametrize(
    "text",
    [
        "can you predict how long it will last",
        "which method is best for sun protection",
        "her white cell count is low",
        "is plaque on her teeth part of it",
        "is it a derma thing or a muscle thing",  # "derma" is 0.8 like "edema": the threshold was set above it
        "my contractor says the stairs are steep",
        "she had her vaccines last year",
        "does the remision last",
        "how do we treat eczema",
        "the medicine made her sick",
    ],
)
def test_english_look_alikes_are_not_names(component: MisspeltNames, text: str) -> None:
    assert named(component, text) == set()


@pytest.mark.parametrize("text", ["ck levels", "mtx side effects", "pred dose", "hcq?"])
def test_short_words_count_only_as_listed(text: str) -> None:
    """Words under min_length letters are never corrected: "ckk" or "mtxx" would be guesses."""
    matcher = NameMatcher.from_lexicon(
        ["drug", "test"], SETTINGS["min_similarity"], SETTINGS["min_length"], frozenset()
    )
    typo = text.split()[0]
    assert matcher.find(text.replace(typo, typo + typo[-1])) == []


def test_what_the_entity_ruler_found_is_left_as_it_is(component: MisspeltNames) -> None:
    ruler_found = [{"entity": "drug", "value": "Plaquenil", "start": 0, "end": 9}]
    message = Message(data={"text": "Plaquenil and metotrexat", "entities": list(ruler_found)})
    component.process([message])
    entities = message.get("entities")
    assert entities[0] == ruler_found[0]
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in entities[1:]] == [("drug", "methotrexat", 14, 24)]


def test_the_classifier_reads_a_misspelt_word_as_the_lexicon_spells_it(component: MisspeltNames) -> None:
    """The featurizers read tokens: "electromiography for jdm" then reads like "electromyography for jdm"."""
    message = Message(data={"text": "electromiography for jdm", "entities": []})
    WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), None, None, None).process([message])  # type: ignore[arg-type]
    component.process([message])
    assert [token.text for token in message.get(TOKENS_NAMES[TEXT])] == ["electromyography", "for", "jdm"]
    assert message.get(TEXT) == "electromiography for jdm"


def test_button_payloads_are_left_alone(component: MisspeltNames) -> None:
    assert named(component, '/ask_term{"drug": "plaquenel"}') == set()


def test_the_threshold_must_come_from_the_config() -> None:
    with pytest.raises(ValueError, match="min_similarity"):
        MisspeltNames.create({"min_length": 5}, None, None, ExecutionContext(GraphSchema({}), "test"))  # type: ignore[arg-type]
