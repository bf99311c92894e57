"""`make review`: results/content-review.html lists every text a parent can be sent, for sign-off.

The page must open offline (nothing fetched, no scripts), print well, list
every domain response beside its facts and source passages, keep the
safety replies and triage rules apart as guidance not from the sources, and
show each text's and rule's sign-off state (signed, never signed, changed
since sign-off), which `--sign` records. The
browser test opens the written file in headless Chromium (Debian's package,
as tests/test_widget_browser.py does).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from content_review import SAFETY_NOTE, main, parent_texts, render, signable_items, triage_rows
from test_sources import source_documents

from jdm_content.knowledge import load_facts, located_passage
from jdm_content.signoff import digest, load_signoffs

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


def test_each_row_shows_its_sign_off_state(review: Path) -> None:
    page = review.read_text(encoding="utf-8")
    rows = re.findall(r"<tr data-(?:where|rule)=[^>]+>.*?</tr>", page, re.S)
    assert len(rows) == len(signable_items())
    assert all(re.search(r'data-signoff="(signed|never|changed)">[^<]+</td></tr>$', row) for row in rows)


def test_safety_replies_and_triage_rules_are_apart_and_marked(review: Path) -> None:
    page = review.read_text(encoding="utf-8")
    safety = page[page.index("<section class='safety'") :]
    assert SAFETY_NOTE.replace("'", "&#x27;") in safety
    for name in ("utter_emergency", "utter_crisis", "utter_triage_urgent", "utter_tell_care_team_soon"):
        assert f'data-where="domain.yml: {name}"' in safety
    for tier in ("emergency", "crisis", "urgent", "soon"):
        assert f"data-tier='{tier}'" in safety
    for row in triage_rows():
        assert f"data-rule='{row.id}'" in safety
        rule = safety[safety.index(f"data-rule='{row.id}'") :].split("</tr>")[0]
        assert html.escape(row.reason)[:40] in rule
        assert all(html.escape(example) in rule for example in row.fires + row.quiet)


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ the sign-off may write to."""
    import shutil

    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.setenv("JDM_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def states(page: str) -> dict:
    return dict(re.findall(r'<tr data-(?:where|rule)="?\'?([^"\'>]+)["\']?>.*?data-signoff="(\w+)"', page, re.S))


def test_signing_records_each_text_with_its_hash_and_a_change_unsigns_it(data_copy: Path) -> None:
    assert main(["--sign", "--reviewer", "Dr A. Reviewer", "--out", str(data_copy / "x.html")]) == 0
    signed = load_signoffs()
    items = dict(signable_items())
    assert set(signed) == set(items)
    record = signed["domain.yml: utter_emergency"]
    assert record.reviewer == "Dr A. Reviewer" and record.sha256 == digest(items["domain.yml: utter_emergency"])
    assert set(states(render()).values()) == {"signed"}

    # An editor changes one rule's reason: that rule, and only it, needs signing again.
    triage_file = data_copy / "safety" / "triage.yml"
    triage_file.write_text(
        triage_file.read_text(encoding="utf-8").replace("A child choking now cannot wait", "Choking cannot wait"),
        encoding="utf-8",
    )
    page_states = states(render())
    assert page_states["triage.yml: rules: choking"] == "changed"
    assert [k for k, v in page_states.items() if v != "signed"] == ["triage.yml: rules: choking"]
    assert "changed since sign-off (signed by Dr A. Reviewer" in render()


def test_signing_needs_a_reviewer(data_copy: Path) -> None:
    assert main(["--sign", "--reviewer", " "]) == 1
    assert load_signoffs() == {}


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
