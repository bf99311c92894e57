"""The support organisation directory and the rules that match families to it.

data/organisations.yml holds the organisations (from the 2007 NORD listing)
and data/support_needs.yml the tags, needs, regions, localities and ranking
points, so a clinic editor can change who is suggested without touching Python.
Which place names mean which region comes from data/lexicon.yml (the same list
the NLU's entity ruler uses), so a place is listed once. The files are
validated here; any problem raises DataFileError naming the record and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Pattern, Tuple

import phonenumbers

from jdm_content.files import DataFileError, data_dir, load_yaml, require
from jdm_content.lexicon import LEXICON_FILE, Lexicon, load_lexicon, normalise

ORGANISATIONS_FILE = "organisations.yml"
MATCHING_FILE = "support_needs.yml"
PHONE_LABELS = ("main", "toll_free", "fax")
ORGANISATION_FIELDS = {
    "id",
    "name",
    "serves",
    "country",
    "region",
    "address",
    "phones",
    "tags",
    "serves_everyone",
    "no_contact_note",
    "fixes",
    "locality",
}
RANKING_POINTS = (
    "need_match",
    "far_need_match",
    "same_region",
    "nearby_region",
    "serves_everyone",
    "same_locality",
    "max_cards",
)
RANKING_TEXTS = (
    "same_region_reason",
    "nearby_reason",
    "far_reason",
    "serves_everyone_reason",
    "same_locality_reason",
    "locality_reason",
)


@dataclass(frozen=True)
class Phone:
    label: str
    e164: str
    national: str
    international: str


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    serves: str
    tags: Tuple[str, ...]
    country: Optional[str] = None
    country_name: Optional[str] = None
    postal_country: Optional[str] = None
    region: Optional[str] = None
    address: Tuple[str, ...] = ()
    phones: Tuple[Phone, ...] = ()
    serves_everyone: bool = False
    no_contact_note: Optional[str] = None
    fixes: Tuple[str, ...] = ()
    # Locality id for a group that meets in one area (HSS's group in New York City).
    locality: Optional[str] = None

    @property
    def contactable(self) -> bool:
        return bool(self.phones or self.address)


@dataclass(frozen=True)
class Need:
    id: str
    name: str
    tags: Tuple[str, ...]
    keywords: Tuple[str, ...]
    local_only: bool
    # Title of the button that narrows a hand-off to this need; None: no button.
    button: Optional[str] = None


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    nearby: Tuple[str, ...]
    button: str


@dataclass(frozen=True)
class Locality:
    """An area within a region that a local group serves, and the place names that put a family in it."""

    id: str
    name: str
    region: str
    places: Tuple[str, ...]


@dataclass(frozen=True)
class Place:
    """Where a family lives, as far as their words say: a region, and a locality in it when named."""

    region: str
    locality: Optional[str] = None


@dataclass(frozen=True)
class Matching:
    tags: Dict[str, str]
    needs: Tuple[Need, ...]
    regions: Dict[str, Region]
    ranking: Dict[str, Any]
    localities: Dict[str, Locality]

    def need(self, need_id: Optional[str]) -> Optional[Need]:
        return next((need for need in self.needs if need.id == need_id), None)


@dataclass(frozen=True)
class Recommendation:
    organisation: Organisation
    reasons: Tuple[str, ...]


def _where(relative_path: str, place: str) -> str:
    return f"{data_dir() / relative_path}: {place}"


def _string_list(value: Any, where: str, field: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataFileError(f"{where}: field '{field}' must be a list of non-empty texts")
    return tuple(value)


def _top_level(relative_path: str, keys: Tuple[str, ...]) -> Dict[str, Any]:
    data = load_yaml(relative_path)
    if not isinstance(data, dict):
        raise DataFileError(f"{data_dir() / relative_path}: expected a mapping with {', '.join(keys)}")
    for key in keys:
        require(data, key, str(data_dir() / relative_path))
    return data


def valid_number(value: Any, where: str) -> phonenumbers.PhoneNumber:
    """A number written with its + country code that phonenumbers accepts."""
    if not isinstance(value, str):
        raise DataFileError(f'{where}: must be a text like "+12037440100", got {value!r}')
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise DataFileError(f"{where}: '{value}' is not a phone number with a + country code ({error})") from error
    if not phonenumbers.is_valid_number(number):
        raise DataFileError(f"{where}: '{value}' is not a valid phone number")
    return number


def parse_phone(value: Any, country: str, where: str) -> Tuple[str, str, str]:
    """(E.164, national, international) for a stored number, or an error.

    The stored text must already be E.164 so the file is the single clean copy.
    """
    number = valid_number(value, where)
    number_country = phonenumbers.region_code_for_number(number)
    if number_country != country:
        raise DataFileError(f"{where}: '{value}' is a {number_country} number, not one for {country}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if value != e164:
        raise DataFileError(f"{where}: '{value}' is not in E.164 form; write it as '{e164}'")
    return (
        e164,
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )


def _organisation(record: Any, index: int, countries: Dict[str, Dict[str, str]], matching: Matching) -> Organisation:
    where = _where(ORGANISATIONS_FILE, f"organisations[{index}]")
    org_id = require(record, "id", where)
    where = _where(ORGANISATIONS_FILE, f"organisation '{org_id}'")
    unknown = sorted(set(record) - ORGANISATION_FIELDS)
    if unknown:
        raise DataFileError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for field in ("name", "serves"):
        if not isinstance(require(record, field, where), str):
            raise DataFileError(f"{where}: field '{field}' must be a text")
    tags = _string_list(require(record, "tags", where), where, "tags")
    for tag in tags:
        if tag not in matching.tags:
            raise DataFileError(f"{where}: field 'tags': unknown tag '{tag}' (see {MATCHING_FILE})")
    serves_everyone = record.get("serves_everyone", False)
    if not isinstance(serves_everyone, bool):
        raise DataFileError(f"{where}: field 'serves_everyone' must be true or false")
    fixes = _string_list(record.get("fixes", []), where, "fixes")
    common = dict(
        id=org_id, name=record["name"], serves=record["serves"], tags=tags, serves_everyone=serves_everyone, fixes=fixes
    )
    if "no_contact_note" in record:
        for field in ("address", "phones", "country", "region", "locality"):
            if field in record:
                raise DataFileError(
                    f"{where}: field '{field}' given although 'no_contact_note' says there are no contact details"
                )
        return Organisation(no_contact_note=require(record, "no_contact_note", where), **common)

    country = require(record, "country", where)
    if country not in countries:
        raise DataFileError(f"{where}: field 'country': '{country}' is not listed under countries:")
    region = require(record, "region", where)
    if region not in matching.regions:
        raise DataFileError(f"{where}: field 'region': '{region}' is not one of {', '.join(matching.regions)}")
    locality = record.get("locality")
    if locality is not None and (locality not in matching.localities or matching.localities[locality].region != region):
        raise DataFileError(f"{where}: field 'locality': '{locality}' is not a locality of region '{region}'")
    address = _string_list(require(record, "address", where), where, "address")
    phone_map = require(record, "phones", where)
    if not isinstance(phone_map, dict):
        raise DataFileError(f"{where}: field 'phones' must map labels ({', '.join(PHONE_LABELS)}) to numbers")
    phones = []
    for label, value in phone_map.items():
        if label not in PHONE_LABELS:
            raise DataFileError(f"{where}: field 'phones.{label}': label must be one of {', '.join(PHONE_LABELS)}")
        e164, national, international = parse_phone(value, country, f"{where}: field 'phones.{label}'")
        phones.append(Phone(label, e164, national, international))
    phones.sort(key=lambda phone: PHONE_LABELS.index(phone.label))
    return Organisation(
        country=country,
        country_name=countries[country]["name"],
        postal_country=countries[country]["postal"],
        region=region,
        address=address,
        phones=tuple(phones),
        locality=locality,
        **common,
    )


def load_matching(relative_path: str = MATCHING_FILE) -> Matching:
    """Tags, needs, regions, localities (optional) and ranking points, checked for consistency."""
    data = _top_level(relative_path, ("tags", "needs", "regions", "ranking"))
    tags = data["tags"]
    if not isinstance(tags, dict) or not all(isinstance(t, str) and t for t in tags.values()):
        raise DataFileError(_where(relative_path, "tags: must map each tag to the sentence saying why it fits"))
    regions: Dict[str, Region] = {}
    for index, record in enumerate(_listing(data["regions"], relative_path, "regions")):
        where = _where(relative_path, f"regions[{index}]")
        region_id = require(record, "id", where)
        nearby = _string_list(record.get("nearby", []), where, "nearby") if record.get("nearby") else ()
        regions[region_id] = Region(
            region_id, require(record, "name", where), nearby, str(require(record, "button", where))
        )
    for region in regions.values():
        for other in region.nearby:
            if other not in regions:
                raise DataFileError(
                    _where(relative_path, f"region '{region.id}': field 'nearby': unknown region '{other}'")
                )
    localities = _localities(data.get("localities") or [], relative_path, regions)
    needs = []
    for index, record in enumerate(_listing(data["needs"], relative_path, "needs")):
        where = _where(relative_path, f"needs[{index}]")
        need_id = require(record, "id", where)
        where = _where(relative_path, f"need '{need_id}'")
        need_tags = _string_list(require(record, "tags", where), where, "tags")
        for tag in need_tags:
            if tag not in tags:
                raise DataFileError(f"{where}: field 'tags': unknown tag '{tag}'")
        keywords = _string_list(require(record, "keywords", where), where, "keywords")
        button = record.get("button")
        if button is not None and not (isinstance(button, str) and button.strip()):
            raise DataFileError(f"{where}: field 'button' must be a button title")
        needs.append(
            Need(
                need_id,
                require(record, "name", where),
                need_tags,
                tuple(k.lower() for k in keywords),
                bool(record.get("local_only", False)),
                button,
            )
        )
    ranking = data["ranking"]
    where = _where(relative_path, "ranking")
    for field in RANKING_POINTS:
        if not isinstance(require(ranking, field, where), int):
            raise DataFileError(f"{where}: field '{field}' must be a whole number")
    for field in RANKING_TEXTS:
        require(ranking, field, where)
    points = require(ranking, "myositis_points", where)
    if not isinstance(points, dict) or any(t not in tags or not isinstance(p, int) for t, p in points.items()):
        raise DataFileError(f"{where}: field 'myositis_points' must map known tags to whole numbers")
    return Matching(tags, tuple(needs), regions, ranking, localities)


def _localities(value: Any, relative_path: str, regions: Dict[str, Region]) -> Dict[str, Locality]:
    """Localities by id; each place names one locality only."""
    localities: Dict[str, Locality] = {}
    owner: Dict[str, str] = {}
    for index, record in enumerate(_listing(value, relative_path, "localities")):
        locality_id = require(record, "id", _where(relative_path, f"localities[{index}]"))
        where = _where(relative_path, f"locality '{locality_id}'")
        region = require(record, "region", where)
        if region not in regions:
            raise DataFileError(f"{where}: field 'region': '{region}' is not one of {', '.join(regions)}")
        places = _string_list(require(record, "places", where), where, "places")
        for place in places:
            key = normalise(place)
            if owner.setdefault(key, locality_id) != locality_id:
                raise DataFileError(f"{where}: field 'places': '{place}' is also a place of '{owner[key]}'")
        localities[locality_id] = Locality(locality_id, str(require(record, "name", where)), region, places)
    return localities


def _listing(value: Any, relative_path: str, key: str) -> List[Any]:
    if not isinstance(value, list):
        raise DataFileError(_where(relative_path, f"{key}: must be a list"))
    return value


def load_directory(
    relative_path: str = ORGANISATIONS_FILE, matching: Optional[Matching] = None
) -> Dict[str, Organisation]:
    """Every organisation by id, in file order, fully validated."""
    matching = matching or load_matching()
    data = _top_level(relative_path, ("countries", "organisations"))
    countries = data["countries"]
    if not isinstance(countries, dict):
        raise DataFileError(_where(relative_path, "countries: must map country codes to names"))
    for code, names in countries.items():
        for field in ("name", "postal"):
            require(names, field, _where(relative_path, f"countries: {code}"))
    directory: Dict[str, Organisation] = {}
    for index, record in enumerate(_listing(data["organisations"], relative_path, "organisations")):
        organisation = _organisation(record, index, countries, matching)
        if organisation.id in directory:
            raise DataFileError(_where(relative_path, f"organisation '{organisation.id}': duplicate id"))
        directory[organisation.id] = organisation
    return directory


@lru_cache(maxsize=1)
def matching() -> Matching:
    return load_matching()


@lru_cache(maxsize=1)
def directory() -> Dict[str, Organisation]:
    return load_directory(matching=matching())


def _whole_words(phrases: Iterable[str], ignore_case: bool = True) -> Pattern[str]:
    """Any of the phrases as whole words (any spacing between words), the longest first.

    Longest first, so "New York City" is found as itself and not as "New York".
    """
    alternatives = sorted({r"\s+".join(map(re.escape, p.split())) for p in phrases if p.strip()}, key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE if ignore_case else 0)


@dataclass(frozen=True)
class PlaceNames:
    """Every place name that puts a family in a region (and maybe a locality), ready to search."""

    any_case: Dict[str, Place]  # normalised name -> place
    exact: Dict[str, Place]  # name as written (capitals) -> place
    any_case_pattern: Pattern[str]
    exact_pattern: Pattern[str]


def build_place_names(rules: Matching, lexicon: Lexicon) -> PlaceNames:
    """The lexicon's region names, refined by the localities' places; checked against each other.

    A locality place the lexicon also lists must be in the locality's own region, so the NLU and
    the hand-off never disagree about where a family lives.
    """
    any_case: Dict[str, Place] = {}
    exact: Dict[str, Place] = {}
    for table, source in ((any_case, lexicon.variants), (exact, lexicon.exact_variants)):
        for (label, name), region in source.items():
            if label != "region":
                continue
            if region not in rules.regions:
                raise DataFileError(f"{LEXICON_FILE}: region '{region}' is not a region of {MATCHING_FILE}")
            table[name] = Place(region)
            if name.endswith(".") and len(name) > 2:  # spaCy splits a last dot off ("in the U.S.")
                table.setdefault(name[:-1], Place(region))
    for locality in rules.localities.values():
        for place in locality.places:
            listed = any_case.get(normalise(place))
            if listed and listed.region != locality.region:
                raise DataFileError(
                    _where(MATCHING_FILE, f"locality '{locality.id}': field 'places': '{place}'")
                    + f" is in region '{listed.region}' in {LEXICON_FILE}"
                )
            any_case[normalise(place)] = Place(locality.region, locality.id)
    return PlaceNames(any_case, exact, _whole_words(any_case), _whole_words(exact, ignore_case=False))


@lru_cache(maxsize=1)
def place_names() -> PlaceNames:
    return build_place_names(matching(), load_lexicon())


def find_place(text: str) -> Optional[Place]:
    """Where the text says the family lives: the region of the last place named, with the last
    locality named in that region ("Queens, NY": the New York City area; "from Texas to London": the UK).

    Short state abbreviations count only in capitals, and only those that are no common word
    ("IN", "OR", "ME" are not places).
    """
    names = place_names()
    found = [(m.start(), names.any_case[normalise(m.group())]) for m in names.any_case_pattern.finditer(text or "")]
    found += [(m.start(), names.exact[" ".join(m.group().split())]) for m in names.exact_pattern.finditer(text or "")]
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    region = found[-1][1].region
    localities = [place.locality for _, place in found if place.region == region and place.locality]
    return Place(region, localities[-1] if localities else None)


@lru_cache(maxsize=1)
def _need_patterns() -> Tuple[Tuple[str, Pattern[str]], ...]:
    return tuple((need.id, _whole_words(need.keywords)) for need in matching().needs)


def detect_need(text: str) -> Optional[str]:
    """The first need (in file order) with a keyword in the text."""
    return next((need_id for need_id, pattern in _need_patterns() if pattern.search(text or "")), None)


def recommend(region_id: str, need_id: Optional[str], locality_id: Optional[str] = None) -> List[Recommendation]:
    """The best organisations for a family, best first (ranking points from data)."""
    rules = matching()
    region = rules.regions[region_id]
    need = rules.need(need_id)
    points = rules.ranking
    ranked = []
    for index, organisation in enumerate(directory().values()):
        if not organisation.contactable:
            continue
        same = organisation.region == region.id
        near = organisation.region in region.nearby
        local = organisation.locality is not None and organisation.locality == locality_id
        need_points = _need_points(organisation, need, same or near, locality_id)
        if not (same or near or organisation.serves_everyone or need_points):
            continue
        myositis = sum(points["myositis_points"].get(tag, 0) for tag in organisation.tags)
        score = (
            myositis
            + need_points
            + points["same_region"] * same
            + points["nearby_region"] * near
            + points["serves_everyone"] * organisation.serves_everyone
            + points["same_locality"] * local
        )
        reasons = (_topic_reason(organisation, need), _place_reason(organisation, region, same, near, local))
        ranked.append((-score, -myositis, index, Recommendation(organisation, reasons)))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked[: points["max_cards"]]]


def _need_points(organisation: Organisation, need: Optional[Need], at_home: bool, locality_id: Optional[str]) -> int:
    """Points for meeting the family's need; for a `local_only` need, fewer when the group is away.

    A parents' group abroad still helps a family who wants to meet others more than an
    information service at home does, so it keeps `far_need_match`. A group that meets in one
    area is near only to families there; outside its own region it is no use for such a need.
    """
    points = matching().ranking
    if need is None or not set(need.tags) & set(organisation.tags):
        return 0
    if not need.local_only:
        return int(points["need_match"])
    if organisation.locality is None:
        return int(points["need_match" if at_home else "far_need_match"])
    if organisation.locality == locality_id:
        return int(points["need_match"])
    return int(points["far_need_match"]) if at_home else 0


def _topic_reason(organisation: Organisation, need: Optional[Need]) -> str:
    """Why it fits: the tag meeting the need, else its myositis focus, else its first topic."""
    rules = matching()
    preferred = [t for t in organisation.tags if need and t in need.tags]
    preferred += [t for t in rules.ranking["myositis_points"] if t in organisation.tags]
    return rules.tags[(preferred or list(organisation.tags))[0]]


def _place_reason(organisation: Organisation, region: Region, same: bool, near: bool, local: bool) -> str:
    """Where it is, as it matters to this family: a local group names its area, near them or not."""
    texts = matching().ranking
    area = matching().localities.get(organisation.locality or "")
    if area and local:
        return texts["same_locality_reason"].format(locality=area.name)
    if area and same:
        return texts["locality_reason"].format(locality=area.name)
    if same:
        return texts["same_region_reason"].format(region=region.name)
    if near:
        return texts["nearby_reason"].format(country=organisation.country_name)
    if organisation.serves_everyone:
        return texts["serves_everyone_reason"]
    return texts["far_reason"].format(country=organisation.country_name)
