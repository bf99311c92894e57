"""The learned half of triage: it catches dangers told in words no rule lists, and only adds.

These run the real trained model (models/triage, built by `make train` from
data/safety/triage_examples/ and tests/triage_dev/) and the real sentence
encoder, as the Rasa server loads them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from components.sentence_vectors import SentenceVectors
from components.triage_guard import TriageGuard
from components.triage_model import TriageModel, TriageModelError, train
from jdm_content.files import DataFileError
from jdm_content.triage import TIERS, load_triage, load_triage_examples

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from build_triage_model import Encoder, development_sets, sealed_texts, sentence_examples  # noqa: E402

MODEL_FOLDER = ROOT / "models" / "triage"
SENTENCE_MODEL = ROOT / "models" / "minilm" / "all-MiniLM-L6-v2"

# Dangers told in a parent's own words, which none of the table's rules lists.
UNLISTED_DANGERS = [
    ("he's gone a funny grey colour round his mouth and his chest is heaving", "emergency"),
    ("his eyes have gone glassy and he just stares at me when I talk to him", "emergency"),
]


@pytest.fixture(scope="module")
def guard() -> TriageGuard:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    config = next(c for c in pipeline if c["name"].endswith("TriageGuard"))
    return TriageGuard.create(config, None, None, None)  # type: ignore[arg-type]


def reply_intent(guard: TriageGuard, text: str, intent: str = "faq") -> str:
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.8},
            "intent_ranking": [{"name": intent, "confidence": 0.8}, {"name": "greet", "confidence": 0.1}],
            "entities": [],
        }
    )
    return guard.process([message])[0].get("intent")["name"]


@pytest.mark.parametrize("text, tier", UNLISTED_DANGERS)
def test_a_danger_no_rule_lists_gets_its_tier_from_the_model(guard: TriageGuard, text: str, tier: str) -> None:
    triage = load_triage()
    assert triage.assess(triage.correct_typos(text)).tier == "none", "a rule lists it: choose another example"
    assert reply_intent(guard, text) == tier


def test_a_crisis_the_model_finds_beside_an_emergency_gets_both_replies(guard: TriageGuard) -> None:
    """The model's most severe tier is emergency here; its crisis must not be lost behind it."""
    text = "My son keeps telling us he's a burden and we'd all be happier. He's locked himself in the bathroom."
    triage = load_triage()
    assert triage.assess(triage.correct_typos(text)).tier == "none", "a rule lists it: choose another example"
    message = Message(data={"text": text, "intent": {"name": "faq", "confidence": 0.8}, "entities": []})
    guard.process([message])
    assert message.get("intent")["name"] == "crisis"
    assert [e["value"] for e in message.get("entities") if e["entity"] == "care_note"] == ["emergency"]


@pytest.mark.parametrize(
    "text",
    [
        # The same danger, but in a past story, a what-if, a general question, someone else's.
        "Two years ago he went a funny grey colour round his mouth and his chest was heaving. He's fine now, "
        "can he do PE?",
        "If she ever keeps staring into space and doesn't know who I am, what should I do?",
        "A boy on our ward went grey round his mouth and his chest was heaving, does that happen in JDM?",
        # A sentence that tells what is fine.
        "Nothing urgent, she's not in pain, her breathing is fine and her strength is good. Can she go "
        "swimming this summer?",
        # A sign said never to have come; a graze that stopped as soon as it was pressed.
        "He's never actually thrown up, he just says his tummy feels yuck and he's off his breakfast.",
        "She scraped her leg on the wall. It bled a bit, stopped as soon as I pressed on it, and she's fine.",
        # A "but" that leads up to the all-clear, not away from it.
        "He grazed his elbow on the trampoline, but it stopped bleeding after a minute. Can he go to football?",
    ],
)
def test_the_models_word_counts_only_for_the_child_now(guard: TriageGuard, text: str) -> None:
    assert reply_intent(guard, text) == "faq"


def test_the_model_never_lowers_a_rule(guard: TriageGuard) -> None:
    # The model alone may call this calm; the breathing rule fires.
    assert reply_intent(guard, "she is struggling to breathe") == "emergency"


def test_the_saved_model_loads_and_answers_as_trained(tmp_path: Path) -> None:
    vectors = SentenceVectors(SENTENCE_MODEL)
    texts = ["her lips are blue and she can't breathe", "what sun cream is best", "I want to end it all"]
    tiers = ["emergency", "none", "crisis"]
    examples = texts * 2 + ["she has a temperature on methotrexate", "her rash is slowly spreading"]
    labels = tiers * 2 + ["urgent", "soon"]
    model = train(vectors(examples), examples, labels, c=10.0)
    model.save(tmp_path, {"examples": len(examples)})
    loaded = TriageModel.load(tmp_path)
    assert np.allclose(loaded.probabilities(vectors(texts), texts), model.probabilities(vectors(texts), texts))
    assert [TIERS[i] for i in loaded.probabilities(vectors(texts), texts).argmax(axis=1)] == tiers


