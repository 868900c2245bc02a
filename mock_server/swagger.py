"""The contracts as the Swagger UI pages read them: ``/openapi.json`` (and ``.yaml``),
and the same under ``/__admin``.

Connexion would serve each with its ``servers`` replaced by the API's base path, which
the UI shows as a blank entry. Here each names this mock, by a path relative to the
page, so that "Try it out" calls the mock that served the page, on whatever host and
port it listens (never a URL built from the client's ``Host`` header).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connexion.jsonifier import Jsonifier
from connexion.spec import Specification
from connexion.utils import yamldumper
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class Served:
    """One contract, described in the UI's Servers list as ``description``."""

    path: Path
    description: str


class ContractDocuments:
    """Answers GET ``{base}/openapi.json`` and ``{base}/openapi.yaml``; passes the rest on."""

    def __init__(self, app: ASGIApp, served: list[Served]) -> None:
        self.app = app
        self._documents: dict[str, tuple[bytes, bytes]] = {}
        for item in served:
            base_path, document = _for_the_ui(item)
            body_json = Jsonifier().dumps(document).encode()
            body_yaml = yamldumper(document).encode()
            self._documents[f"{base_path}/openapi.json"] = (b"application/json", body_json)
            self._documents[f"{base_path}/openapi.yaml"] = (b"text/yaml", body_yaml)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._documents.get(scope["path"]) if scope["type"] == "http" else None
        if found is None or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        content_type, body = found
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _for_the_ui(served: Served) -> tuple[str, dict[str, Any]]:
    """The base path Connexion serves the contract at (from its first server), and the
    contract with its references resolved (the UI cannot fetch ``capillary.yaml`` beside
    ``admin.yaml``) and one server: this mock."""
    specification = Specification.load(str(served.path))
    base_path: str = specification.base_path
    document: dict[str, Any] = dict(specification.spec)
    document["servers"] = [{"url": base_path or "/", "description": served.description}]
    return base_path, document
