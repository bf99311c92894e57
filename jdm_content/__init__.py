"""The assistant's content: every YAML file under data/ that clinic editors change.

Actions, NLU components and scripts all read the files through this package,
so each file has one loader and one set of checks. `validate_all()` runs them
all; both servers call it at start-up, so a broken file stops the server with
an error naming the file, record and field instead of failing on a parent's
first question.
"""

from __future__ import annotations

from jdm_content.aspects import load_aspects, question_finder
from jdm_content.clinic import load_clinic, load_crisis_lines
from jdm_content.directory import directory, matching, place_names
from jdm_content.fallback import load_fallback_texts
from jdm_content.files import DataFileError
from jdm_content.knowledge import load_facts, load_follow_ups, load_sources, load_terms, load_topics
from jdm_content.lexicon import load_lexicon
from jdm_content.triage import load_triage, load_triage_examples


def validate_all() -> None:
    """Load and check every content file; raise DataFileError on the first problem."""
    for loader in (
        load_sources,
        load_facts,
        load_topics,
        load_terms,
        load_follow_ups,
        load_aspects,
        question_finder,
        load_lexicon,
        matching,
        directory,
        place_names,
        load_clinic,
        load_crisis_lines,
        load_fallback_texts,
        load_triage,
        load_triage_examples,
    ):
        loader()


__all__ = ["DataFileError", "validate_all"]
