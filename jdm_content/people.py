"""Who a sentence is about, for a story about someone else's child.

"My sister's little boy has just been diagnosed ... She says he can't lift his
head" goes on about the nephew by "he"; "Now Ollie is on the floor jerking"
names someone (the family's own child), and "she" cannot be "my nephew". The
word lists live in data/safety/triage.yml `context.people`, for a clinic
editor to change; this module only reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, FrozenSet, Pattern

from jdm_content.files import DataFileError, string_list

LIST_KEYS = ("third_person", "first_person", "male", "female", "sentence_openers")


@dataclass(frozen=True)
class People:
    """The words that tell who a sentence is about."""

    third_person: Pattern[str]  # "he", "she", "they" ...: someone already named
    first_person: Pattern[str]  # the writer: "I", "my", "we" ...
    male: Pattern[str]
    female: Pattern[str]
    sentence_openers: FrozenSet[str]  # capitalised only because they open a sentence: no name

    @classmethod
    def from_data(cls, data: Any, where: str) -> People:
        if not isinstance(data, dict) or set(data) != set(LIST_KEYS):
            raise DataFileError(f"{where}: expected a mapping with the lists {', '.join(LIST_KEYS)}")
        lists = {key: _word_list(data[key], f"{where}.{key}") for key in LIST_KEYS}
        return cls(
            third_person=_words(lists["third_person"]),
            first_person=_words(lists["first_person"]),
            male=_words(lists["male"]),
            female=_words(lists["female"]),
            sentence_openers=frozenset(lists["sentence_openers"]),
        )

    def names_someone(self, words: str) -> bool:
        """A name among the words ("Now Ollie is on the floor jerking"): not "he" going on about
        someone else. Any capitalised word but an opening word of the sentence, "I" and initials
        ("IV") counts, so a place counts too: the safe side."""
        tokens = re.findall(r"[A-Za-z][\w'’]*", words)
        return any(
            token[0].isupper()
            and not token.isupper()
            and not token.lower().startswith(("i'", "i’"))
            and not (i == 0 and token.lower().replace("’", "'") in self.sentence_openers)
            for i, token in enumerate(tokens)
        )

    def same_gender(self, pronoun: str, who: str) -> bool:
        """ "she" may be the person these words name unless they name only a man or a boy, and the
        other way round; "they" may be anyone."""
        if self.female.fullmatch(pronoun):
            return bool(self.female.search(who)) or not self.male.search(who)
        if self.male.fullmatch(pronoun):
            return bool(self.male.search(who)) or not self.female.search(who)
        return True


def _word_list(value: Any, where: str) -> list[str]:
    words = [word.strip().lower().replace("’", "'") for word in string_list(value, where)]
    if not words:
        raise DataFileError(f"{where}: expected at least one word")
    return words


def _words(words: list[str]) -> Pattern[str]:
    """Any of the words, whole, with a curly or a missing apostrophe read as the straight one."""
    alternatives = "|".join(re.escape(word).replace("'", "['’]?") for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
