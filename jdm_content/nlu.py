"""Reading the training examples (data/nlu/*.yml): for the baseline of `make evaluate` and the report's topics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, List, Tuple

import yaml

ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")  # [text](entity) or [text]{...}


def read_nlu_examples(paths: Iterable[Path]) -> List[Tuple[str, str]]:
    """(example, intent) for every intent example in Rasa NLU YAML files, entity marks removed."""
    examples = []
    for path in paths:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue  # synonyms, lookups, regexes
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    examples.append((ENTITY.sub(r"\1", line.strip()[2:].strip()), block["intent"]))
    return examples
