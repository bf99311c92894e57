"""Safety (issue 5): emergencies, a child's own medicine, the disclaimer,
out-of-scope and clinic questions, and the two-stage fallback."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa_sdk.events import ActionExecuted, FollowupAction, SessionStarted, SlotSet
from safety_phrases import (
    CHILD_MEDICINE,
    CRISIS,
    DOSE_FIGURE,
    EMERGENCIES,
    LOOK_ALIKES,
    NAMED_MEDICINE_QUESTIONS,
    NOT_NOW,
    OVERDOSES,
    URGENT,
)

from actions.care_team import ActionCrisis, ActionTriageNote
from actions.clinic import ActionClinicAdmin
from actions.fallback import ActionJdmFallback, consecutive_fallbacks
from actions.session import ActionSessionStart
from conftest import make_tracker, say
from jdm_content.clinic import load_clinic, load_crisis_lines
from jdm_content.files import DataFileError
from jdm_content.knowledge import load_terms, load_topics


# --- actions -------------------------------------------------------------------
def texts(messages: List[Dict[str, Any]]) -> str:
    """The bot's reply as one text (the REST channel sends each paragraph apart)."""
    return "\n\n".join(m.get("text") or "" for m in messages)


def domain_text(domain: Dict[str, Any], response: str) -> str:
    return domain["responses"][response][0]["text"]


async def test_session_start_sends_the_disclaimer_and_carries_slots_over(dispatcher, domain) -> None:
    tracker = make_tracker(slots={"region": "uk", "topic": None})
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_disclaimer"]
    assert events == [SessionStarted(), SlotSet("region", "uk"), ActionExecuted("action_listen")]
    disclaimer = domain_text(domain, "utter_disclaimer")
    for words in ("automated assistant", "not medical advice", "911", "999", "112", "emergency department"):
        assert words in disclaimer


