"""Headers that every lane must read, and every answer write, the same way.

- The request's Content-Type gets one spelling before anything reads it: media types
  are case-insensitive and may have blanks around ``;`` (``APPLICATION/JSON ;
  charset=UTF-8`` is ``application/json; charset=utf-8``), which Connexion and the fast
  lane would otherwise take for another type.
- A redirect's Location is relative: Starlette's trailing-slash redirect builds an
  absolute URL from the client's Host header, which would let anyone send a link to
  the mock that redirects elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = b"content-type"


def media_type(value: bytes) -> bytes:
    """A Content-Type in one spelling: type, parameter names and charset in lower case,
    parameters joined by ``"; "``."""
    kind, *parameters = value.split(b";")
    parts = [kind.strip().lower()]
    for parameter in parameters:
        name, sep, content = parameter.partition(b"=")
        name, content = name.strip().lower(), content.strip()
        if name == b"charset":
            content = content.lower()
        if name:
            parts.append(name + sep + content)
    return b"; ".join(parts)


class MediaTypes:
    """Gives the request's Content-Type its one spelling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if any(name == CONTENT_TYPE for name, _ in headers):
                scope = dict(scope)
                scope["headers"] = [
                    (name, media_type(value) if name == CONTENT_TYPE else value)
                    for name, value in headers
                ]
        await self.app(scope, receive, send)


class RelativeRedirects:
    """Writes a redirect's Location as a path on this server, whatever the Host said."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message = dict(message)
                message["headers"] = [
                    (name, local(value) if name == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, relative)


def local(location: bytes) -> bytes:
    """The path and query of a URL, starting with exactly one slash (``//host`` would be
    another server)."""
    parts = urlsplit(location.decode("latin-1"))
    path = "/" + parts.path.lstrip("/")
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")
