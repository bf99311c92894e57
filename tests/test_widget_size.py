"""The widget must stay small: parents on slow phone connections load it on every page."""

from __future__ import annotations

import gzip

from conftest import ROOT

BUDGET = 25 * 1024  # bytes, JS + CSS gzipped (the common Rasa widget is ~210 KB)
FILES = [ROOT / "web" / "jdm-chat.js", ROOT / "web" / "jdm-chat.css"]


def gzipped_size() -> int:
    # Level 6 is what web servers typically use; each file is served on its own.
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=6)) for path in FILES)


def test_widget_js_and_css_fit_in_25_kb_gzipped() -> None:
    size = gzipped_size()
    print(f"\nwidget size: {size} bytes gzipped ({size / 1024:.1f} KB of {BUDGET // 1024} KB)")
    assert size <= BUDGET, f"jdm-chat.js + jdm-chat.css are {size} bytes gzipped, over the {BUDGET} byte budget"
