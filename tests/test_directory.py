"""The support organisation directory: the real file is clean, broken files fail clearly."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any, Callable, Dict

import phonenumbers
import pytest
import yaml

from jdm_content.directory import build_place_names, find_place, load_directory, load_matching
from jdm_content.files import DataFileError, load_yaml
from jdm_content.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

# Every organisation in the NORD report's "Supporting Organizations" list, plus NORD.
LISTED = {
    "aarda",
    "arthritis_foundation",
    "autoimmunity_community",
    "autoimmune_information_network",
    "child_neurology_foundation",
    "cure_jm",
    "esid",
    "gard",
    "mda",
    "myositis_association",
    "myositis_support_group_uk",
    "hss_myositis_support_group",
    "niams",
    "nord",
}


@pytest.fixture(scope="module")
def orgs():
    return load_directory()


def test_every_listed_organisation_and_nord_is_in_the_directory(orgs) -> None:
    assert set(orgs) == LISTED


def test_directory_ids_and_lexicon_organisation_ids_match(orgs) -> None:
    lexicon_ids = {entry["id"] for entry in load_yaml("lexicon.yml")["organisation"]}
    assert set(orgs) - lexicon_ids == set(), "directory ids missing from data/lexicon.yml"
    assert lexicon_ids - set(orgs) == set(), "lexicon organisations missing from the directory"


def test_directory_regions_are_the_lexicon_regions() -> None:
    lexicon_regions = {entry["id"] for entry in load_yaml("lexicon.yml")["region"]}
    assert set(load_matching().regions) == lexicon_regions == {"us", "uk", "europe", "other"}


def test_every_contactable_record_has_valid_e164_phones_for_its_country(orgs) -> None:
    for org in orgs.values():
        assert org.name and org.serves and org.tags
        if not org.contactable:
            continue
        assert org.address and org.phones and org.region in {"us", "uk", "europe", "other"}
        for phone in org.phones:
            number = phonenumbers.parse(phone.e164, None)
            assert phonenumbers.is_valid_number(number), (org.id, phone.label)
            assert phonenumbers.region_code_for_number(number) == org.country
            assert phone.e164 == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(
    "org_id, label, e164, national",
    [
        ("nord", "main", "+12037440100", "(203) 744-0100"),
        ("cure_jm", "fax", "+17602302243", "(760) 230-2243"),
        ("myositis_association", "toll_free", "+18008217356", "(800) 821-7356"),
        ("myositis_support_group_uk", "main", "+442380449708", "023 8044 9708"),
        ("esid", "main", "+41229080484", "022 908 04 84"),
        ("esid", "fax", "+41229069140", "022 906 91 40"),
    ],
)
def test_numbers_are_stored_in_e164_and_shown_in_national_format(orgs, org_id, label, e164, national) -> None:
    phone = next(p for p in orgs[org_id].phones if p.label == label)
    assert (phone.e164, phone.national) == (e164, national)


def test_each_transcription_fault_is_fixed_and_recorded(orgs) -> None:
    brick = orgs["autoimmune_information_network"]
    assert "Brick, NJ 08723" in brick.address
    assert any('"8723"' in fix and '"08723"' in fix for fix in brick.fixes)

    southampton = orgs["myositis_support_group_uk"]
    assert "Southampton SO19 9HR" in southampton.address
    assert any('"S019 9HR"' in fix and '"SO19 9HR"' in fix for fix in southampton.fixes)
    assert any('"2380449708"' in fix and "023 8044 9708" in fix for fix in southampton.fixes)

    geneva = orgs["esid"]
    assert any('"410229080484"' in fix and "trunk 0" in fix for fix in geneva.fixes)
    assert any('"41229069140"' in fix and '"+"' in fix for fix in geneva.fixes)

    silent = orgs["autoimmunity_community"]
    assert not silent.contactable and not silent.phones and not silent.address
    assert "no address or phone" in silent.no_contact_note
    assert any("no contact details" in fix for fix in silent.fixes)


# Display name -> the name as the 2007 listing prints it.
RENAMED = {
    "myositis_association": ("The Myositis Association", "Myositis Association"),
    "myositis_support_group_uk": ("Myositis Support Group (UK)", "Myositis Support Group"),
    "autoimmune_information_network": ("Autoimmune Information Network", "Autoimmune Information Network, Inc."),
    "niams": (
        "NIH National Institute of Arthritis and Musculoskeletal and Skin Diseases (NIAMS)",
        "NIH/National Institute of Arthritis and Musculoskeletal and Skin Diseases",
    ),
    "aarda": ("American Autoimmune & Related Diseases Association", "American Autoimmune & Related Diseases"),
}


@pytest.mark.parametrize("org_id", sorted(RENAMED))
def test_every_name_that_differs_from_the_listing_is_recorded_under_fixes(orgs, org_id: str) -> None:
    shown, listed = RENAMED[org_id]
    assert orgs[org_id].name == shown
    assert any(f'"{listed}"' in fix for fix in orgs[org_id].fixes), orgs[org_id].fixes


def test_no_blurb_spells_out_what_the_listing_does_not(orgs) -> None:
    """The listing never says what "JM" stands for, so the Cure JM card does not either."""
    texts = [orgs["cure_jm"].serves] + [load_matching().tags[tag] for tag in orgs["cure_jm"].tags]
    assert not [text for text in texts if "juvenile myositis" in text.lower()]


def test_the_listed_faulty_readings_are_rejected_by_phonenumbers() -> None:
    """Why the fixes were needed: the raw text is not a usable number as written."""
    geneva = phonenumbers.parse("+410229080484", None)
    # phonenumbers reads it only by dropping the trunk 0: the valid number is +41 22 908 04 84.
    assert phonenumbers.format_number(geneva, phonenumbers.PhoneNumberFormat.E164) == "+41229080484"
    with pytest.raises(phonenumbers.NumberParseException):
        phonenumbers.parse("410229080484", None)
    assert not phonenumbers.is_valid_number(phonenumbers.parse("2380449708", "US"))


# --- broken copies of the file must fail with the record and field named ---


def _org(data: Dict[str, Any], org_id: str) -> Dict[str, Any]:
    return next(o for o in data["organisations"] if o.get("id") == org_id)


def _set(org_id: str, field: str, value: Any) -> Callable[[Dict[str, Any]], None]:
    def change(data: Dict[str, Any]) -> None:
        _org(data, org_id)[field] = value

    return change


def _phone(org_id: str, label: str, value: Any) -> Callable[[Dict[str, Any]], None]:
    def change(data: Dict[str, Any]) -> None:
        _org(data, org_id)["phones"][label] = value

    return change


def _drop(org_id: str, field: str) -> Callable[[Dict[str, Any]], None]:
    def change(data: Dict[str, Any]) -> None:
        del _org(data, org_id)[field]

    return change


def _duplicate(data: Dict[str, Any]) -> None:
    data["organisations"].append(copy.deepcopy(_org(data, "nord")))


BROKEN = [
    (_phone("cure_jm", "main", "7604871079"), r"organisation 'cure_jm': field 'phones.main'.*\+ country code"),
    (_phone("esid", "main", "+410229080484"), r"organisation 'esid': field 'phones.main'.*write it as '\+41229080484'"),
    (_phone("nord", "main", "+1203744010"), r"organisation 'nord': field 'phones.main'.*not a valid phone number"),
    (
        _phone("myositis_support_group_uk", "fax", "+12037440100"),
        r"organisation 'myositis_support_group_uk': field 'phones.fax'.*not one for GB",
    ),
    (_phone("gard", "mobile", "+13012514925"), r"organisation 'gard': field 'phones.mobile'"),
    (_phone("mda", "main", 5205292000), r"organisation 'mda': field 'phones.main'"),
    (_drop("arthritis_foundation", "serves"), r"organisation 'arthritis_foundation': missing required field 'serves'"),
    (_drop("aarda", "address"), r"organisation 'aarda': missing required field 'address'"),
    (_set("niams", "region", "asia"), r"organisation 'niams': field 'region'"),
    (_set("esid", "country", "FR"), r"organisation 'esid': field 'country'"),
    (
        _set("cure_jm", "tags", ["juvenile_myositis", "cooking"]),
        r"organisation 'cure_jm': field 'tags': unknown tag 'cooking'",
    ),
    (_set("cure_jm", "website", "x"), r"organisation 'cure_jm': unknown field\(s\) website"),
    (
        _set("autoimmunity_community", "phones", {"main": "+12037440100"}),
        r"organisation 'autoimmunity_community': field 'phones' given",
    ),
    (_duplicate, r"organisation 'nord': duplicate id"),
    (
        _set("myositis_support_group_uk", "locality", "new_york_city"),
        r"organisation 'myositis_support_group_uk': field 'locality': 'new_york_city' is not a locality of region 'uk'",
    ),
    (_set("cure_jm", "locality", "encinitas"), r"organisation 'cure_jm': field 'locality'"),
]


@pytest.mark.parametrize("change, message", BROKEN)
def test_a_broken_directory_names_the_record_and_field(tmp_path, monkeypatch, change, message) -> None:
    shutil.copy(DATA / "support_needs.yml", tmp_path / "support_needs.yml")
    data = yaml.safe_load((DATA / "organisations.yml").read_text(encoding="utf-8"))
    change(data)
    (tmp_path / "organisations.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    with pytest.raises(DataFileError, match=message) as error:
        load_directory()
    assert "organisations.yml" in str(error.value)


def test_broken_matching_rules_name_the_need_and_field(tmp_path, monkeypatch) -> None:
    rules = yaml.safe_load((DATA / "support_needs.yml").read_text(encoding="utf-8"))
    rules["needs"][0]["tags"] = ["nonsense"]
    (tmp_path / "support_needs.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    with pytest.raises(
        DataFileError, match=r"support_needs.yml: need 'immunodeficiency': field 'tags': unknown tag 'nonsense'"
    ):
        load_matching()


def test_a_missing_directory_file_is_a_clear_error(tmp_path, monkeypatch) -> None:
    shutil.copy(DATA / "support_needs.yml", tmp_path / "support_needs.yml")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))
    with pytest.raises(DataFileError, match="organisations.yml: cannot be read"):
        load_directory()


# --- places: which words put a family in a region, and in a local group's area ---


def test_every_place_the_lexicon_lists_is_found_in_a_sentence_as_its_region() -> None:
    """The hand-off reads the same place names as the NLU's entity ruler, and agrees with it."""
    lexicon = load_lexicon()
    names = [*lexicon.variants.items(), *lexicon.exact_variants.items()]
    listed = {name: region for (label, name), region in names if label == "region"}
    found = {name: find_place(f"we live in {name}, any groups?") for name in listed}
    assert {name: place for name, place in found.items() if place is None or place.region != listed[name]} == {}


