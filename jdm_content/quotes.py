"""Words named in quotation marks are a mention, not a telling.

"The form has a box for 'signs of anaphylaxis'" and "which signs mean 'ring
999'" name danger words; they tell of no child in danger. Two kinds of quote
still tell, and so are not set aside:

- words someone says: the word before the quote is a word of saying ("she
  keeps crying 'can't breathe'", "he yelled 'call 999!'");
- words for how the child is: the word before is a word of being ("he's
  'very hard to wake'", "she looks 'grey'"), or the quote holds the child's
  own "I", "me", "my" or a "now" ("'I can't swallow'").

A question quoted is asked, not told, whoever says it ("the team always go
'any trouble swallowing, any choking?'"), unless it holds the child's own
words ("she asked 'why can't I breathe?'").

The word lists live in data/safety/triage.yml `context.quoted`, for a clinic
editor to change; this module only finds the quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, FrozenSet, List, Pattern, Tuple

from jdm_content.files import DataFileError, string_list

Span = Tuple[int, int]
MAX_QUOTE = 80  # characters: longer "quotes" are stray apostrophes ("'tis ... can't")
LIST_KEYS = ("said_by", "describes", "own_words")

# An opening mark not inside a word ("can't" has no quote), a short run on one line, a closing
# mark not followed by a word ("'ring 999's" is no quote end).
_QUOTE = re.compile(rf"(?<![\w'’])['‘\"“]([^'‘’\"”\n]{{1,{MAX_QUOTE}}})['’\"”](?![\w'’])")
_WORD_BEFORE = re.compile(r"([\w'’]+)\W{0,2}$")


@dataclass(frozen=True)
class Quotes:
    """The word lists that tell a named term from words said or a state described."""

    said_by: FrozenSet[str]
    describes: FrozenSet[str]
    own_words: Pattern[str]

    @classmethod
    def from_data(cls, data: Any, where: str) -> Quotes:
        if data is None:
            data = {}
        if not isinstance(data, dict) or set(data) - set(LIST_KEYS):
            raise DataFileError(f"{where}: expected a mapping with lists {', '.join(LIST_KEYS)}")
        lists = {key: _word_list(data.get(key, []), f"{where}.{key}") for key in LIST_KEYS}
        own = "|".join(re.escape(word).replace("'", "['’]?") for word in lists["own_words"]) or r"(?!)"
        return cls(
            frozenset(lists["said_by"]),
            frozenset(lists["describes"]),
            re.compile(rf"(?<!\w)(?:{own})(?!\w)", re.IGNORECASE),
        )

    def spans(self, sentence: str) -> List[Span]:
        """Where the sentence names words in quotation marks, marks included."""
        found = []
        for quote in _QUOTE.finditer(sentence):
            before = _WORD_BEFORE.search(sentence, 0, quote.start())
            word = before.group(1).lower().replace("’", "'") if before else ""
            if self.own_words.search(quote.group(1)):
                continue  # the child's own words, or now
            asked = quote.group(1).rstrip().endswith("?")
            if not asked and (word in self.said_by or word in self.describes or word.endswith("'s")):
                continue  # said, or how someone is ("he's 'very hard to wake'")
            found.append(quote.span())
        return found


def _word_list(value: Any, where: str) -> List[str]:
    return [word.strip().lower().replace("’", "'") for word in string_list(value, where)]
