"""What parents get back from the knowledge actions: FAQ answers, terms, follow-ups."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq, ActionExplainTerm, ActionFollowUp
from conftest import ROOT, make_tracker, say
from jdm_content import knowledge
from jdm_content.fallback import load_fallback_texts
from jdm_content.lexicon import load_lexicon


def shown(dispatcher: CollectingDispatcher, domain: Dict[str, Any]) -> List[str]:
    """The texts the parent sees: responses looked up in the domain, or plain text."""
    texts = []
    for message in dispatcher.messages:
        if message.get("response"):
            texts.append(domain["responses"][message["response"]][0]["text"])
        else:
            texts.append(message["text"])
    return texts


def entity(label: str, value: str) -> Dict[str, Any]:
    return {"entity": label, "value": value, "extractor": "SpacyEntityExtractor"}


def ask_term(text: str, *entities: Dict[str, Any]):
    return make_tracker(text=text, intent="ask_term", entities=list(entities))


def follow_up(kind: str, topic: Optional[str]):
    return make_tracker(text=kind, intent=f"followup_{kind}", slots={"topic": topic})


def run(action, tracker, dispatcher, domain) -> List[Dict[str, Any]]:
    return action.run(dispatcher, tracker, domain)


# --- action_answer_faq -------------------------------------------------------------


def test_faq_answer_is_the_selected_topic_and_is_remembered(dispatcher, domain) -> None:
    tracker = make_tracker("what does the rash look like", "faq", retrieval_intent="faq/rash")
    events = run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/rash"]
    assert "heliotrope" in shown(dispatcher, domain)[0]
    assert events == [SlotSet("topic", "rash")]


def selection(topic: str, confidence: float) -> Dict[str, Any]:
    return {
        "default": {
            "response": {
                "intent_response_key": f"faq/{topic}",
                "confidence": confidence,
                "utter_action": f"utter_faq/{topic}",
            },
            "ranking": [],
        }
    }


def test_an_unsure_topic_is_not_answered_but_handed_to_the_topic_suggestions(dispatcher, domain) -> None:
    # "can jdm be passed on like a cold": the best topic guess was outlook at 0.25.
    tracker = make_tracker("can jdm be passed on like a cold", "faq")
    tracker.latest_message["response_selector"] = selection("outlook", 0.25)
    events = run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert [m["text"] for m in dispatcher.messages] == [load_fallback_texts().first]
    assert dispatcher.messages[0]["buttons"]
    assert events == []


def test_a_sure_topic_is_answered(dispatcher, domain) -> None:
    tracker = make_tracker("will she get better", "faq")
    tracker.latest_message["response_selector"] = selection("outlook", 0.8)
    run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/outlook"]


def test_faq_answer_reads_the_default_selector_key(dispatcher, domain) -> None:
    """Without `retrieval_intent: faq` in config.yml, Rasa 3.6 files the choice under "default"."""
    tracker = make_tracker("how is jdm treated", "faq")
    tracker.latest_message["response_selector"] = {
        "all_retrieval_intents": ["faq"],
        "default": {
            "response": {
                "intent_response_key": "faq/treatment_overview",
                "utter_action": "utter_faq/treatment_overview",
            },
            "ranking": [],
        },
    }
    events = run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert "methylprednisolone" in shown(dispatcher, domain)[0]
    assert events == [SlotSet("topic", "treatment_overview")]


@pytest.mark.parametrize("topic", ["outlook", "progression"])
def test_hard_news_is_followed_by_an_offer_of_support(dispatcher, domain, topic) -> None:
    tracker = make_tracker("will my child get better", "faq", retrieval_intent=f"faq/{topic}")
    events = run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert events == [SlotSet("topic", topic), FollowupAction("utter_offer_support")]


@pytest.mark.parametrize("note", ["soon", "urgent", "emergency"])
def test_the_answer_leaves_the_triage_note_to_the_hook_that_says_it_once(dispatcher, domain, note: str) -> None:
    # action_validate_slot_mappings says the note before any reply (tests/test_safety.py).
    tracker = make_tracker(
        "she can't swallow well, is that jdm?",
        "faq",
        entities=[entity("care_note", note)],
        retrieval_intent="faq/voice_swallowing",
    )
    run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/voice_swallowing"]


@pytest.mark.parametrize("selected", [None, "faq/no_such_topic"])
def test_unknown_topic_offers_example_questions(dispatcher, domain, selected) -> None:
    tracker = make_tracker("hmm", "faq", retrieval_intent=selected)
    events = run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert events == []
    assert "What would you like to know about?" in dispatcher.messages[0]["text"]
    assert {"title": "What is JDM?", "payload": "What is JDM?"} in dispatcher.messages[0]["buttons"]


# --- action_explain_term -------------------------------------------------------------


def test_what_is_plaquenil_for_answers_about_hydroxychloroquine(dispatcher, domain) -> None:
    tracker = ask_term("what is plaquenil for", entity("drug", "plaquenil"))
    events = run(ActionExplainTerm(), tracker, dispatcher, domain)
    [answer] = shown(dispatcher, domain)
    assert answer.startswith("Hydroxychloroquine (Plaquenil) is a malaria medicine")
    assert "skin rash" in answer and answer.endswith("Source: JDM overview article.")
    assert events == [SlotSet("topic", "skin_treatment")]


def test_mtx_means_methotrexate(dispatcher, domain) -> None:
    run(ActionExplainTerm(), ask_term("MTX??", entity("drug", "MTX")), dispatcher, domain)
    [answer] = shown(dispatcher, domain)
    assert answer.startswith("Methotrexate is a steroid-sparing medicine")


def test_a_test_and_a_symptom_are_explained(dispatcher, domain) -> None:
    tracker = ask_term("what are gottrons and a CK test", entity("symptom", "gottrons"), entity("test", "CK"))
    run(ActionExplainTerm(), tracker, dispatcher, domain)
    first, second = shown(dispatcher, domain)
    assert first.startswith("Gottron's sign is") and second.startswith("Muscle enzymes are")


def test_same_term_twice_is_answered_once(dispatcher, domain) -> None:
    tracker = ask_term("ivig or IVIG", entity("drug", "ivig"), entity("drug", "IVIG"))
    run(ActionExplainTerm(), tracker, dispatcher, domain)
    assert len(dispatcher.messages) == 1


def test_no_known_term_asks_which_one(dispatcher, domain) -> None:
    tracker = ask_term("what is the NORD", entity("organisation", "NORD"))
    events = run(ActionExplainTerm(), tracker, dispatcher, domain)
    assert "not sure which medicine, test or sign you mean" in shown(dispatcher, domain)[0]
    assert events == []


# --- action_follow_up ------------------------------------------------------------------


def test_why_after_treatment_explains_the_reason(dispatcher, domain) -> None:
    events = run(ActionFollowUp(), follow_up("why", "treatment_overview"), dispatcher, domain)
    [answer] = shown(dispatcher, domain)
    assert "bring JDM under control" in answer and "side effects" in answer
    assert answer.endswith("Source: JDM overview article.")
    assert events == []


def test_skin_after_treatment_gives_the_skin_treatment_answer(dispatcher, domain) -> None:
    events = run(ActionFollowUp(), follow_up("skin", "treatment_overview"), dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/skin_treatment"]
    assert events == [SlotSet("topic", "skin_treatment")]


@pytest.mark.parametrize(
    "kind, topic, words",
    [
        ("how_long", "treatment_overview", "within two years"),
        ("side_effects", "treatment_overview", "don't list the side effects"),
        ("why", "rash", "vasculitis"),
        ("how_long", "muscle_weakness", "long time"),
        ("skin", "muscle_weakness", "heliotrope"),
        ("why", "sun_protection", "sunburn"),
        ("skin", "sun_protection", "moisturizer"),
    ],
)
def test_follow_ups_on_the_main_topics(dispatcher, domain, kind, topic, words) -> None:
    run(ActionFollowUp(), follow_up(kind, topic), dispatcher, domain)
    assert words in shown(dispatcher, domain)[0]


def test_uncovered_follow_up_says_so_and_points_to_the_care_team(dispatcher, domain) -> None:
    run(ActionFollowUp(), follow_up("side_effects", "other_treatments"), dispatcher, domain)
    [answer] = shown(dispatcher, domain)
    assert "my information doesn't describe side effects" in answer and "care team" in answer


def test_more_names_the_topic_when_nothing_more_is_known(dispatcher, domain) -> None:
    run(ActionFollowUp(), follow_up("more", "how_common"), dispatcher, domain)
    assert 'That\'s all my information says about "How common JDM is"' in shown(dispatcher, domain)[0]


def test_more_leading_to_hard_news_offers_support(dispatcher, domain) -> None:
    events = run(ActionFollowUp(), follow_up("more", "rash"), dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/progression"]
    assert events == [SlotSet("topic", "progression"), FollowupAction("utter_offer_support")]


@pytest.mark.parametrize("topic", [None, "no_longer_a_topic"])
def test_follow_up_without_a_topic_asks_what_they_want_to_know(dispatcher, domain, topic) -> None:
    events = run(ActionFollowUp(), follow_up("why", topic), dispatcher, domain)
    assert "What would you like to know about?" in dispatcher.messages[0]["text"]
    assert len(dispatcher.messages[0]["buttons"]) == 5
    assert events == []


def own_topic_follow_up(kind: str, topic: str, confidence: float):
    """A follow-up asked first whose own words point to `topic` with this confidence."""
    tracker = follow_up(kind, None)
    tracker.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": f"faq/{topic}", "confidence": confidence}}
    }
    return tracker


def test_follow_up_asked_first_is_about_the_topic_its_own_words_point_to(dispatcher, domain) -> None:
    """ "how long before he goes into remission?" with no topic before it."""
    run(ActionFollowUp(), own_topic_follow_up("how_long", "outlook", 0.72), dispatcher, domain)
    assert shown(dispatcher, domain)[0] == knowledge.load_follow_ups().answer("outlook", "how_long").text
    assert "remission" in shown(dispatcher, domain)[0]


def test_follow_up_asked_first_with_an_unsure_topic_asks_what_they_want_to_know(dispatcher, domain) -> None:
    run(ActionFollowUp(), own_topic_follow_up("how_long", "outlook", 0.2), dispatcher, domain)
    assert "What would you like to know about?" in dispatcher.messages[0]["text"]


def test_skin_follow_up_without_a_topic_answers_about_skin_treatment(dispatcher, domain) -> None:
    events = run(ActionFollowUp(), follow_up("skin", None), dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/skin_treatment"]
    assert events == [SlotSet("topic", "skin_treatment")]


# --- data the actions read ---------------------------------------------------------------


@pytest.fixture
def trimmed_terms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A data dir whose terms.yml lacks neopterin, as if a clinic editor added it to the lexicon only."""
    shutil.copytree(ROOT / "data" / "knowledge", tmp_path / "knowledge")
    shutil.copy(ROOT / "data" / "lexicon.yml", tmp_path / "lexicon.yml")
    terms = tmp_path / "knowledge" / "terms.yml"
    text = terms.read_text(encoding="utf-8")
    start = text.index("  - id: neopterin")
    terms.write_text(text[:start] + text[text.index("  - id: factor_viii") :], encoding="utf-8")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    knowledge.clear_caches()
    load_lexicon.cache_clear()
    yield
    monkeypatch.undo()
    knowledge.clear_caches()
    load_lexicon.cache_clear()


