"""Every text a parent can be sent, for a clinician to check against the sources.

`make review` runs this and writes results/content-review.html: one
self-contained page (no scripts, no links out; opens offline and prints well)
listing every response in domain.yml, every term and follow-up answer, every
organisation card and blurb, and the safety replies. Each text stands beside
the facts it cites (data/knowledge/facts.yml), the source passages those facts
point to (read from SOURCES_DIR, default ../shared/seeds: the project keeps no
copy of the documents), its reading grade with every template value filled in,
and its sign-off state (data/review/signoff.yml: signed, never signed, or
changed since sign-off). Safety replies and the triage rules have a section
of their own: general safety guidance, not from the sources. Each rule shows
its tier, its reason, the messages that must trigger it and those that must
not (the examples the tests check), and the reply its tier sends.

`--sign --reviewer NAME` records every text and rule not yet signed (or
changed since) as signed by NAME today, after they have read the sheet.

The catalogue (`parent_texts`) and the checks' helpers (`reading_grade`,
`key_terms`) are shared with tests/test_knowledge.py and tests/test_sources.py,
so what is reviewed is exactly what is tested.
"""

from __future__ import annotations

import argparse
import datetime
import html
import json
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import textstat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jdm_content.clinic import UNKNOWN_CLINIC, load_clinic, load_crisis_lines  # noqa: E402
from jdm_content.directory import RANKING_TEXTS, Organisation, directory, matching  # noqa: E402
from jdm_content.fallback import load_fallback_texts  # noqa: E402
from jdm_content.files import DataFileError, load_yaml  # noqa: E402
from jdm_content.knowledge import (  # noqa: E402
    Fact,
    load_facts,
    load_follow_ups,
    load_sources,
    load_terms,
    load_topic_menu,
    load_topics,
    located_passage,
    missing_sources,
    sources_dir,
)
from jdm_content.lexicon import load_lexicon  # noqa: E402
from jdm_content.signoff import CHANGED, NEVER, SIGNED, load_signoffs, sign, status, tally  # noqa: E402
from jdm_content.triage import TRIAGE_FILE, load_triage  # noqa: E402

DEFAULT_OUTPUT = ROOT / "results" / "content-review.html"
MAX_GRADE = 8.0

MEDICAL = "Medical answers"
TERMS = "Medicines, tests and signs"
FOLLOW_UPS = "Follow-up answers"
CONVERSATION = "Conversation and menus"
SUPPORT = "Support organizations and contact cards"
SAFETY = "Safety replies"
SECTIONS = (MEDICAL, TERMS, FOLLOW_UPS, CONVERSATION, SUPPORT, SAFETY)
SAFETY_NOTE = "General safety guidance, not from the sources: needs a clinician's approval."

# Domain responses that are safety guidance (emergency numbers, medicine questions).
SAFETY_RESPONSES = (
    "utter_disclaimer",
    "utter_emergency",
    "utter_tell_care_team_soon",
    "utter_triage_urgent",
    "utter_crisis",
    "utter_child_medicine",
    "utter_named_medicine_general",
)
# Words that mark general safety advice inside a sourced answer (flagged for the clinician).
SAFETY_ADVICE = re.compile(r"emergency number|medical help right away|emergency department", re.IGNORECASE)


@dataclass(frozen=True)
class ParentText:
    """One text a parent can be sent, as written, and filled with every value it can take."""

    where: str
    section: str
    text: str
    facts: Tuple[str, ...] = ()
    fillings: Tuple[str, ...] = ()
    # An answer states medical facts (its numbers, medicines and tests must be in its facts' passages).
    answer: bool = False
    note: str = ""
    # A button title or heading of a word or two: reading-grade formulas need sentences, so it is not graded.
    label: bool = False

    @property
    def filled(self) -> Tuple[str, ...]:
        return self.fillings or (self.text,)


# --- reading grade, spelling and key terms (shared with the tests) ---------------


