"""Test helpers: a real mock on a real socket, served by uvicorn in a thread."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass

import httpx
import uvicorn

from mock_server.auth import md5hex

DEDUCT = "/v2/customers/{user_id}/negativePointsAdjustment"
SEED_USER = 388034468


class Clock:
    """A clock the tests move by hand, so token expiry needs no sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class LiveMock:
    url: str
    clock: Clock
    client: httpx.Client

    def reset(self) -> None:
        self.client.post("/__admin/reset").raise_for_status()

    def put_fixtures(self, text: str) -> None:
        """Replace the mock's world with a fixture document (YAML or JSON text)."""
        response = self.client.put(
            "/__admin/fixtures",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert response.status_code == 200, response.text

    @staticmethod
    def auth_headers(username: str = "store.server", password: str = "server123") -> dict:
        return {"Authorization": basic_header(username, password)}

    def deduct(
        self,
        body: object,
        user_id: object = SEED_USER,
        source: str | None = "INSTORE",
        auth: tuple[str, str] | None = ("store.server", "server123"),
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a deduction; ``auth`` is the clear password, sent as Capillary clients do."""
        params = {"source": source} if source is not None else {}
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = basic_header(*auth)
        return self.client.post(
            DEDUCT.format(user_id=user_id), params=params, json=body, headers=sent_headers
        )


def basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{md5hex(password)}".encode()).decode()
    return f"Basic {token}"


def start_server(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        thread.join(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"
