"""Masking before anything reaches the report: planted identifiers in messages as parents write them.

Every planted name, e-mail address, phone number (UK and US), street address,
date of birth and hospital or NHS number must be gone from the masked text,
with a placeholder in its place; ordinary questions must stay readable.
"""

from __future__ import annotations

import re
from typing import List, Tuple

import pytest

from clinic_report.masking import load_masker

# (message, the identifiers planted in it, the placeholders expected)
PLANTED: List[Tuple[str, List[str], List[str]]] = [
    # names
    ("My daughter Aoife has a new rash on her knuckles", ["Aoife"], ["[name]"]),
    ("hi its Sarah Jenkins, mum of Tom, can he go swimming", ["Sarah", "Jenkins", "Tom"], ["[name]"]),
    ("Dr Okonkwo told us to keep the steroids going", ["Okonkwo"], ["[name]"]),
    ("my son oliver is struggling with the stairs", ["oliver"], ["[name]"]),
    ("Can Mohammed still go to school on methotrexate?", ["Mohammed"], ["[name]"]),
    ("Priya keeps asking why her skin itches", ["Priya"], ["[name]"]),
    ("We saw Nurse Kowalczyk last week about the calcinosis", ["Kowalczyk"], ["[name]"]),
    ("This is Grace's dad, she has had JDM since spring", ["Grace"], ["[name]"]),
    ("Is it ok if Siobhan Murphy has the flu jab", ["Siobhan", "Murphy"], ["[name]"]),
    ("my name is Daniel Okafor and my boy has weak legs", ["Daniel", "Okafor"], ["[name]"]),
    ("Mrs Patel at school asked about sun cream", ["Patel"], ["[name]"]),
    ("Lily-Mae gets very tired after PE, is that the JDM", ["Lily-Mae"], ["[name]"]),
    # e-mail addresses
    ("please email me at jane.doe82@gmail.com with the leaflet", ["jane.doe82@gmail.com"], ["[email]"]),
    ("you can write to t.nguyen@outlook.co.uk", ["t.nguyen@outlook.co.uk"], ["[email]"]),
    ("send it to mum_of_three@yahoo.com please", ["mum_of_three@yahoo.com"], ["[email]"]),
    ("contact rob.smith+jdm@nhs.net about the clinic letter", ["rob.smith+jdm@nhs.net"], ["[email]"]),
    ("my email: carla.reyes@example.org", ["carla.reyes@example.org"], ["[email]"]),
    ("reply to aoife.b@hotmail.ie thanks", ["aoife.b@hotmail.ie"], ["[email]"]),
    # phone numbers, UK
    ("call me on 07700 900123 after 5", ["07700 900123"], ["[phone]"]),
    ("my mobile is +44 7700 900456", ["+44 7700 900456"], ["[phone]"]),
    ("the ward number is 020 7946 0018 right?", ["020 7946 0018"], ["[phone]"]),
    ("ring 0161 496 0734 if the rash spreads?", ["0161 496 0734"], ["[phone]"]),
    ("our landline (0113) 496 0555", ["0113", "496 0555"], ["[phone]"]),
    ("text 07700900789 please", ["07700900789"], ["[phone]"]),
    # phone numbers, US
    ("you can reach me at (212) 555-0143", ["(212) 555-0143", "555-0143"], ["[phone]"]),
    ("my cell is 415-555-0198", ["415-555-0198"], ["[phone]"]),
    ("call +1 646 555 0175 anytime", ["646 555 0175"], ["[phone]"]),
    ("the office said 312.555.0110 but nobody answers", ["312.555.0110"], ["[phone]"]),
    ("is 1-800-555-0199 the JDM helpline?", ["800-555-0199"], ["[phone]"]),
    ("husband's number +1 (617) 555-0123", ["(617) 555-0123", "555-0123"], ["[phone]"]),
    # street addresses and postcodes
    ("we live at 14 Acacia Avenue, Leeds LS6 2AB", ["14 Acacia Avenue", "LS6 2AB"], ["[address]"]),
    ("post it to 221B Baker Street, London NW1 6XE", ["221B Baker Street", "NW1 6XE"], ["[address]"]),
    ("our house is 3 Church Lane so the hospital is far", ["3 Church Lane"], ["[address]"]),
    ("flat 5, 18 Mill Road, Cambridge CB1 2AD", ["flat 5", "18 Mill Road", "CB1 2AD"], ["[address]"]),
    ("we moved to 742 Evergreen Terrace, Springfield, IL 62704", ["742 Evergreen Terrace", "IL 62704"], ["[address]"]),
    ("send the forms to 1600 Pennsylvania Ave NW", ["1600 Pennsylvania Ave"], ["[address]"]),
    # dates of birth
    ("she was born on 12/03/2015 is she too young for methotrexate", ["12/03/2015"], ["[date]"]),
    ("DOB 3rd May 2016, can he have the MMR", ["3rd May 2016"], ["[date]"]),
    ("date of birth 2014-07-21", ["2014-07-21"], ["[date]"]),
    ("my son was born 21 March 2013", ["21 March 2013"], ["[date]"]),
    ("her birthday is July 4, 2012", ["July 4, 2012"], ["[date]"]),
    ("d.o.b. 05.11.2014", ["05.11.2014"], ["[date]"]),
    # hospital and NHS numbers
    ("his NHS number is 943 476 5919", ["943 476 5919"], ["[hospital number]"]),
    ("NHS no: 4505577104 do you need it", ["4505577104"], ["[hospital number]"]),
    ("hospital number RJ1234567 for the appointment", ["RJ1234567"], ["[hospital number]"]),
    ("MRN 00482913 at the children's hospital", ["00482913"], ["[hospital number]"]),
    ("patient number is K2345678", ["K2345678"], ["[hospital number]"]),
    ("her hospital no. 7788123 if that helps", ["7788123"], ["[hospital number]"]),
]

# What the report must still be able to read.
ORDINARY = [
    "can my son go on the school ski trip",
    "What does the heliotrope rash look like?",
    "is methotrexate safe with the flu jab",
    "Why are steroids lowered slowly when she is on prednisolone?",
    "May I ask if JDM comes back after remission?",
    "what about calcinosis and IVIG",
]


def test_at_least_forty_identifiers_are_planted() -> None:
    assert sum(len(identifiers) for _, identifiers, _ in PLANTED) >= 40


@pytest.mark.parametrize("message, identifiers, placeholders", PLANTED, ids=[m[:40] for m, _, _ in PLANTED])
def test_a_planted_identifier_is_masked(message: str, identifiers: List[str], placeholders: List[str]) -> None:
    masked = load_masker().mask(message)
    for identifier in identifiers:
        assert identifier.lower() not in masked.lower(), masked
    for placeholder in placeholders:
        assert placeholder in masked, masked


@pytest.mark.parametrize("question", ORDINARY)
def test_an_ordinary_question_is_left_alone(question: str) -> None:
    assert load_masker().mask(question) == question


def test_masking_keeps_the_question_around_the_identifier() -> None:
    masked = load_masker().mask("My daughter Aoife was born on 12/03/2015, can she go on the ski trip?")
    assert masked == "My daughter [name] was born on [date], can she go on the ski trip?"


def test_no_digit_run_of_an_identifier_survives() -> None:
    """Whatever a finding is called, no run of 4 digits of a planted number is left."""
    for message, _, _ in PLANTED:
        masked = load_masker().mask(message)
        assert not re.search(r"\d{4}", masked.replace("-", "").replace(" ", "")), masked