def prose(text: str) -> str:
    """A message as reading-grade formulas should see it.

    Markdown marks and links go; every line is a sentence of its own (a bold
    heading or "Phone: ..." line is not the start of the next sentence).
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("**", "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line if re.search(r"[.!?:]$", line) else line + "." for line in lines)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade; leftover {placeholders} count as a short word."""
    return float(textstat.flesch_kincaid_grade(prose(re.sub(r"\{\w+\}", "this", text))))


UK_SPELLINGS = re.compile(
    r"\b\w*(?:colour|favour|behaviour|honour|neighbour|organis|recognis|realis|apologis|immunis|moisturis"
    r"|minimis|centre|metre|litre|defence|licence|oedema|paediatric|haemo|anaem|oestro|tumour|programme"
    r"|travell|cancell|labell|counsell|judgement|aluminium)\w*\b|\b(?:spelt|learnt|physio|mum|mums)\b",
    re.IGNORECASE,
)
# Proper names keep their own spelling; "(also spelled oedema)" names the UK form on purpose.
SPELLING_EXCEPTIONS = re.compile(r"also spelled \w+", re.IGNORECASE)


def uk_spellings(text: str) -> List[str]:
    return UK_SPELLINGS.findall(SPELLING_EXCEPTIONS.sub("", text))


# Medicines and tests the lexicon does not list by themselves.
GENERIC_TERMS = {
    "drug:steroid": r"steroids?",
    "drug:chemotherapy": r"chemotherapy",
    "drug:anti-malarial": r"(?:anti-?)?malaria\w*",
    "test:lab": r"lab(?:oratory)?",
}
# Body parts, with the words the sources use for them.
BODY_PARTS = {
    "face": r"face",
    "eyelids": r"eyelids?",
    "eyes": r"eyes|eyelids",
    "hands": r"hands?|manual",
    "knuckles": r"knuckles?",
    "knees": r"knees?",
    "elbows": r"elbows?",
    "joints": r"joints?",
    "neck": r"neck",
    "shoulders": r"shoulders?",
    "belly": r"belly|tummy|abdominal|abdomen",
    "trunk": r"trunk",
    "upper arms": r"upper arms?",
    "hips": r"hips?",
    "thighs": r"thighs?",
    "cheeks": r"cheeks?",
    "nose": r"nose",
    "forehead": r"forehead",
    "mouth": r"mouth|oral",
    "nails": r"nails?|nailfold",
    "gut": r"gut|digestive|gastrointestinal|GI",
    "blood vessels": r"blood vessels?|vessels",
    "skin": r"skin",
    "muscles": r"muscles?",
}
# Parent-friendly ways of writing a source's number ("3 in 10" for "30 percent").
NUMBER_PHRASES = {r"\b3 in 10\b": "30 percent"}


def _term_patterns() -> Dict[str, re.Pattern[str]]:
    """kind:id -> one regex of every spelling (lexicon drugs and tests, plus the generic words)."""
    spellings: Dict[str, List[str]] = {}
    lexicon = load_lexicon()
    for (label, variant), entry_id in lexicon.variants.items():
        if label in ("drug", "test"):
            spellings.setdefault(f"{label}:{entry_id}", []).append(re.escape(variant))
    for (label, variant), entry_id in lexicon.exact_variants.items():
        if label in ("drug", "test"):
            spellings.setdefault(f"{label}:{entry_id}", []).append(re.escape(variant))
    patterns = {
        key: re.compile(r"(?<![\w-])(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")s?(?![\w-])", re.I)
        for key, words in spellings.items()
    }
    for key, regex in GENERIC_TERMS.items():
        patterns[key] = re.compile(rf"(?<!\w)(?:{regex})(?!\w)", re.IGNORECASE)
    return patterns


