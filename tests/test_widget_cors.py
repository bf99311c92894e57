"""The Rasa server lets only the configured web page origin use it from a browser.

conftest's live_servers starts Rasa with `--cors <web server origin>`, as
scripts/run.sh does with the demo page's origins.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Dict, Optional

import pytest

OTHER_ORIGIN = "http://evil.example"


def request(url: str, method: str, origin: str, body: Optional[bytes] = None) -> Dict[str, str]:
    headers = {"Origin": origin, "Content-Type": "application/json"}
    if method == "OPTIONS":
        headers.update({"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return {k.lower(): v for k, v in error.headers.items()}


@pytest.fixture
def webhook(live_servers) -> str:
    return f"{live_servers['rasa']}/webhooks/rest/webhook"


def message() -> bytes:
    return json.dumps({"sender": f"cors-{uuid.uuid4()}", "message": "hello"}).encode()


def test_preflight_from_the_chat_page_origin_is_allowed(live_servers, webhook: str) -> None:
    headers = request(webhook, "OPTIONS", live_servers["web"])
    assert headers.get("access-control-allow-origin") == live_servers["web"]


def test_message_from_the_chat_page_origin_is_readable(live_servers, webhook: str) -> None:
    headers = request(webhook, "POST", live_servers["web"], message())
    assert headers.get("access-control-allow-origin") == live_servers["web"]


@pytest.mark.parametrize("method", ["OPTIONS", "POST"])
def test_other_origins_are_not_allowed(webhook: str, method: str) -> None:
    headers = request(webhook, method, OTHER_ORIGIN, message() if method == "POST" else None)
    assert "access-control-allow-origin" not in headers