async def test_session_start_drops_slots_when_the_domain_says_so(dispatcher, domain) -> None:
    no_carry = dict(domain, session_config={"carry_over_slots_to_new_session": False})
    events = await ActionSessionStart().run(dispatcher, make_tracker(slots={"region": "uk"}), no_carry)
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
def clinic_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a clinic.yml in a temporary data folder."""
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    load_clinic.cache_clear()

    def write(text: str) -> None:
        (tmp_path / "clinic.yml").write_text(text, encoding="utf-8")
        load_clinic.cache_clear()

    yield write
    load_clinic.cache_clear()


async def test_clinic_placeholders_are_shown_as_placeholders_not_numbers(dispatcher, domain) -> None:
    load_clinic.cache_clear()
    slots = slot_values(await ActionClinicAdmin().run(dispatcher, make_tracker(), domain))
    assert slots == {
        "clinic_name": "[not set up yet: clinic name]",
        "clinic_phone": "[not set up yet: clinic phone]",
        "clinic_hours": "[not set up yet: clinic opening hours]",
    }
    assert not re.search(r"\d", "".join(slots.values()))


async def test_real_clinic_details_become_a_tap_to_call_link(clinic_file, dispatcher, domain) -> None:
    clinic_file(
        'clinic:\n  name: "Rheumatology Clinic"\n  phone: "+44 20 7946 0000"\n  hours: "Mon-Fri 9-5"\n'
        '  out_of_hours: "+44 20 7946 0999"\n'
    )
    slots = slot_values(await ActionClinicAdmin().run(dispatcher, make_tracker(), domain))
    assert slots == {
        "clinic_name": "Rheumatology Clinic",
        "clinic_phone": "[+44 20 7946 0000](tel:+442079460000)",
        "clinic_hours": "Mon-Fri 9-5",
    }


@pytest.mark.parametrize(
    "content, error",
    [
        (
            'clinic:\n  name: "C"\n  phone: "020 7946 0000"\n  hours: "9-5"\n  out_of_hours: "+44 20 7946 0999"\n',
            "clinic.phone: '020 7946 0000' is not a phone number",
        ),
        ('clinic:\n  name: "C"\n  hours: "9-5"\n', "clinic: missing required field 'phone'"),
        (
            'clinic:\n  name: "C"\n  phone: "+44 20 7946 0000"\n  hours: "9-5"\n',
            "missing required field 'out_of_hours'",
        ),
        ("clinic: [", "not valid YAML"),
    ],
)
async def test_a_broken_clinic_file_is_named_and_the_parent_still_gets_a_pointer(
    clinic_file, dispatcher, domain, content: str, error: str
) -> None:
    clinic_file(content)
    with pytest.raises(DataFileError, match=re.escape(error)):
        load_clinic()
    slots = slot_values(await ActionClinicAdmin().run(dispatcher, make_tracker(), domain))
    assert slots["clinic_phone"] == "the number on your clinic letters"


def user(intent: str) -> Dict[str, Any]:
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def bot_action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


UNCLEAR = [user("nlu_fallback"), bot_action("action_jdm_fallback")]


def test_consecutive_fallbacks_are_counted_in_this_session_only() -> None:
    assert consecutive_fallbacks([user("nlu_fallback")]) == 1
    assert consecutive_fallbacks(UNCLEAR + [user("nlu_fallback")]) == 2
    assert consecutive_fallbacks(UNCLEAR + [user("faq"), bot_action("action_answer_faq"), user("nlu_fallback")]) == 1
    assert consecutive_fallbacks(UNCLEAR + [{"event": "session_started"}, user("nlu_fallback")]) == 1
    assert consecutive_fallbacks([user("faq")]) == 0


def ranking_message(*topic_ids: str) -> Dict[str, Any]:
    return {
        "faq": {
            "ranking": [
                {"intent_response_key": f"faq/{topic_id}", "confidence": 0.5 - i * 0.1}
                for i, topic_id in enumerate(topic_ids)
            ]
        }
    }


async def test_first_fallback_suggests_the_likeliest_topics_as_buttons(dispatcher, domain) -> None:
    tracker = make_tracker("sun thing rash??", intent="nlu_fallback", events=[user("nlu_fallback")])
    tracker.latest_message["response_selector"] = ranking_message("sun_protection", "rash", "skin_treatment")
    assert await ActionJdmFallback().run(dispatcher, tracker, domain) == []
    [message] = dispatcher.messages
    topics = load_topics()
    assert "not sure I understood" in message["text"]
    assert message["buttons"] == [
        {"title": topics[t].title, "payload": topics[t].example} for t in ("sun_protection", "rash", "skin_treatment")
    ]


def unsure(guess: str, confidence: float) -> List[Dict[str, Any]]:
    return [{"name": "nlu_fallback", "confidence": 0.4}, {"name": guess, "confidence": confidence}]


@pytest.mark.parametrize("guess, response", [("out_of_scope", "utter_out_of_scope"), ("goodbye", "utter_goodbye")])
async def test_an_unsure_off_topic_or_small_talk_guess_gets_that_reply_not_a_topic_menu(
    dispatcher, domain, guess: str, response: str
) -> None:
    tracker = make_tracker("who won the cup final", intent="nlu_fallback", events=[user("nlu_fallback")])
    tracker.latest_message["intent_ranking"] = unsure(guess, 0.35)
    assert await ActionJdmFallback().run(dispatcher, tracker, domain) == []
    assert [m["response"] for m in dispatcher.messages] == [response]


@pytest.mark.parametrize("guess, confidence", [("out_of_scope", 0.1), ("greet", 0.97), ("faq", 0.35)])
async def test_a_weak_overruled_or_medical_guess_still_gets_the_topic_menu(
    dispatcher, domain, guess: str, confidence: float
) -> None:
    # 0.97: the unfamiliar-words check overruled a confident guess (keyboard mashing).
    tracker = make_tracker("asdf jkl", intent="nlu_fallback", events=[user("nlu_fallback")])
    tracker.latest_message["intent_ranking"] = unsure(guess, confidence)
    await ActionJdmFallback().run(dispatcher, tracker, domain)
    assert "not sure I understood" in dispatcher.messages[0]["text"]


async def test_a_close_call_whose_best_guess_is_small_talk_gets_that_reply(dispatcher, domain) -> None:
    tracker = make_tracker("am i talking to a real person?", intent="nlu_fallback", events=[user("nlu_fallback")])
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "bot_challenge", "confidence": 0.5},
        {"name": "ask_human", "confidence": 0.48},
    ]
    await ActionJdmFallback().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_bot_challenge"]


async def test_a_close_call_between_medical_guesses_still_gets_the_topic_menu(dispatcher, domain) -> None:
    tracker = make_tracker("rash or weakness first", intent="nlu_fallback", events=[user("nlu_fallback")])
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "faq", "confidence": 0.5},
        {"name": "bot_challenge", "confidence": 0.48},
    ]
    await ActionJdmFallback().run(dispatcher, tracker, domain)
    assert "not sure I understood" in dispatcher.messages[0]["text"]


async def test_first_fallback_without_a_ranking_offers_general_topics(dispatcher, domain) -> None:
    tracker = make_tracker("hmm", intent="nlu_fallback", events=[user("nlu_fallback")])
    await ActionJdmFallback().run(dispatcher, tracker, domain)
    assert 1 <= len(dispatcher.messages[0]["buttons"]) <= 3


async def test_second_fallback_in_a_row_points_to_the_care_team_and_offers_support(dispatcher, domain) -> None:
    tracker = make_tracker("hmm again", intent="nlu_fallback", events=UNCLEAR + [user("nlu_fallback")])
    events = await ActionJdmFallback().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert "care team" in message["text"] and not message["buttons"]
    assert events == [FollowupAction("utter_offer_support")]


async def test_a_third_fallback_does_not_offer_the_same_again(dispatcher, domain) -> None:
    events = UNCLEAR + UNCLEAR + [bot_action("utter_offer_support"), user("nlu_fallback")]
    tracker = make_tracker("???", intent="nlu_fallback", events=events)
    assert await ActionJdmFallback().run(dispatcher, tracker, domain) == []
    assert "care team" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    "note, response",
    [("urgent", "utter_triage_urgent"), ("soon", "utter_tell_care_team_soon"), ("emergency", "utter_emergency")],
)
async def test_the_triage_note_is_said_for_its_tier(dispatcher, domain, note: str, response: str) -> None:
    tracker = make_tracker("her wee looks like cola", entities=[{"entity": "care_note", "value": note}])
    assert await ActionTriageNote().run(dispatcher, tracker, domain) == []
    [message] = dispatcher.messages
    assert message["response"] == response


async def test_the_urgent_note_gives_the_clinics_phone_and_out_of_hours_line(dispatcher, domain) -> None:
    tracker = make_tracker("fever on methotrexate", entities=[{"entity": "care_note", "value": "urgent"}])
    await ActionTriageNote().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["clinic_phone"] == "[not set up yet: clinic phone]"
    assert message["clinic_out_of_hours"] == "[not set up yet: out-of-hours phone]"
    text = domain_text(domain, "utter_triage_urgent")
    assert "{clinic_phone}" in text and "{clinic_out_of_hours}" in text and "today" in text


async def test_no_note_without_a_triage_mark(dispatcher, domain) -> None:
    assert await ActionTriageNote().run(dispatcher, make_tracker("what is jdm?"), domain) == []
    assert dispatcher.messages == []


def test_the_triage_note_runs_after_every_message_before_any_reply(domain) -> None:
    # Rasa runs action_validate_slot_mappings after each message and keeps what it says.
    assert ActionTriageNote().name() == "action_validate_slot_mappings"
    assert "action_validate_slot_mappings" in domain["actions"]


async def test_the_crisis_reply_lists_the_clinics_crisis_lines_with_warmth(dispatcher, domain) -> None:
    assert await ActionCrisis().run(dispatcher, make_tracker("she wants to die"), domain) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_crisis"
    for line in load_crisis_lines():
        assert f"**{line.name}** ({line.region}): {line.contact}" in message["crisis_lines"]
    assert "988" in message["crisis_lines"] and "116 123" in message["crisis_lines"]
    text = domain_text(domain, "utter_crisis")
    assert text.startswith("I'm really glad you told me")
    for words in ("911", "999", "112", "{crisis_lines}", "care team"):
        assert words in text


def test_child_medicine_reply_is_general_and_sends_to_the_care_team(domain) -> None:
    reply = domain_text(domain, "utter_child_medicine")
    general = domain_text(domain, "utter_steroid_general")
    assert not re.search(r"\d", reply + general)
    for words in ("care team", "pharmacist", "missed dose", "emergency number"):
        assert words in reply
    for words in (
        "General information",
        "slowly",
        "side effects",
        "lab tests",
        "stopping steroids suddenly",
        "Source: JDM overview article",
    ):
        assert words in general


def test_emergency_reply_says_what_to_do_now_then_the_care_team(domain) -> None:
    reply = domain_text(domain, "utter_emergency")
    for words in ("911", "999", "112", "emergency department", "care team"):
        assert words in reply
    assert reply.index("911") < reply.index("care team")


# --- end to end over REST (the trained model; JDM_MODEL=... to pick one) -----------
def new_sender() -> str:
    return f"safety-{uuid.uuid4()}"


def first_paragraph(domain: Dict[str, Any], response: str) -> str:
    return domain_text(domain, response).split("\n\n")[0].split("{")[0]


def without_disclaimer(messages: List[Dict[str, Any]], domain: Dict[str, Any]) -> str:
    return texts(messages).replace(domain_text(domain, "utter_disclaimer"), "", 1).strip()


def test_first_message_of_a_conversation_opens_with_the_disclaimer(live_servers, domain) -> None:
    sender = new_sender()
    first = texts(say(live_servers["rasa"], sender, "hello"))
    assert first.startswith(domain_text(domain, "utter_disclaimer"))
    assert "welcome" in first.lower()
    second = say(live_servers["rasa"], sender, "what is jdm?")
    assert domain_text(domain, "utter_disclaimer") not in texts(second)


@pytest.mark.parametrize("text", EMERGENCIES + OVERDOSES)
def test_emergencies_get_the_emergency_reply_end_to_end(live_servers, domain, text: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert reply.startswith(domain_text(domain, "utter_emergency"))


def alarms(reply: str, domain: Dict[str, Any]) -> List[str]:
    """The alarm replies (emergency, crisis, call the care team today) among the bot's messages."""
    names = ("utter_emergency", "utter_crisis", "utter_triage_urgent")
    return [name for name in names if first_paragraph(domain, name) in reply]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_questions_are_not_emergencies_end_to_end(live_servers, domain, text: str) -> None:
    # The trained classifier must not raise a false alarm either, not only the triage step.
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert reply and not alarms(reply, domain), reply