def key_terms(text: str, body_parts: bool = False) -> Set[str]:
    """The numbers ("num:3"), medicines ("drug:..."), tests ("test:...") and, if asked, body parts a text names."""
    text = text.split("Source:")[0]
    for phrase, written in NUMBER_PHRASES.items():
        text = re.sub(phrase, written, text)
    found = {f"num:{number}" for number in re.findall(r"\d+", text)}
    found |= {key for key, pattern in _term_patterns().items() if pattern.search(text)}
    if body_parts:
        found |= {f"body:{part}" for part, regex in BODY_PARTS.items() if re.search(rf"\b(?:{regex})\b", text, re.I)}
    return found


# --- the catalogue -----------------------------------------------------------------


def _responses() -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def _cited_by_response() -> Dict[str, Tuple[str, ...]]:
    cited: Dict[str, List[str]] = {}
    for fact in load_facts().values():
        for name in fact.carried_by:
            cited.setdefault(name, []).append(fact.id)
    return {name: tuple(ids) for name, ids in cited.items()}


def _fill(template: str, values: Iterable[Dict[str, str]]) -> Tuple[str, ...]:
    return tuple(template.format(**value) for value in values)


def _card_whys(organisation: Organisation) -> List[str]:
    """Every "why" a card for this organisation can show: its blurb, or a topic and a place reason."""
    rules = matching()
    texts = rules.ranking
    places = [texts["same_region_reason"].format(region=region.name) for region in rules.regions.values()]
    if organisation.country_name:
        places += [
            texts["nearby_reason"].format(country=organisation.country_name),
            texts["far_reason"].format(country=organisation.country_name),
        ]
    places.append(texts["serves_everyone_reason"])
    area = rules.localities.get(organisation.locality or "")
    if area:
        places += [texts[key].format(locality=area.name) for key in ("same_locality_reason", "locality_reason")]
    return [organisation.serves] + [f"{rules.tags[tag]} {place}" for tag in organisation.tags for place in places]


def _contact(organisation: Organisation) -> str:
    sys.path.insert(0, str(ROOT))
    from actions.support import contact_lines

    return contact_lines(organisation, links=False, family_region=None)


def _response_fillings(name: str, template: str) -> Tuple[str, ...]:
    """The response with every value its placeholders can take (none: the text itself)."""
    if "{" not in template:
        return ()
    rules = matching()
    needs = [""] + [f", for {need.name}" for need in rules.needs]
    clinics = [load_clinic(), UNKNOWN_CLINIC]
    if name == "utter_support_intro":
        return _fill(template, ({"region_name": r.name, "need_text": n} for r in rules.regions.values() for n in needs))
    if name == "utter_support_intro_anywhere":
        return _fill(template, ({"need_text": n} for n in needs))
    if name == "utter_triage_urgent":
        return _fill(template, ({"clinic_phone": c.phone, "clinic_out_of_hours": c.out_of_hours} for c in clinics))
    if name == "utter_crisis":
        lines = "\n".join(f"- **{line.name}** ({line.region}): {line.contact}" for line in load_crisis_lines())
        return _fill(template, [{"crisis_lines": lines}])
    if name in ("utter_clinic_contact", "utter_human_contact", "utter_conversation_limit"):
        return _fill(
            template, ({"clinic_name": c.name, "clinic_phone": c.phone, "clinic_hours": c.hours} for c in clinics)
        )
    if name == "utter_named_medicine_general":
        return _fill(template, ({"medicine": e.name} for e in load_lexicon().entries if e.label == "drug"))
    if name == "utter_contact_card":
        # The contact lines (phones, address) are not prose: graded without them, shown in the review.
        return _fill(
            template,
            (
                {"org_name": org.name, "why": why, "contact": ""}
                for org in directory().values()
                for why in _card_whys(org)
            ),
        )
    raise KeyError(f"domain.yml: {name}: no values known for its placeholders; add them to content_review.py")


