"""The chat widget on the demo clinic page, in headless Chromium (Debian's package).

Conversation tests talk to the real bot through live_servers; tests about
rendering, errors and layout answer the webhook with page.route so they don't
depend on what the bot happens to say today.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from conftest import ARTIFACTS, ROOT, free_port
from live_servers import Servers

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WEBHOOK = "**/webhooks/rest/webhook"
BOT_TIMEOUT = 60_000  # ms; the first real answer may be slow on a busy machine
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def new_page(browser: Browser, width: int = 1280, height: int = 800) -> Page:
    """A fresh tab in a fresh context: empty sessionStorage, like a new visitor."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser)
    yield page
    page.context.close()


def page_url(live_servers: Dict[str, str], server: Optional[str] = None) -> str:
    return f"{live_servers['web']}/index.html?server={server or live_servers['rasa']}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Chat with us")


def panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Questions about JDM")


def log(page: Page) -> Locator:
    return page.get_by_role("log")


def text_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Your question")


def open_widget(page: Page, url: str) -> None:
    page.goto(url)
    launcher(page).click()
    expect(text_box(page)).to_be_focused()


def ask(page: Page, text: str) -> None:
    text_box(page).fill(text)
    text_box(page).press("Enter")


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def press_until_focused(page: Page, target: Locator, key: str = "Tab", limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if is_focused(target):
            return
    pytest.fail(f"pressing {key} {limit} times never reached {target}")


def wait_until_answered(page: Page) -> None:
    expect(page.locator(".jdmc-status")).to_be_empty(timeout=BOT_TIMEOUT)


def fake_bot(page: Page, replies: List[Dict[str, Any]] | Callable[[int], Any]) -> List[Dict[str, Any]]:
    """Answer the webhook with `replies` (or replies(call_number)); returns the request bodies."""
    requests: List[Dict[str, Any]] = []

    def handle(route: Route) -> None:
        requests.append(json.loads(route.request.post_data or "{}"))
        answer = replies(len(requests)) if callable(replies) else replies
        if answer == "refuse":
            route.abort("connectionrefused")
        elif isinstance(answer, int):
            route.fulfill(status=answer, body="Internal Server Error", headers={"Access-Control-Allow-Origin": "*"})
        else:
            route.fulfill(
                status=200,
                content_type="application/json",
                body=json.dumps(answer),
                headers={"Access-Control-Allow-Origin": "*"},
            )

    page.route(WEBHOOK, handle)
    return requests


def axe_violations(page: Page) -> List[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the repository root (.ci/run does this)")
    # Colours are only final once the panel's fade-in has ended: a check
    # mid-animation measures half-transparent text (a flaky false alarm).
    page.evaluate("""() => Promise.all(document.getAnimations()
        .filter(a => a.effect && a.effect.getTiming().iterations !== Infinity)
        .map(a => a.finished))""")
    # Evaluated by the test tool, not added as a <script>: the page's Content-Security-Policy
    # (scripts from its own server only) refuses inline scripts, as it should.
    page.evaluate(f"() => {{ {AXE.read_text()}\n }}")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}" for v in result["violations"]]


# ---------- the conversation, with the real bot ----------


def test_keyboard_only_question_gets_an_answer(page: Page, live_servers: Dict[str, str]) -> None:
    page.goto(page_url(live_servers))
    press_until_focused(page, launcher(page))
    assert launcher(page).get_attribute("aria-expanded") == "false"
    outline = launcher(page).evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", "the focused launcher has no visible focus outline"
    screenshot(page, "launcher-focused")
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    expect(text_box(page)).to_be_focused()

    page.keyboard.type("What can you help me with?")
    page.keyboard.press("Enter")
    expect(log(page)).to_contain_text("You: What can you help me with?")
    # The disclaimer comes first in a new conversation; the answer follows it.
    expect(log(page).locator(".jdmc-bot", has_text="rash").first).to_be_visible(timeout=BOT_TIMEOUT)
    expect(text_box(page)).to_be_focused()
    screenshot(page, "answer")

    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    assert launcher(page).get_attribute("aria-expanded") == "false"


def test_quick_reply_activated_with_enter_sends_its_payload(page: Page, live_servers: Dict[str, str]) -> None:
    # Contract: a question the sources don't cover -> utter_not_covered ->
    # utter_offer_support with the buttons "Yes" (/affirm) and "No thanks" (/deny).
    sent: List[str] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data)["message"])
        if r.method == "POST" and r.url.endswith("/webhooks/rest/webhook")
        else None,
    )
    open_widget(page, page_url(live_servers))
    ask(page, "Is JDM contagious?")
    yes = log(page).get_by_role("button", name="Yes")
    expect(yes).to_be_visible(timeout=BOT_TIMEOUT)
    expect(log(page).get_by_role("button", name="No thanks")).to_be_visible()
    wait_until_answered(page)
    bot_messages = log(page).locator(".jdmc-bot").count()
    screenshot(page, "quick-replies")

    press_until_focused(page, yes, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(log(page).locator(".jdmc-user").last).to_have_text("You: Yes")
    expect(log(page).get_by_role("button", name="Yes")).to_have_count(0)  # used replies go away
    expect(text_box(page)).to_be_focused()
    wait_until_answered(page)
    assert log(page).locator(".jdmc-bot").count() > bot_messages, "no answer to the quick reply"
    assert sent[-1] == "/affirm"


def test_reload_keeps_the_history_and_the_conversation(browser: Browser, live_servers: Dict[str, str]) -> None:
    page = new_page(browser)
    seen: List[Dict[str, Any]] = []
    page.on(
        "request",
        lambda r: seen.append(json.loads(r.post_data))
        if r.method == "POST" and r.url.endswith("/webhooks/rest/webhook")
        else None,
    )
    open_widget(page, page_url(live_servers))
    ask(page, "hello")
    expect(log(page).locator(".jdmc-bot").last).to_contain_text("welcome", timeout=BOT_TIMEOUT)
    sender = page.evaluate("() => JSON.parse(sessionStorage.getItem('jdm-chat:sender'))")
    assert UUID4.match(sender), f"sender id {sender!r} is not a random UUID"

    page.reload()
    expect(panel(page)).to_be_visible()  # it was open, so it is open again
    expect(log(page)).to_contain_text("You: hello")
    expect(log(page)).to_contain_text("welcome")
    ask(page, "am i talking to a real person?")
    expect(log(page).locator(".jdmc-bot").last).to_contain_text("automated assistant", timeout=BOT_TIMEOUT)
    assert {body["sender"] for body in seen} == {sender}, "the conversation did not continue after the reload"
    screenshot(page, "after-reload")

    other_tab = new_page(browser)
    other_tab.goto(page_url(live_servers))
    other_tab.get_by_role("button", name="Chat with us").click()
    assert other_tab.evaluate("() => JSON.parse(sessionStorage.getItem('jdm-chat:sender'))") != sender
    expect(other_tab.locator(".jdmc-user")).to_have_count(0)
    page.context.close()
    other_tab.context.close()


def test_organisation_card_has_a_working_phone_link(page: Page, live_servers: Dict[str, str]) -> None:
    open_widget(page, page_url(live_servers))
    ask(page, "What is the phone number of Cure JM?")
    card = log(page).locator(".jdmc-bot", has=page.locator("a[href^='tel:']")).first
    expect(card).to_contain_text("Cure JM", timeout=BOT_TIMEOUT)
    phone = card.locator("a[href^='tel:']").first
    assert re.fullmatch(r"tel:\+\d{7,15}", phone.get_attribute("href") or "")
    press_until_focused(page, phone, key="Shift+Tab")  # reachable by keyboard
    screenshot(page, "organisation-card")


# ---------- rendering, errors and layout, with a stand-in bot ----------

MALICIOUS = (
    '<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 1"> '
    "<b>not bold</b> [click](javascript:window.pwned=1) [data](data:text/html,hi)"
)
CARD = (
    "**Cure JM Foundation**\nSupport for families.\n"
    "[Call +1 760 487 1034](tel:+17604871034)\n[Website](https://www.curejm.org)\n[Email us](mailto:info@curejm.org)"
)


def test_server_text_is_shown_as_text_and_only_safe_markdown_is_rendered(
    page: Page, live_servers: Dict[str, str]
) -> None:
    fake_bot(
        page,
        [
            {"recipient_id": "x", "text": MALICIOUS},
            {
                "recipient_id": "x",
                "text": CARD,
                "buttons": [{"title": '<img src=x onerror="window.pwned = 1">', "payload": "/affirm"}],
            },
        ],
    )
    open_widget(page, page_url(live_servers))
    ask(page, '<b>hi</b> <img src=x onerror="window.pwned = 1">')
    expect(log(page).locator(".jdmc-bot")).to_have_count(3)  # greeting + 2 replies

    assert page.evaluate("() => window.pwned") is None
    assert log(page).locator("script, img, b").count() == 0
    expect(log(page).locator(".jdmc-user")).to_have_text('You: <b>hi</b> <img src=x onerror="window.pwned = 1">')
    bad = log(page).locator(".jdmc-bot").nth(1)
    expect(bad).to_contain_text("<script>window.pwned = 1</script>")
    expect(bad).to_contain_text("[click](javascript:window.pwned=1)")
    expect(bad).to_contain_text("[data](data:text/html,hi)")
    assert bad.locator("a").count() == 0
    expect(log(page).get_by_role("button", name='<img src=x onerror="window.pwned = 1">')).to_be_visible()

    card = log(page).locator(".jdmc-bot").nth(2)
    expect(card.locator("strong")).to_have_text("Cure JM Foundation")
    assert "\n" in card.inner_text(), "line breaks are lost"
    expect(card.get_by_role("link", name="Call +1 760 487 1034")).to_have_attribute("href", "tel:+17604871034")
    website = card.get_by_role("link", name="Website (opens in a new tab)")
    expect(website).to_have_attribute("href", "https://www.curejm.org/")
    expect(website).to_have_attribute("rel", "noopener noreferrer")
    expect(card.get_by_role("link", name="Email us")).to_have_attribute("href", "mailto:info@curejm.org")
    screenshot(page, "safe-rendering")


def test_quick_reply_works_with_space_and_shows_its_title(page: Page, live_servers: Dict[str, str]) -> None:
    requests = fake_bot(
        page,
        lambda n: [
            {
                "text": "Would you like contact details of support organisations?",
                "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No thanks", "payload": "/deny"}],
            }
        ]
        if n == 1
        else [{"text": "Here they are."}],
    )
    open_widget(page, page_url(live_servers))
    ask(page, "I feel alone")
    no = log(page).get_by_role("button", name="No thanks")
    expect(no).to_be_visible()
    press_until_focused(page, no, key="Shift+Tab")
    page.keyboard.press("Space")
    expect(log(page)).to_contain_text("Here they are.")
    expect(log(page).locator(".jdmc-user").last).to_have_text("You: No thanks")
    assert requests[-1]["message"] == "/deny"