def test_a_whole_message_teaches_from_the_sentence_that_carries_its_tier() -> None:
    triage, encoder = load_triage(), Encoder(SentenceVectors(SENTENCE_MODEL))
    guide = TriageModel.load(MODEL_FOLDER)
    calm = "Two years ago she couldn't breathe and was rushed in. Now she's doing brilliantly at school."
    unlisted = "Ella is 9 and has JDM. Tonight he's gone a funny grey colour round his mouth and his chest is heaving."
    listed = "Our son has JDM and loves football. He is struggling to breathe right now."
    taught = sentence_examples(triage, encoder, guide, [(calm, "none"), (unlisted, "emergency"), (listed, "emergency")])
    assert ("Now she's doing brilliantly at school.", "none") in taught
    assert not [text for text, _ in taught if "couldn't breathe" in text], "a past danger taught as calm"
    assert [(text, tier) for text, tier in taught if tier != "none"] == [
        ("Tonight he's gone a funny grey colour round his mouth and his chest is heaving.", "emergency"),
        ("He is struggling to breathe right now.", "emergency"),
    ]


def test_the_development_sets_teach_and_the_sealed_sets_never_do() -> None:
    sets = development_sets()
    assert len(sets) >= 8 and all(messages for messages in sets.values())
    sealed = sealed_texts()
    assert len(sealed) >= 400 and not sealed & {text for messages in sets.values() for text, _ in messages}


def test_a_missing_model_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(TriageModelError, match=re.escape("run `make train`")):
        TriageModel.load(tmp_path)


def test_the_built_model_has_learned_from_every_example_file() -> None:
    info = yaml.safe_load((MODEL_FOLDER / "triage_model.json").read_text(encoding="utf-8"))
    assert info["examples"] >= len(set(load_triage_examples())), "rebuild with `make train`"


def test_a_broken_example_file_names_the_file_and_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "safety" / "triage_examples"
    folder.mkdir(parents=True)
    (folder / "mine.yml").write_text("examples:\n  - text: she is fine\n    tier: later\n", encoding="utf-8")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    with pytest.raises(DataFileError, match=re.escape("mine.yml: examples[0]: tier must be one of")):
        load_triage_examples()


def test_every_example_has_a_known_tier_and_no_text_twice() -> None:
    examples: List = load_triage_examples()
    texts = [text.lower() for text, _ in examples]
    assert len(texts) == len(set(texts)), "an example text appears twice in data/safety/triage_examples/"


@pytest.mark.parametrize(
    "tier, sentence, counts",
    [
        # Feeling alone is no crisis: the model's guess needs words of death, harm, ending or a means.
        ("crisis", "I want to have a plan written down so everyone knows.", False),
        ("crisis", "I can't stop thinking about the other family from the ward.", False),
        ("crisis", "i've been saving my tablets in a sock", True),
        ("crisis", "sometimes I wish I could go to sleep and not wake up", True),
        # A question or a fear about dying is no wish to die.
        ("crisis", "she keeps asking me if she's going to die too", False),
        ("crisis", "what happens if I stop my steroids suddenly, like would I die?", False),
        # Naming her medicines is no urgent sign: the model's guess needs a sign or an event.
        ("urgent", "She's on prednisolone 5mg and methotrexate once a week.", False),
        ("urgent", "My daughter is 9 and has methotrexate tablets on Saturdays.", False),
        ("urgent", "his pee has looked like cola since this morning", True),
        ("urgent", "he's been skipping his pred at his dad's", True),
        # A bare name of a treatment tells of no event: three words or fewer are the rules' to judge.
        ("emergency", "ivig drip", False),
        ("emergency", "solu medrol drip?", False),
        ("emergency", "his lips are going grey and he is floppy", True),
        ("urgent", "pred and mtx", False),
        # Arm and leg weakness is how JDM shows itself: the weakness rules judge it, not the model's emergency.
        ("emergency", "she can't raise her arms above her head to brush her hair", False),
        ("emergency", "he struggles to get up off the floor without using his hands", False),
        # An everyday medicine given tells of no event: the rules read doses and their numbers.
        ("emergency", "I gave her Calpol an hour ago.", False),
        ("emergency", "Gave him some ibuprofen at tea time.", False),
        ("emergency", "I gave her calpol and now she's floppy and grey", True),
    ],
)
def test_the_models_guess_counts_only_with_its_tiers_words(tier: str, sentence: str, counts: bool) -> None:
    assert load_triage().learned_may_say(tier, sentence) is counts


@pytest.mark.parametrize(
    "sentence, all_clear",
    [
        ("She's awake and talking and keeping down tiny sips of water.", True),
        ("He's breathing normally, just coughing a lot and tired.", True),
        ("She's grumpy but still drinking her milk, and she's responding normally.", True),
        ("He isn't breathing normally.", False),
        ("She's awake but she still can't lift her head.", False),
    ],
)
def test_a_sentence_that_tells_what_is_fine_is_not_for_the_model(sentence: str, all_clear: bool) -> None:
    context = load_triage().context
    reason = context.sentence_not_now(sentence, context.sentences(sentence), 0)
    assert (reason == "all clear") is all_clear


def test_the_model_still_hears_a_crisis_said_as_all_is_fine(guard: TriageGuard) -> None:
    text = "Honestly I'm fine. I just keep thinking everyone would be better if I went to sleep and didn't wake up."
    assert reply_intent(guard, text) == "crisis"