def parent_texts() -> List[ParentText]:
    """Every text a parent can be sent, in review order."""
    cited = _cited_by_response()
    texts: List[ParentText] = []
    for name, messages in _responses().items():
        for index, message in enumerate(messages):
            text = str(message.get("text", ""))
            where = f"domain.yml: {name}" + (f" [{index + 1}]" if len(messages) > 1 else "")
            if name.startswith("utter_faq/"):
                section = MEDICAL
            elif name in SAFETY_RESPONSES:
                section = SAFETY
            elif (
                name in ("utter_contact_card", "utter_support_intro", "utter_support_intro_anywhere")
                or "support" in name
            ):
                section = SUPPORT
            else:
                section = CONVERSATION
            facts = cited.get(name, ())
            note = "Contains general safety advice not from the sources." if SAFETY_ADVICE.search(text) else ""
            texts.append(
                ParentText(
                    where,
                    section,
                    text,
                    facts,
                    _response_fillings(name, text),
                    answer=bool(facts),
                    note=note if section != SAFETY else "",
                )
            )
            for button in message.get("buttons") or []:
                texts.append(ParentText(f"{where}: button", section, str(button["title"]), label=True))
    terms = load_terms()
    for term in terms.by_id.values():
        texts.append(ParentText(f"terms.yml: {term.id}", TERMS, term.answer, term.facts, answer=True))
        if term.dose_answer != term.answer:
            texts.append(
                ParentText(f"terms.yml: {term.id}: dose_answer", TERMS, term.dose_answer, term.facts, answer=True)
            )
    names = [e.name for e in load_lexicon().entries if e.label in ("drug", "test", "symptom")]
    texts.append(
        ParentText(
            "terms.yml: not_covered",
            TERMS,
            terms.not_covered,
            fillings=tuple(terms.not_covered.replace("{name}", n) for n in names),
        )
    )
    texts.append(ParentText("terms.yml: unknown", TERMS, terms.unknown))
    follow_ups = load_follow_ups()
    titles = [topic.title for topic in load_topics().values()]
    for kind, answer in follow_ups.defaults.items():
        if answer.text:
            fillings = tuple(answer.text.replace("{title}", t) for t in titles) if "{title}" in answer.text else ()
            texts.append(ParentText(f"follow_ups.yml: defaults: {kind}", FOLLOW_UPS, answer.text, fillings=fillings))
    for topic, answers in follow_ups.by_topic.items():
        for kind, answer in answers.items():
            if answer.text:
                where = f"follow_ups.yml: {topic}: {kind}"
                note = (
                    "Contains general safety advice not from the sources." if SAFETY_ADVICE.search(answer.text) else ""
                )
                texts.append(ParentText(where, FOLLOW_UPS, answer.text, answer.facts, answer=True, note=note))
    menu = load_topic_menu()
    texts.append(ParentText("topics.yml: prompt", CONVERSATION, menu.prompt))
    for menu_topic in load_topics().values():
        where = f"topics.yml: {menu_topic.id}"
        texts.append(ParentText(f"{where}: title (button)", CONVERSATION, menu_topic.title, label=True))
        texts.append(ParentText(f"{where}: example (button)", CONVERSATION, menu_topic.example))
    fallback = load_fallback_texts()
    texts.append(ParentText("safety/fallback.yml: first", CONVERSATION, fallback.first))
    texts.append(ParentText("safety/fallback.yml: again", CONVERSATION, fallback.again))
    rules = matching()
    for org in directory().values():
        card = f"**{org.name}**\n{org.serves}\n{_contact(org)}"
        texts.append(
            ParentText(f"organisations.yml: {org.id}: serves (card when named)", SUPPORT, card, fillings=(org.serves,))
        )
    for tag, sentence in rules.tags.items():
        texts.append(ParentText(f"support_needs.yml: tags: {tag}", SUPPORT, sentence))
    areas = [area.name for area in rules.localities.values()] or [""]
    for key in RANKING_TEXTS:
        template = str(rules.ranking[key])
        fillings = tuple(
            template.format(region=r.name, country=c["name"], locality=area)
            for r in rules.regions.values()
            for c in _countries().values()
            for area in areas
        )
        texts.append(ParentText(f"support_needs.yml: ranking: {key}", SUPPORT, template, fillings=fillings))
    for region in rules.regions.values():
        texts.append(ParentText(f"support_needs.yml: region {region.id}: button", SUPPORT, region.button, label=True))
    for need in rules.needs:
        if need.button:
            texts.append(ParentText(f"support_needs.yml: need {need.id}: button", SUPPORT, need.button, label=True))
    return texts