def test_an_emergency_in_the_middle_of_a_conversation(live_servers, domain) -> None:
    rasa, sender = live_servers["rasa"], new_sender()
    say(rasa, sender, "what does the jdm rash look like?")
    reply = texts(say(rasa, sender, "ok thanks. oh no she's choking"))
    assert reply.startswith(domain_text(domain, "utter_emergency"))


@pytest.mark.parametrize("text", CRISIS)
def test_talk_of_suicide_or_self_harm_gets_the_crisis_reply_end_to_end(live_servers, domain, text: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert reply.startswith(first_paragraph(domain, "utter_crisis")), reply
    assert "988" in reply and "116 123" in reply and "911" in reply


@pytest.mark.parametrize("text", URGENT)
def test_urgent_signs_get_call_the_care_team_today_not_911_end_to_end(live_servers, domain, text: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert reply.startswith(first_paragraph(domain, "utter_triage_urgent")), reply
    assert first_paragraph(domain, "utter_emergency") not in reply


@pytest.mark.parametrize("text", [text for texts in NOT_NOW.values() for text in texts])
def test_danger_words_that_are_not_now_raise_no_alarm_end_to_end(live_servers, domain, text: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert not alarms(reply, domain), reply


@pytest.mark.parametrize(
    "text, answer",
    [
        # an answer
        ("what is calcinosis? her pee has looked like cola since this morning", "calcium"),
        # not covered
        ("what diet is best for jdm? also she's on pred and has a temperature of 39", "doesn't cover"),
        # the fallback
        ("zzzz qqqq xkcd wee cola", "not sure I understood"),
        # support
        ("can you give me a support group? he's on methotrexate and has been shivering all day", "**"),
    ],
)
def test_every_reply_path_keeps_the_urgent_note(live_servers, domain, text: str, answer: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert reply.startswith(first_paragraph(domain, "utter_triage_urgent")), reply
    assert answer in reply, reply


def test_a_slow_change_gets_the_answer_and_the_next_visit_note(live_servers, domain) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), "the rash on her knuckles is spreading"), domain)
    assert reply.startswith(first_paragraph(domain, "utter_tell_care_team_soon")), reply
    assert first_paragraph(domain, "utter_emergency") not in reply


@pytest.mark.parametrize("text", CHILD_MEDICINE)
def test_no_dose_figure_for_a_child_and_a_pointer_to_the_care_team(live_servers, domain, text: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert not DOSE_FIGURE.search(reply), reply
    assert "care team" in reply or "pharmacist" in reply, reply


@pytest.mark.parametrize("text, medicine", NAMED_MEDICINE_QUESTIONS)
def test_a_named_medicine_gets_the_care_team_and_its_own_general_fact_end_to_end(
    live_servers, domain, text: str, medicine: str
) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert reply.startswith(domain_text(domain, "utter_child_medicine").split("\n\n")[0]), reply
    fact = load_terms().by_id[medicine].dose_answer.split("\n\n")[0]
    assert fact in reply, reply
    assert "stopping steroids suddenly" not in reply or medicine == "prednisone"
    assert not DOSE_FIGURE.search(reply), reply


@pytest.mark.parametrize("text", ["is this medical advice?", "are you a doctor?"])
def test_says_honestly_it_is_not_medical_advice(live_servers, domain, text: str) -> None:
    sender = new_sender()
    say(live_servers["rasa"], sender, "hi")
    reply = texts(say(live_servers["rasa"], sender, text))
    assert "not a doctor" in reply and "not medical advice" in reply


@pytest.mark.parametrize(
    "text", ["what's the weather like tomorrow?", "can you recommend a good pizza place", "help with my maths homework"]
)
def test_out_of_scope_gets_a_kind_scope_statement(live_servers, domain, text: str) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), text), domain)
    assert "only help with questions about" in reply and "JDM" in reply


def test_clinic_questions_show_placeholders_not_a_real_looking_number(live_servers, domain) -> None:
    reply = without_disclaimer(say(live_servers["rasa"], new_sender(), "I need to change my son's appointment"), domain)
    assert "Phone: [not set up yet: clinic phone]" in reply
    assert not re.search(r"\d", reply)


def test_two_stage_fallback_then_a_clear_question(live_servers, domain) -> None:
    rasa, sender = live_servers["rasa"], new_sender()
    first = say(rasa, sender, "zzzz qqqq xkcd")
    assert "not sure I understood" in texts(first) and any(m.get("buttons") for m in first)
    second = texts(say(rasa, sender, "asdf jkl"))
    assert "care team" in second and "groups that help families" in second
    third = texts(say(rasa, sender, "what is juvenile dermatomyositis?"))
    assert "Source:" in third and "not sure" not in third and "still can't" not in third
