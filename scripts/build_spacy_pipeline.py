"""Build the assistant's own spaCy pipeline from data/lexicon.yml.

No spaCy model can be downloaded on the machines this runs on, so the
pipeline is a blank English one with a lookup lemmatizer (tables from the
spacy-lookups-data package) and an entity ruler made from the lexicon.
Rasa's SpacyNLP loads it by path (see config.yml).

Beside it goes the list of common English words (from the same package's
lexeme probabilities) that the triage step never typo-corrects: a small
text file, so no server holds the million-entry table.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Dict, List, cast

import spacy
import spacy_lookups_data
import yaml
from spacy.pipeline import EntityRuler

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LEXICON = ROOT / "data" / "lexicon.yml"
DEFAULT_OUTPUT = ROOT / "models" / "spacy" / "jdm_en"
PIPELINE_NAME = "jdm_en"
sys.path.insert(0, str(ROOT))  # run as a script: jdm_content is beside scripts/

from jdm_content.triage import ENGLISH_MIN_LOG_PROB, ENGLISH_WORDS_FILE  # noqa: E402


class LexiconError(ValueError):
    """The lexicon file is not usable; the message names the entry."""


def load_lexicon(path: Path) -> Dict[str, List[dict]]:
    """Read and check the lexicon so an editor's mistake gives a clear error."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LexiconError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict) or not data:
        raise LexiconError(f"{path}: expected entity labels at the top level")
    seen: Dict[str, str] = {}
    for label, entries in data.items():
        if not isinstance(entries, list):
            raise LexiconError(f"{path}: '{label}' must be a list of terms")
        for index, entry in enumerate(entries):
            where = f"{path}: {label}[{index}]"
            if not isinstance(entry, dict):
                raise LexiconError(f"{where}: expected a mapping with id, name, variants")
            for field in ("id", "name", "variants"):
                if not entry.get(field):
                    raise LexiconError(f"{where}: missing '{field}'")
            for field in ("variants", "exact_variants"):
                if not isinstance(entry.get(field, []), list):
                    raise LexiconError(f"{where} ({entry['id']}): '{field}' must be a list")
            for variant in entry["variants"] + entry.get("exact_variants", []):
                key = str(variant).lower()
                owner = f"{label}/{entry['id']}"
                if key in seen and seen[key] != owner:
                    raise LexiconError(
                        f"{where} ({entry['id']}): variant '{variant}' is also listed " f"under {seen[key]}"
                    )
                seen[key] = owner
    return data


def ruler_patterns(lexicon: Dict[str, List[dict]]) -> List[dict]:
    """One token pattern per variant, tagged with the term id."""
    tokenizer = spacy.blank("en").tokenizer
    patterns = []
    for label, entries in lexicon.items():
        for entry in entries:
            spellings = [(v, "LOWER") for v in entry["variants"]]
            spellings += [(v, "ORTH") for v in entry.get("exact_variants", [])]
            # In a sentence spaCy splits the last dot off an abbreviation ("N.O.R.D. address"):
            # match the spelling without it too.
            spellings += [(v[:-1], a) for v, a in spellings if str(v).endswith(".") and len(str(v)) > 2]
            for variant, attribute in spellings:
                tokens = [
                    {attribute: token.lower_ if attribute == "LOWER" else token.text}
                    for token in tokenizer(str(variant))
                ]
                patterns.append({"label": label, "pattern": tokens, "id": entry["id"]})
    return patterns


def lexicon_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def build(lexicon_path: Path) -> spacy.language.Language:
    lexicon = load_lexicon(lexicon_path)
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}))
    nlp.initialize()
    # Patterns go in after initialize(): initialize() clears an entity ruler.
    ruler.add_patterns(ruler_patterns(lexicon))
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = f"1.0.0+{lexicon_digest(lexicon_path)}"
    nlp.meta["description"] = "Blank English + lookup lemmatizer + JDM entity ruler"
    return nlp


def write_english_words(path: Path) -> int:
    """Common English words, one a line: those above the triage step's probability cut-off."""
    with gzip.open(str(spacy_lookups_data.get_file("en_lexeme_prob.json.gz")), "rt", encoding="utf-8") as table:
        probabilities: Dict[str, float] = json.load(table)
    words = sorted(w for w, p in probabilities.items() if p > ENGLISH_MIN_LOG_PROB and w.isalpha() and w.islower())
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return len(words)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        nlp = build(args.lexicon)
    except (LexiconError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.output.exists():
        shutil.rmtree(args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    ruler = cast(EntityRuler, nlp.get_pipe("entity_ruler"))
    count = len(ruler.patterns)
    print(f"spaCy pipeline {nlp.meta['version']} with {count} term patterns -> {args.output}")
    print(f"{write_english_words(ENGLISH_WORDS_FILE)} common English words -> {ENGLISH_WORDS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
