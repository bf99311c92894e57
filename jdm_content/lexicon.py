"""Map entity text (as a parent typed it) to the lexicon id in data/lexicon.yml.

The spaCy entity ruler gives back the words as typed ("Plaquenil", "MTX");
actions need one stable id ("hydroxychloroquine", "methotrexate") to look
answers up. This is the shared loader every action uses for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional, Tuple

from jdm_content.files import DataFileError, load_yaml, require

LEXICON_FILE = "lexicon.yml"


@dataclass(frozen=True)
class LexiconEntry:
    label: str
    id: str
    name: str


@dataclass(frozen=True)
class Lexicon:
    entries: Tuple[LexiconEntry, ...]
    # (label, lower-cased variant) -> id; exact variants keep their case.
    variants: Dict[Tuple[str, str], str]
    exact_variants: Dict[Tuple[str, str], str]


def normalise(text: str) -> str:
    """Lower case with single spaces: how loose variants are looked up."""
    return " ".join(text.split()).lower()


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Read and check data/lexicon.yml once; errors name label, entry and field."""
    data = load_yaml(LEXICON_FILE)
    if not isinstance(data, dict):
        raise DataFileError(f"{LEXICON_FILE}: expected labels (drug, symptom, ...) at the top")
    entries = []
    variants: Dict[Tuple[str, str], str] = {}
    exact: Dict[Tuple[str, str], str] = {}
    for label, records in data.items():
        if not isinstance(records, list):
            raise DataFileError(f"{LEXICON_FILE}: '{label}' must be a list of entries")
        for index, record in enumerate(records):
            where = f"{LEXICON_FILE}: {label}[{index}]"
            entry_id = str(require(record, "id", where))
            name = str(require(record, "name", f"{where} (id {entry_id})"))
            loose = record.get("variants") or []
            strict = record.get("exact_variants") or []
            if not isinstance(loose, list) or not isinstance(strict, list):
                raise DataFileError(f"{where} (id {entry_id}): variants must be lists")
            if not loose and not strict:
                raise DataFileError(f"{where} (id {entry_id}): missing required field 'variants'")
            entries.append(LexiconEntry(label=label, id=entry_id, name=name))
            for text in [name, *loose]:
                variants.setdefault((label, normalise(str(text))), entry_id)
                if str(text).endswith("."):  # the entity ruler also matches it without the last dot
                    variants.setdefault((label, normalise(str(text)[:-1])), entry_id)
            for text in strict:
                exact[(label, " ".join(str(text).split()))] = entry_id
    return Lexicon(entries=tuple(entries), variants=variants, exact_variants=exact)


def canonical_id(label: str, text: str) -> Optional[str]:
    """The lexicon id for `text` under `label` (any listed variant), else None.

    `variants` match in any case; `exact_variants` (e.g. "US") only as written.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    lexicon = load_lexicon()
    exact = lexicon.exact_variants.get((label, " ".join(text.split())))
    return exact or lexicon.variants.get((label, normalise(text)))


def entry(label: str, entry_id: str) -> Optional[LexiconEntry]:
    """The lexicon entry with this id under this label, if there is one."""
    return next((e for e in load_lexicon().entries if e.label == label and e.id == entry_id), None)