def test_term_without_an_answer_is_honest(trimmed_terms, dispatcher, domain) -> None:
    run(ActionExplainTerm(), ask_term("what is neopterin", entity("test", "neopterin")), dispatcher, domain)
    assert shown(dispatcher, domain) == [
        "I'm sorry, my information doesn't cover neopterin. Your child's care team can tell you more about it."
    ]


# --- end to end, through the trained model ----------------------------------------------


def test_live_term_and_follow_up(live_servers) -> None:
    """A parent names a drug, then asks a short follow-up that depends on it."""
    rasa = live_servers["rasa"]
    answer = " ".join(m.get("text", "") for m in say(rasa, "knowledge-e2e", "what is plaquenil for?"))
    assert "Hydroxychloroquine (Plaquenil)" in answer
    treatment = " ".join(m.get("text", "") for m in say(rasa, "knowledge-e2e", "how is jdm treated"))
    assert "methylprednisolone" in treatment
    why = " ".join(m.get("text", "") for m in say(rasa, "knowledge-e2e", "why?"))
    assert "under control" in why


def test_live_hard_news_comes_with_an_offer_of_support(live_servers) -> None:
    messages = say(
        live_servers["rasa"], "knowledge-e2e-outlook", "what is the long-term outlook for children with jdm?"
    )
    # (a new conversation may open with the safety disclaimer first)
    assert any("about half get completely better" in m.get("text", "") for m in messages)
    assert "groups that help families" in messages[-1].get("text", "")
    assert [b["payload"] for b in messages[-1].get("buttons", [])] == ["/affirm", "/deny"]


