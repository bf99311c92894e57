"""`make review`: results/content-review.html lists every text a parent can be sent, for sign-off.

The page must open offline (nothing fetched, no scripts), print well, list
every domain response beside its facts and source passages, and keep the
safety replies and red flags apart as guidance not from the sources. The
browser test opens the written file in headless Chromium (Debian's package,
as tests/test_widget_browser.py does).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from content_review import SAFETY_NOTE, main, parent_texts, red_flag_rows, render

from jdm_content.knowledge import load_facts, located_passage
from tests.test_sources import source_documents

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def responses() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page as `make review` writes it (to a temporary folder)."""
    out = tmp_path_factory.mktemp("review") / "content-review.html"
    assert main(["--out", str(out)]) == 0
    return out


def test_the_page_is_self_contained(review: Path) -> None:
    page = review.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page), "the page must not fetch anything"
    assert "@media print" in page


def test_every_response_and_every_catalogued_text_has_a_row(review: Path, responses: dict) -> None:
    page = review.read_text(encoding="utf-8")
    rows = set(re.findall(r'<tr data-where="([^"]+)"', page))
    assert {f"domain.yml: {name}" for name in responses} <= rows
    assert {item.where.replace("&", "&amp;") for item in parent_texts()} == rows


def test_each_row_has_an_empty_sign_off_cell(review: Path) -> None:
    page = review.read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-where="[^"]+">.*?</tr>', page, re.S)
    assert rows and all(row.endswith("<td></td></tr>") for row in rows)


def test_safety_replies_and_red_flags_are_apart_and_marked(review: Path) -> None:
    page = review.read_text(encoding="utf-8")
    safety = page[page.index("<section class='safety'") :]
    assert SAFETY_NOTE.replace("'", "&#x27;") in safety
    for name in ("utter_emergency", "utter_disclaimer", "utter_tell_care_team_soon", "utter_child_medicine"):
        assert f'data-where="domain.yml: {name}"' in safety
    assert all(f"data-red-flag='{row.id}'" in safety for row in red_flag_rows())


def test_the_source_passages_are_shown_beside_the_facts() -> None:
    folder = source_documents()
    page = render(folder)
    fact = load_facts()["half_recover"]
    assert "half_recover" in page and located_passage(fact, folder) in page


def test_without_the_documents_the_page_says_so(tmp_path: Path) -> None:
    page = render(tmp_path)
    assert "The source documents were not found" in page
    assert "source documents not at hand" in page


# --- in a real browser ---------------------------------------------------------------


@pytest.fixture
def browser_page(browser, review: Path) -> Iterator[object]:
    context = browser.new_context(offline=True)
    page = context.new_page()
    page.goto(review.as_uri())
    yield page
    context.close()


def test_the_browser_shows_a_row_for_every_response_in_the_domain(browser_page, responses: dict) -> None:
    page = browser_page
    assert page.title() == "JDM assistant: content review"
    shown = set(page.locator("tr[data-where] td:first-child").all_inner_texts())
    missing = [name for name in responses if f"domain.yml: {name}" not in shown]
    assert not missing, f"responses missing from the review: {missing}"
    assert page.get_by_role("heading", name="Safety replies").is_visible()
    assert page.locator("th", has_text="Clinician sign-off").count() >= 6


def test_the_page_prints(browser_page, tmp_path: Path) -> None:
    pdf = tmp_path / "review.pdf"
    browser_page.pdf(path=str(pdf), format="A4", landscape=True)
    assert pdf.stat().st_size > 10_000
