"""The report's page in headless Chromium: it opens offline, with no console error and no axe violation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from playwright.sync_api import Browser, Page, Route

from clinic_report.build import build_report
from clinic_report.demo import demo_rows, write_rows
from clinic_report.page import render
from clinic_report.store import EventStore
from conftest import ARTIFACTS
from test_widget_browser import axe_violations, new_page


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """The report of 300 generated conversations (the demo's), as `make report DEMO=1` makes it."""
    from rasa.core.tracker_store import SQLTrackerStore

    db = tmp_path_factory.mktemp("report") / "tracker.db"
    now = time.time()
    store = SQLTrackerStore(dialect="sqlite", db=str(db))
    write_rows(store.engine, demo_rows(300, 30, now))
    store.engine.dispose()
    reader = EventStore.open({"dialect": "sqlite", "db": str(db)})
    try:
        return build_report(reader, 30, now=now)
    finally:
        reader.close()


@pytest.fixture
def opened(browser: Browser, summary: Dict[str, Any], tmp_path: Path) -> Iterator[Dict[str, Any]]:
    """The page opened from a file with the network cut off; what it tried to fetch and what it logged."""
    path = tmp_path / "report.html"
    path.write_text(render(summary, demo=True), encoding="utf-8")
    page = new_page(browser)
    problems: Dict[str, List[str]] = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems["errors"].append(str(error)))

    def offline(route: Route) -> None:
        if not route.request.url.startswith(("file:", "data:")):
            problems["requests"].append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", offline)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    yield {"page": page, **problems}
    page.context.close()


def test_the_report_opens_offline_without_console_errors(opened: Dict[str, Any]) -> None:
    page: Page = opened["page"]
    assert opened["console"] == [] and opened["errors"] == []
    assert opened["requests"] == []  # self-contained: nothing fetched
    assert page.locator("h1").inner_text() == "What families asked"
    charts = page.locator("img.chart")
    assert charts.count() == 4
    for index in range(charts.count()):  # every chart is drawn, and says in words what it shows
        chart = charts.nth(index)
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
        assert len(chart.get_attribute("alt") or "") > 20
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


def test_the_report_has_no_wcag_21_aa_violations(opened: Dict[str, Any]) -> None:
    assert axe_violations(opened["page"]) == []


def test_the_report_reads_at_320_px(browser: Browser, summary: Dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render(summary), encoding="utf-8")
    page = new_page(browser, width=320, height=640)
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 320 + 1
    assert axe_violations(page) == []
    page.context.close()


def test_the_page_shows_the_json_figures(opened: Dict[str, Any], summary: Dict[str, Any]) -> None:
    text = opened["page"].locator("main").inner_text()
    assert f"{summary['totals']['conversations']}\nconversations" in text
    assert f"{summary['handoffs']['total']}\nhand-offs" in text
    shown = summary["unanswered"]["groups"]
    assert shown and all(group["wordings"][0]["text"] in text for group in shown)


def test_a_quiet_period_still_gives_a_readable_page(browser: Browser, tmp_path: Path) -> None:
    """No conversation in the period: zeros and "none", not a broken page."""
    from rasa.core.tracker_store import SQLTrackerStore

    db = tmp_path / "tracker.db"
    SQLTrackerStore(dialect="sqlite", db=str(db)).engine.dispose()
    reader = EventStore.open({"dialect": "sqlite", "db": str(db)})
    try:
        summary = build_report(reader, 7)
    finally:
        reader.close()
    assert summary["totals"] == {"conversations": 0, "messages": 0} and summary["answers"]["answer_rate"] is None
    path = tmp_path / "report.html"
    path.write_text(render(summary), encoding="utf-8")
    page = new_page(browser)
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    assert errors == [] and "no questions" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    page.context.close()
