"""The chat page's security headers and Content-Security-Policy, and the widget working under them (issue 23).

In headless Chromium with the real bot (live_servers): the page arrives with
the headers, a conversation works, and the browser reports no policy
violation; a request to another site is refused, which shows the policy is
enforced and that violations would be seen.
"""

from __future__ import annotations

from typing import Dict, Iterator, List

import pytest
from playwright.sync_api import Browser, Page, expect

from test_widget_browser import BOT_TIMEOUT, ask, log, new_page, open_widget, page_url

# Every violation the page reports, kept on the page from before the first script runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser)
    page.add_init_script(RECORD_VIOLATIONS)
    yield page
    page.context.close()


def test_the_widget_works_under_the_pages_content_security_policy(page: Page, live_servers: Dict[str, str]) -> None:
    console: List[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    response = page.goto(page_url(live_servers))
    assert response is not None
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"

    open_widget(page, page_url(live_servers))
    ask(page, "hello")
    expect(log(page).locator(".jdmc-bot").last).to_contain_text("welcome", timeout=BOT_TIMEOUT)
    # The page's and the widget's own styles apply (a blocked stylesheet would leave them plain).
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(11, 63, 115)")
    expect(page.locator(".jdmc-launcher")).to_have_css("position", "fixed")

    assert page.evaluate("window.__violations") == []
    assert not [line for line in console if "Content Security Policy" in line], console

    # Enforced: the page cannot send anything to another site.
    refused = page.evaluate("fetch('https://example.org/collect').then(() => 'sent', () => 'refused')")
    assert refused == "refused"
    assert page.evaluate("window.__violations") == ["connect-src https://example.org/collect"]