def test_typing_indicator_shows_while_waiting(page: Page, live_servers: Dict[str, str]) -> None:
    held: List[Route] = []
    page.route(WEBHOOK, lambda route: held.append(route))  # answered below
    open_widget(page, page_url(live_servers))
    ask(page, "hello")
    status = page.get_by_role("status")
    expect(status).to_contain_text("typing")
    screenshot(page, "typing")
    held[0].fulfill(
        status=200,
        content_type="application/json",
        body='[{"text": "Hello there."}]',
        headers={"Access-Control-Allow-Origin": "*"},
    )
    expect(log(page)).to_contain_text("Hello there.")
    expect(status).to_be_empty()


def test_unreachable_server_shows_an_error_and_retry(page: Page, live_servers: Dict[str, str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    open_widget(page, page_url(live_servers, server=closed))
    ask(page, "hello")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't be reached", timeout=BOT_TIMEOUT)
    retry = alert.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    screenshot(page, "server-down")
    assert axe_violations(page) == []

    # The server comes back: Retry sends the same message again.
    requests = fake_bot(page, [{"text": "Hello, and welcome."}])
    retry.press("Enter")
    expect(log(page)).to_contain_text("Hello, and welcome.")
    expect(alert).to_be_empty()
    expect(log(page).locator(".jdmc-user")).to_have_count(1)  # not shown twice
    assert [r["message"] for r in requests] == ["hello"]


def test_an_answer_lost_on_the_way_is_shown_once_and_stored_once_after_retry(page: Page, live_servers: Servers) -> None:
    sent: List[Dict[str, Any]] = []

    def lose_the_first_answer(route: Route) -> None:
        sent.append(json.loads(route.request.post_data or "{}"))
        if len(sent) == 1:
            route.fetch()  # the assistant answers and stores the turn...
            route.abort("connectionreset")  # ...but the answer never reaches the browser
        else:
            route.continue_()

    page.route(WEBHOOK, lose_the_first_answer)
    open_widget(page, page_url(live_servers))
    ask(page, "what does the jdm rash look like?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't be reached", timeout=BOT_TIMEOUT)
    alert.get_by_role("button", name="Retry").press("Enter")
    expect(log(page).locator(".jdmc-bot", has_text="rash").first).to_be_visible(timeout=BOT_TIMEOUT)
    expect(alert).to_be_empty()

    assert len(sent) == 2 and sent[0] == sent[1], "Retry must send the same message with the same id"
    assert UUID4.match(sent[0]["message_id"])
    with sqlite3.connect(live_servers.workdir / "tracker.db") as db:
        said = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sent[0]["sender"],)
        ).fetchall()
    assert [json.loads(data)["text"] for (data,) in said] == ["what does the jdm rash look like?"]


