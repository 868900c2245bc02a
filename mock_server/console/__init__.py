"""The console: one page, ``GET /__admin/console/``, that watches the mock live.

The page is static (HTML, CSS and JavaScript shipped as package data, no build step)
and reads everything it shows from the documented admin API, as any script could; it
holds no data, so serving it needs no admin token (the page sends the one it is given
with every admin call). Its files are read once, when the app is built; a request to
the Capillary API never reaches this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from starlette.responses import Response

from mock_server.errors import ApiError, Code

PATH = "/__admin/console/"
MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}
"""Every file the page is made of, and how it is served."""
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
"""The page may load and call nothing but this mock: no CDN, no font, no other host."""


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str

    def response(self) -> Response:
        headers = {
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        }
        return Response(self.body, 200, headers, self.media_type)


class Console:
    """The console's files, read from the package once."""

    def __init__(self) -> None:
        static = files(__name__) / "static"
        self._assets = {
            name: Asset(static.joinpath(name).read_bytes(), media_type)
            for name, media_type in MEDIA_TYPES.items()
        }

    def page(self) -> Response:
        return self._assets["index.html"].response()

    def asset(self, name: str) -> Response:
        found = self._assets.get(name)
        if found is None:
            raise ApiError.of(Code.NOT_FOUND, method="GET", path=f"{PATH}{name}")
        return found.response()
