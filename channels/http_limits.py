"""The Rasa server's HTTP connections: a cap on how many, and a deadline for each request to arrive.

Sanic 21.12 restarts its request timeout with every byte received, and nothing
bounds how many connections a process holds: a client sending one byte every
50 s keeps a socket for ever, and a few hundred such clients take every one.
This protocol (Sanic's, with two checks) gives each request `request_seconds`
from its first byte to its last, head and body together; a request still
arriving then is answered 408 and its connection closed. Answering takes as
long as the assistant needs (Rasa's response timeout): only the client's
sending is timed. A connection that would be one more than `max_connections`
of this process is answered 503 with Retry-After and closed, without reaching
any route.

Rasa starts Sanic itself, with no way to pass a protocol, so `install` makes
this one Sanic's default; the guarded channel calls it when Rasa creates the
channel, before the server starts (channels/guarded_rest.py).
"""

from __future__ import annotations

import logging
from time import monotonic as current_time  # Sanic's clock for its own timeouts
from typing import Any, ClassVar, Optional

import sanic.app
from sanic import response
from sanic.exceptions import RequestTimeout
from sanic.http import Http, Stage
from sanic.request import Request
from sanic.server.protocols.http_protocol import HttpProtocol

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
# Time for the 408 to go out before a request cut off mid-body is closed (Sanic would read the rest first).
CLOSE_AFTER_SECONDS = 1.0


def still_arriving(http: Http) -> bool:
    """Whether the request's head, or a body nobody has finished reading, is still coming in."""
    return http.stage is Stage.REQUEST or bool(http.request_body)


class LimitedHttpProtocol(HttpProtocol):
    """Sanic's HTTP/1.1 protocol with a connection cap and a whole-request deadline."""

    __slots__ = ("_request_began",)  # Sanic's protocols have slots only
    max_connections: ClassVar[int] = 100
    request_seconds: ClassVar[int] = 10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Sanic checks its timeouts every half of the shortest one: often enough for the deadline too.
        self.request_timeout = min(self.request_timeout, self.request_seconds)
        self._request_began: Optional[float] = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            logger.info("Refused a connection: %d open already (JDM_MAX_CONNECTIONS).", self.max_connections)
            self.request_handler = self._busy

    def data_received(self, data: bytes) -> None:
        # The first byte after an answered request (or of the connection) starts the next request's clock.
        # A request pipelined behind another keeps the earlier one's: stricter, never looser.
        http: Optional[Http] = getattr(self, "_http", None)  # set once Sanic's connection task runs
        if http is None or (http.stage is Stage.IDLE and not http.request_body):
            self._request_began = current_time()
        super().data_received(data)

    def check_timeouts(self) -> None:
        http, began = self._http, self._request_began
        late = began is not None and current_time() - began > self.request_seconds
        if self._task and http is not None and late and still_arriving(http):
            logger.info("Closed a connection whose request took over %d s to arrive.", self.request_seconds)
            http.exception = RequestTimeout(f"The request did not arrive within {self.request_seconds} s.")
            self._task.cancel()  # Sanic answers 408...
            self.loop.call_later(CLOSE_AFTER_SECONDS, self.close, CLOSE_AFTER_SECONDS)  # ...then would read the body
            return
        super().check_timeouts()  # Sanic's own timeouts; it schedules the next check

    async def _busy(self, request: Request) -> None:
        """The answer to every request of a connection over the cap: 503, then the connection closes."""
        http = request.stream
        if not isinstance(http, Http):
            return
        http.keep_alive = False
        busy = response.json(
            {"error": "busy", "message": "The assistant is very busy. Please try again in a minute."},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        await http.respond(busy).send(end_stream=True)


def install(max_connections: int, request_seconds: int) -> None:
    """Make Sanic serve every connection of this process with these limits."""
    LimitedHttpProtocol.max_connections = max_connections
    LimitedHttpProtocol.request_seconds = request_seconds
    sanic.app.HttpProtocol = LimitedHttpProtocol  # type: ignore[misc]  # read by Sanic.run when no protocol is given