def test_every_place_of_a_locality_puts_the_family_in_it() -> None:
    for locality in load_matching().localities.values():
        for place in locality.places:
            found = find_place(f"hi, we are in {place} and need help")
            assert found is not None and (found.region, found.locality) == (locality.region, locality.id), place


def test_the_new_york_group_is_the_local_group_of_the_new_york_city_area(orgs) -> None:
    area = load_matching().localities["new_york_city"]
    assert orgs["hss_myositis_support_group"].locality == area.id and area.region == "us"
    assert {"Brooklyn", "Queens", "Manhattan"} <= set(area.places) and "New York" not in area.places


def _matching_copy(tmp_path: Path, monkeypatch: Any, change: Callable[[Dict[str, Any]], None]) -> None:
    rules = yaml.safe_load((DATA / "support_needs.yml").read_text(encoding="utf-8"))
    change(rules)
    (tmp_path / "support_needs.yml").write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda rules: rules["localities"][0].update(region="mars"),
            r"support_needs.yml: locality 'new_york_city': field 'region': 'mars' is not one of",
        ),
        (
            lambda rules: rules["localities"].append({"id": "nj", "name": "NJ", "region": "us", "places": ["Hoboken"]}),
            r"locality 'nj': field 'places': 'Hoboken' is also a place of 'new_york_city'",
        ),
        (
            lambda rules: rules["localities"][0].pop("places"),
            r"locality 'new_york_city': missing required field 'places'",
        ),
    ],
)
def test_broken_localities_name_the_locality_and_field(tmp_path, monkeypatch, change, message) -> None:
    _matching_copy(tmp_path, monkeypatch, change)
    with pytest.raises(DataFileError, match=message):
        load_matching()


def test_a_locality_place_the_lexicon_puts_in_another_region_is_refused(tmp_path, monkeypatch) -> None:
    lexicon = load_lexicon()  # the real one, read before the data folder is swapped
    _matching_copy(tmp_path, monkeypatch, lambda rules: rules["localities"][0]["places"].append("London"))
    with pytest.raises(DataFileError, match=r"locality 'new_york_city': field 'places': 'London' is in region 'uk'"):
        build_place_names(load_matching(), lexicon)