def _countries() -> Dict[str, Dict[str, str]]:
    data = yaml.safe_load((ROOT / "data" / "organisations.yml").read_text(encoding="utf-8"))
    return dict(data["countries"])


@dataclass(frozen=True)
class RuleRow:
    """One triage rule as the clinician signs it: its words in the table, and what it does."""

    id: str
    tier: str
    reason: str
    triggers: Tuple[str, ...]
    fires: Tuple[str, ...]
    quiet: Tuple[str, ...]
    text: str  # the rule's entry in triage.yml, as signed


TABLE_SETTINGS = "triage.yml: tiers, terms, typo list, context cues, general questions"


def triage_rows() -> List[RuleRow]:
    """Every rule of data/safety/triage.yml (emergency ... soon, then one child's medicine)."""
    raw = _triage_data()
    rows = []
    for section, tiers in (("rules", None), ("child_medicine", "one child's medicine")):
        for entry in raw.get(section) or []:
            triggers = tuple(str(t) for t in (entry.get("phrases") or []) + (entry.get("patterns") or []))
            examples = entry.get("examples") or {}
            rows.append(
                RuleRow(
                    f"triage.yml: {section}: {entry['id']}",
                    str(entry.get("tier") or tiers),
                    str(entry.get("reason", "")).strip(),
                    triggers,
                    tuple(examples.get("fires") or ()),
                    tuple(examples.get("quiet") or ()),
                    json.dumps(entry, sort_keys=True, ensure_ascii=False),
                )
            )
    return rows


def _triage_data() -> Dict[str, Any]:
    return dict(load_yaml(TRIAGE_FILE))


def table_settings_text() -> str:
    """The triage table's shared parts (tiers, terms, context cues ...), as signed: everything but the rules."""
    settings = {k: v for k, v in _triage_data().items() if k not in ("rules", "child_medicine")}
    return json.dumps(settings, sort_keys=True, ensure_ascii=False)


def signable_items(
    texts: Optional[List[ParentText]] = None, rules: Optional[List[RuleRow]] = None
) -> List[Tuple[str, str]]:
    """(id, words) of everything a clinician signs: each parent-facing text, each triage rule, the table's settings."""
    return (
        [(item.where, item.text) for item in (parent_texts() if texts is None else texts)]
        + [(row.id, row.text) for row in (triage_rows() if rules is None else rules)]
        + [(TABLE_SETTINGS, table_settings_text())]
    )