def test_server_error_shows_an_error(page: Page, live_servers: Dict[str, str]) -> None:
    fake_bot(page, 500)
    open_widget(page, page_url(live_servers))
    ask(page, "hello")
    expect(page.get_by_role("alert")).to_contain_text("can't be reached")


CONVERSATION = [
    {"text": "**JDM** is rare.\n\nSee [the article](https://example.org/jdm) or call [the clinic](tel:+442071234567)."},
    {
        "text": "Would you like contact details of support organisations?",
        "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No thanks", "payload": "/deny"}],
    },
]


def test_open_widget_has_no_wcag_21_aa_violations(page: Page, live_servers: Dict[str, str]) -> None:
    fake_bot(page, CONVERSATION)
    page.goto(page_url(live_servers))
    expect(launcher(page)).to_be_visible()
    assert axe_violations(page) == [], "closed widget"
    launcher(page).click()
    ask(page, "how common is jdm?")
    expect(log(page).get_by_role("button", name="Yes")).to_be_visible()
    assert axe_violations(page) == [], "open widget with a conversation"


def test_any_brand_colour_keeps_text_readable(page: Page, live_servers: Dict[str, str]) -> None:
    """A clinic picking a light colour still gets >= 4.5:1 text (the widget picks black or white)."""

    def pale_brand(route: Route) -> None:
        html = route.fetch().text().replace('data-color="#0b5cad"', 'data-color="#ffd84d"')
        route.fulfill(status=200, content_type="text/html", body=html)

    page.route(re.compile(r"/index\.html"), pale_brand)
    fake_bot(page, CONVERSATION)
    open_widget(page, page_url(live_servers))
    ask(page, "how common is jdm?")
    expect(log(page).get_by_role("button", name="Yes")).to_be_visible()
    header = page.locator(".jdmc-header")
    expect(header).to_have_css("background-color", "rgb(255, 216, 77)")
    expect(header).to_have_css("color", "rgb(0, 0, 0)")
    assert axe_violations(page) == []
    screenshot(page, "pale-brand-colour")


