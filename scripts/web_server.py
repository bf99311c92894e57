"""The chat page of the default profile: web/ as `python -m http.server` serves it, plus security headers.

The page and the widget run under a Content-Security-Policy: scripts, styles
and images from this server only, requests to this server and the Rasa
server(s) named, no frames, plugins or forms. A script injected into the page
could then neither load code from elsewhere nor send a parent's words to
another site. deploy/nginx.conf.template sends the same headers
(production.nginx_config reads them from here).
"""

from __future__ import annotations

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Sequence

WEB = Path(__file__).resolve().parent.parent / "web"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def content_security_policy(rasa_origins: Sequence[str]) -> str:
    """The page's policy; `rasa_origins` are where the widget may send messages besides this server."""
    connect = " ".join(["'self'", *rasa_origins])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page_headers(rasa_origins: Sequence[str]) -> Dict[str, str]:
    """Every header the chat page is served with."""
    return {"Content-Security-Policy": content_security_policy(rasa_origins), **SECURITY_HEADERS}


class PageHandler(SimpleHTTPRequestHandler):
    """http.server's file handler, adding `headers_to_send` to every answer."""

    headers_to_send: Dict[str, str] = {}

    def end_headers(self) -> None:
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        super().end_headers()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--rasa", nargs="*", default=[], help="origins of the Rasa server(s) the widget talks to")
    args = parser.parse_args()
    handler = type("Handler", (PageHandler,), {"headers_to_send": page_headers(args.rasa)})
    server = ThreadingHTTPServer((args.bind, args.port), functools.partial(handler, directory=str(WEB)))
    print(f"Serving {WEB} on http://{args.bind}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