# --- the page ----------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .3rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
.meta, .note { color: #333; } .warn { background: #fff4d6; border: 2px solid #b26b00; padding: .6rem .8rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #888; padding: .35rem .45rem; vertical-align: top; text-align: left; }
td { overflow-wrap: anywhere; }
th { background: #e8eef6; }
td.text, td.passage { white-space: pre-wrap; }
col.where { width: 13%; } col.text { width: 32%; } col.facts { width: 20%; } col.passage { width: 22%; }
col.grade { width: 5%; } col.sign { width: 8%; }
.signed { color: #0a5d1e; } .never { color: #333; } .changed { color: #a00000; font-weight: bold; }
.over { color: #a00000; font-weight: bold; } .fact-id { font-family: monospace; font-size: .85em; }
.missing { color: #a00000; } .safety { border: 3px solid #a00000; padding: .2rem .8rem .8rem; margin-top: 2rem; }
@media print {
  body { margin: 0; font-size: 10pt; } h2 { break-before: page; } .safety { border-width: 2px; }
  tr { break-inside: avoid; } thead { display: table-header-group; }
}
"""


def _passages(facts: Sequence[Fact], folder: Path, available: bool) -> str:
    if not facts:
        return "—"
    shorts = {s.id: s.short for s in load_sources().values()}
    parts = []
    for fact in facts:
        numbers = ", ".join(str(n) for n in fact.sentences)
        head = f"[{fact.id}] {shorts[fact.source]}, sentence {numbers}:"
        if not available:
            parts.append(f"{head} (source documents not at hand)")
            continue
        try:
            parts.append(f"{head}\n{located_passage(fact, folder)}")
        except DataFileError as error:
            parts.append(f"{head} ERROR: {error}")
    return "\n\n".join(parts)


def _status_cell(item_id: str, text: str, signed: Dict[str, Any]) -> str:
    state = status(item_id, text, signed)
    css = {SIGNED: "signed", NEVER: "never", CHANGED: "changed"}[state.state]
    return f'<td class="{css}" data-signoff="{css}">{html.escape(state.describe())}</td>'


def _row(item: ParentText, facts: Dict[str, Fact], folder: Path, available: bool, signed: Dict[str, Any]) -> str:
    grades = [reading_grade(text) for text in item.filled] if not item.label else [0.0]
    worst = max(grades)
    grade = f"{worst:.1f}" + (f"<br><small>worst of {len(grades)} fillings</small>" if len(grades) > 1 else "")
    if item.label:
        grade = "label"
    cited = [facts[fact_id] for fact_id in item.facts]
    fact_cell = (
        "<br>".join(f'<span class="fact-id">{html.escape(f.id)}</span>: {html.escape(f.text)}' for f in cited) or "—"
    )
    note = f'<p class="note"><strong>{html.escape(item.note)}</strong></p>' if item.note else ""
    return (
        f'<tr data-where="{html.escape(item.where)}">'
        f"<td>{html.escape(item.where)}</td>"
        f'<td class="text">{html.escape(item.text)}{note}</td>'
        f"<td>{fact_cell}</td>"
        f'<td class="passage">{html.escape(_passages(cited, folder, available))}</td>'
        f'<td class="{"over" if worst > MAX_GRADE else ""}">{grade}</td>'
        f"{_status_cell(item.where, item.text, signed)}</tr>"
    )


TABLE_HEAD = (
    '<table><colgroup><col class="where"><col class="text"><col class="facts"><col class="passage">'
    '<col class="grade"><col class="sign"></colgroup><thead><tr><th>Where</th><th>Text a parent can be sent</th>'
    "<th>Facts it cites</th><th>Source passages</th><th>Grade</th><th>Clinician sign-off</th></tr></thead><tbody>"
)


def _triage_section(signed: Dict[str, Any], rows: List[RuleRow]) -> List[str]:
    """Each tier's reply, then each rule with its reason, triggers, examples and sign-off state."""
    domain = _responses()
    replies = load_triage().tier_responses
    out = [
        f"<h3 id='triage'>Triage (data/safety/{TRIAGE_FILE.split('/')[-1]})</h3>",
        f"<p class='warn'><strong>{html.escape(SAFETY_NOTE)}</strong> Words count only where they describe the "
        "child now: negated, past, hypothetical, someone else's and figurative words are set aside first.</p>",
        "<table><thead><tr><th>Tier</th><th>Reply the tier sends</th></tr></thead><tbody>",
    ]
    out += [
        f"<tr data-tier='{tier}'><td>{tier}</td><td class='text'>{html.escape(domain[name][0]['text'])}"
        f"<br><small>{name}</small></td></tr>"
        for tier, name in replies.items()
    ]
    out += [
        "</tbody></table>",
        "<table><thead><tr><th>Rule</th><th>Tier and reason</th><th>Triggered by</th><th>Must trigger it</th>"
        "<th>Must not trigger it</th><th>Clinician sign-off</th></tr></thead><tbody>",
    ]
    for row in rows:
        triggers = "\n".join(row.triggers)
        out.append(
            f"<tr data-rule='{html.escape(row.id)}'><td>{html.escape(row.id)}</td>"
            f"<td><strong>{html.escape(row.tier)}</strong>: {html.escape(row.reason)}</td>"
            f"<td class='text'><small>{html.escape(triggers)}</small></td>"
            f"<td class='text'>{html.escape(chr(10).join(row.fires))}</td>"
            f"<td class='text'>{html.escape(chr(10).join(row.quiet))}</td>"
            f"{_status_cell(row.id, row.text, signed)}</tr>"
        )
    settings = table_settings_text()
    out.append(
        f"<tr data-rule='{html.escape(TABLE_SETTINGS)}'><td>{html.escape(TABLE_SETTINGS)}</td>"
        "<td colspan='4'>The words the rules share, the context cues and the general-question patterns "
        f"(see the file).</td>{_status_cell(TABLE_SETTINGS, settings, signed)}</tr>"
    )
    out.append("</tbody></table>")
    return out


def render(folder: Optional[Path] = None) -> str:
    folder = folder or sources_dir()
    missing = missing_sources(folder)
    available = not missing
    facts = load_facts()
    items = parent_texts()
    rules = triage_rows()
    signed = load_signoffs()
    counts = tally(signable_items(items, rules), signed)
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>JDM assistant: content review</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>JDM parent assistant: content review</h1>",
        f"<p class='meta'>Made {date.today().isoformat()} by <code>make review</code>. {len(items)} texts. "
        "Each text a parent can be sent, the facts it cites, the source words those facts point to, "
        f"its Flesch-Kincaid reading grade (target {MAX_GRADE:.0f} or below; templates filled with every value "
        "they can take, the worst shown) and a column to sign off.</p>",
        "<p class='meta'>Sources: "
        + "; ".join(html.escape(f"{s.title} ({s.file})") for s in load_sources().values())
        + f". Read from <code>{html.escape(str(folder))}</code>.</p>",
        f"<p class='meta' id='signoff-summary'>Clinical sign-off: <strong>{counts[SIGNED]}</strong> signed, "
        f"<strong>{counts[NEVER]}</strong> never signed, <strong class='changed'>{counts[CHANGED]}</strong> "
        "changed since sign-off (texts and triage rules). Record a sign-off with "
        "<code>make signoff REVIEWER=&quot;name&quot;</code> after reading this sheet.</p>",
    ]
    if missing:
        out.append(
            "<p class='warn'><strong>The source documents were not found</strong> ("
            + html.escape(", ".join(str(p) for p in missing))
            + "): passages are not shown. Set SOURCES_DIR and run <code>make review</code> again.</p>"
        )
    for section in SECTIONS:
        rows = [item for item in items if item.section == section]
        if section == SAFETY:
            out.append(f"<section class='safety' id='safety'><h2>{html.escape(section)}</h2>")
            out.append(f"<p class='warn'><strong>{html.escape(SAFETY_NOTE)}</strong></p>")
        else:
            out.append(f"<section id='{section.split()[0].lower()}'><h2>{html.escape(section)}</h2>")
        out.append(TABLE_HEAD)
        out += [_row(item, facts, folder, available, signed) for item in rows]
        out.append("</tbody></table>")
        if section == SAFETY:
            out += _triage_section(signed, rules)
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, help="where to write the page")
    parser.add_argument(
        "--sign", action="store_true", help="record every text and rule not signed (or changed since) as signed"
    )
    parser.add_argument("--reviewer", default="", help="the clinician who read the sheet (with --sign)")
    args = parser.parse_args(argv)
    if args.sign:
        try:
            signed = load_signoffs()
            todo = [(i, t) for i, t in signable_items() if status(i, t, signed).state != SIGNED]
            done = sign(todo, args.reviewer, datetime.date.today())
        except DataFileError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"signed {len(done)} texts and rules for {args.reviewer.strip()}")
        return 0
    missing = missing_sources()
    if missing:
        print(
            "warning: source documents not found: "
            + ", ".join(str(p) for p in missing)
            + " (set SOURCES_DIR); the review shows no passages",
            file=sys.stderr,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