def test_usable_at_320_px_wide(browser: Browser, live_servers: Dict[str, str]) -> None:
    page = new_page(browser, width=320, height=640)
    fake_bot(
        page,
        [
            {
                "text": "A long word: " + "dermatomyositis" * 6 + "\n[Website](https://www.curejm.org)",
                "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No thanks", "payload": "/deny"}],
            }
        ],
    )
    open_widget(page, page_url(live_servers))
    ask(page, "hello")
    expect(log(page).get_by_role("button", name="No thanks")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320, "the page scrolls sideways"
    for element in (
        panel(page),
        text_box(page),
        page.get_by_role("button", name="Send"),
        page.get_by_role("button", name="Close chat"),
        log(page).locator(".jdmc-bot").last,
    ):
        box = element.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, f"{element} is outside the screen"
        assert box["height"] > 0
    screenshot(page, "320px")
    page.context.close()


def test_reduced_motion_turns_off_animation(page: Page, live_servers: Dict[str, str]) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.route(WEBHOOK, lambda route: None)  # never answers: the typing dots stay
    open_widget(page, page_url(live_servers))
    ask(page, "hello")
    dot = page.locator(".jdmc-dots span").first
    expect(dot).to_be_attached()
    assert dot.evaluate("el => getComputedStyle(el).animationName") == "none"
    assert panel(page).evaluate("el => getComputedStyle(el).animationName") == "none"


def test_start_over_forgets_the_conversation(page: Page, live_servers: Dict[str, str]) -> None:
    """On a shared computer a parent can wipe what they asked without closing the tab."""
    requests = fake_bot(page, [{"text": "Hello there."}])
    open_widget(page, page_url(live_servers))
    ask(page, "my son has a rash")
    expect(log(page)).to_contain_text("Hello there.")
    page.get_by_role("button", name="Start over").click()
    expect(log(page).locator(".jdmc-msg")).to_have_count(1)  # just the greeting
    expect(text_box(page)).to_be_focused()
    page.reload()
    expect(panel(page)).to_be_visible()
    expect(log(page)).not_to_contain_text("my son has a rash")
    ask(page, "hello")
    expect(log(page)).to_contain_text("Hello there.")
    assert requests[0]["sender"] != requests[1]["sender"]


# ---------- deleting the conversation ----------

FORGET = "**/webhooks/rest/forget"


def stored(page: Page, name: str) -> Any:
    raw = page.evaluate("name => sessionStorage.getItem('jdm-chat:' + name)", name)
    return None if raw is None else json.loads(raw)


def delete_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Delete this conversation")


def test_delete_button_deletes_the_conversation_on_the_server_and_in_the_widget(page: Page, live_servers: Any) -> None:
    import sqlite3

    open_widget(page, page_url(live_servers))
    ask(page, "what is jdm?")
    expect(log(page)).to_contain_text("juvenile dermatomyositis", timeout=BOT_TIMEOUT)
    wait_until_answered(page)
    old_sender = stored(page, "sender")
    assert len(stored(page, "transcript")) >= 2

    delete_button(page).click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Delete this conversation?")
    expect(confirm.get_by_role("button", name="No, keep it")).to_be_focused()
    screenshot(page, "delete-confirm")
    confirm.get_by_role("button", name="Yes, delete it").click()

    expect(confirm).to_be_hidden()
    expect(page.locator(".jdmc-status")).to_contain_text("The conversation has been deleted.")
    expect(log(page).locator(".jdmc-msg")).to_have_count(1)  # just the greeting
    expect(text_box(page)).to_be_focused()
    assert stored(page, "transcript") is None
    new_sender = stored(page, "sender")
    assert UUID4.match(new_sender) and new_sender != old_sender
    with sqlite3.connect(live_servers.workdir / "tracker.db") as db:
        left = db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (old_sender,)).fetchone()[0]
    assert left == 0
    page.reload()
    expect(log(page)).not_to_contain_text("what is jdm?")