# --- the thing named wins over the topic ---------------------------------------------


def test_a_named_medicine_wins_over_a_neighbouring_topic(dispatcher, domain) -> None:
    tracker = make_tracker(
        "why is hydroxychloroquine given",
        "faq",
        retrieval_intent="faq/treatment_overview",
        entities=[entity("drug", "hydroxychloroquine")],
    )
    events = run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert shown(dispatcher, domain) == [knowledge.load_terms().by_id["hydroxychloroquine"].answer]
    assert events == [SlotSet("topic", "skin_treatment")]


@pytest.mark.parametrize(
    "text, label, value, topic, term",
    [
        ("what is methotrexate used for in jdm", "drug", "methotrexate", "steroid_sparing", "methotrexate"),
        ("why do they do an mri for jdm", "test", "MRI", "diagnosis", "mri"),
    ],
)
def test_a_named_medicine_or_test_wins_even_over_its_own_topic(dispatcher, domain, text, label, value, topic, term):
    tracker = make_tracker(text, "faq", retrieval_intent=f"faq/{topic}", entities=[entity(label, value)])
    run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert shown(dispatcher, domain) == [knowledge.load_terms().by_id[term].answer]


def test_a_named_sign_of_the_selected_topic_gets_the_topic_answer(dispatcher, domain) -> None:
    tracker = make_tracker(
        "what does the heliotrope rash look like",
        "faq",
        retrieval_intent="faq/rash",
        entities=[entity("symptom", "heliotrope rash")],
    )
    run(ActionAnswerFaq(), tracker, dispatcher, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/rash"]


@pytest.mark.parametrize(
    "kind, medicine, topic",
    [
        ("side_effects", "methotrexate", "steroid_sparing"),
        ("how_long", "prednisone", "treatment_overview"),
        ("side_effects", "prednisolone", "treatment_overview"),
    ],
)
def test_a_follow_up_naming_a_medicine_is_about_that_medicine_not_the_last_topic(
    dispatcher, domain, kind: str, medicine: str, topic: str
) -> None:
    tracker = make_tracker(
        f"{kind} of {medicine}",
        f"followup_{kind}",
        slots={"topic": "sun_protection"},
        entities=[entity("drug", medicine)],
    )
    run(ActionFollowUp(), tracker, dispatcher, domain)
    expected = knowledge.load_follow_ups().answer(topic, kind)
    assert shown(dispatcher, domain)[0] == expected.text


def test_why_a_named_medicine_is_given_is_its_own_answer(dispatcher, domain) -> None:
    tracker = make_tracker(
        "why does she need plaquenil",
        "followup_why",
        slots={"topic": "outlook"},
        entities=[entity("drug", "plaquenil")],
    )
    events = run(ActionFollowUp(), tracker, dispatcher, domain)
    assert shown(dispatcher, domain) == [knowledge.load_terms().by_id["hydroxychloroquine"].answer]
    assert events == [SlotSet("topic", "skin_treatment")]


def test_how_long_for_a_medicine_the_sources_give_no_time_for_says_so(dispatcher, domain) -> None:
    tracker = make_tracker(
        "how long does hydrocortisone cream take", "followup_how_long", entities=[entity("drug", "hydrocortisone")]
    )
    run(ActionFollowUp(), tracker, dispatcher, domain)
    assert "doesn't say how long" in shown(dispatcher, domain)[0]