def test_no_keep_it_keeps_everything_and_returns_focus(page: Page, live_servers: Dict[str, str]) -> None:
    fake_bot(page, [{"text": "Hello there."}])
    forget_calls: List[str] = []
    page.route(FORGET, lambda route: (forget_calls.append("called"), route.abort())[1])
    open_widget(page, page_url(live_servers))
    ask(page, "my son has a rash")
    expect(log(page)).to_contain_text("Hello there.")
    sender = stored(page, "sender")
    delete_button(page).click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="No, keep it").press("Enter")
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    expect(delete_button(page)).to_be_focused()
    expect(log(page)).to_contain_text("my son has a rash")
    assert stored(page, "sender") == sender and len(stored(page, "transcript")) == 2
    assert forget_calls == []


def test_a_failed_delete_says_so_and_keeps_the_conversation(page: Page, live_servers: Dict[str, str]) -> None:
    fake_bot(page, [{"text": "Hello there."}])
    page.route(
        FORGET,
        lambda route: route.fulfill(
            status=500,
            content_type="application/json",
            body='{"error": "not_deleted", "message": "no"}',
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    open_widget(page, page_url(live_servers))
    ask(page, "my son has a rash")
    expect(log(page)).to_contain_text("Hello there.")
    delete_button(page).click()
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("could not be deleted")
    expect(log(page)).to_contain_text("my son has a rash")
    assert len(stored(page, "transcript")) == 2


def test_when_the_bot_deletes_the_conversation_the_widget_clears_its_copy(
    page: Page, live_servers: Dict[str, str]
) -> None:
    done = "Done. This conversation has been deleted."
    requests = fake_bot(
        page,
        lambda n: [{"text": "Sure."}] if n != 2 else [{"text": done}, {"custom": {"forget_conversation": True}}],
    )
    open_widget(page, page_url(live_servers))
    ask(page, "my son has a rash")
    expect(log(page)).to_contain_text("Sure.")
    ask(page, "yes")
    expect(log(page)).to_contain_text(done)
    expect(log(page)).not_to_contain_text("my son has a rash")
    assert stored(page, "transcript") is None
    ask(page, "hello")
    expect(log(page)).to_contain_text("Sure.")
    assert requests[0]["sender"] == requests[1]["sender"] != requests[2]["sender"]
    page.reload()
    expect(log(page)).not_to_contain_text("my son has a rash")
