"""Nothing is deducted without an answer: a body that did not arrive in full never
reaches the rules, and a client that half-closes gets an answer for every request that
did arrive in full.

Every test runs on real uvicorn servers over raw sockets, with both of uvicorn's
HTTP/1.1 protocols (h11, httptools), on every store and both lanes, and counts the 200
answers against the customer's ledger and balance.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rawsocket import (
    Account,
    account,
    chunked_deduction,
    connect,
    deduction,
    statuses_until_closed,
)
from support import backend_url, start_server, stop_server

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.errors import ApiError, Code
from mock_server.fixtures import load_fixtures
from mock_server.lanes.body import read_body
from mock_server.stores.open import open_store

SERVERS = [
    (http, backend, lane)
    for http in ("h11", "httptools")
    for backend in ("memory", "sqlite", "redis")
    for lane in ("fast-lane", "connexion-only")
]
SETTLE_SECONDS = 0.3
"""Long enough for the server to read what was sent and run the app on it."""


@pytest.fixture(scope="module", params=SERVERS, ids=["-".join(p) for p in SERVERS])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    http, backend, lane = request.param
    url = backend_url(backend, request, tmp_path_factory.mktemp(backend))
    store = open_store(url, load_fixtures(DEFAULT_FIXTURES))
    app = create_app(store=store, fast_lane=lane == "fast-lane")
    uvicorn_server, thread, base = start_server(app, http=http)
    yield base
    stop_server(uvicorn_server, thread)


@pytest.fixture
def mock(server: str) -> str:
    httpx.post(f"{server}/__admin/reset", timeout=10).raise_for_status()
    return server


def deducted(before: Account, after: Account) -> tuple[Decimal, int]:
    """Points taken, and ledger entries added, between two looks at the customer."""
    return Decimal(before.balance) - Decimal(after.balance), after.entries - before.entries


def still_serves(url: str) -> None:
    with connect(url) as sock:
        sock.sendall(deduction())
        sock.shutdown(socket.SHUT_WR)
        assert statuses_until_closed(sock) == [200]


@pytest.mark.parametrize("cut", [1, 16], ids=["one-byte-short", "valid-json-arrived"])
@pytest.mark.parametrize("settle", [0, SETTLE_SECONDS], ids=["at-once", "after-a-pause"])
def test_a_body_cut_short_then_closed_is_never_applied(mock: str, cut: int, settle: float) -> None:
    before = account(mock)
    sock = connect(mock)
    sock.sendall(deduction(cut=cut))
    time.sleep(settle)
    sock.close()
    time.sleep(SETTLE_SECONDS)
    assert deducted(before, account(mock)) == (0, 0)
    still_serves(mock)
    assert deducted(before, account(mock)) == (1, 1)


@pytest.mark.parametrize("cut", [1, 16], ids=["one-byte-short", "valid-json-arrived"])
def test_a_body_cut_short_then_half_closed_is_never_applied(mock: str, cut: int) -> None:
    before = account(mock)
    with connect(mock) as sock:
        sock.sendall(deduction(cut=cut))
        time.sleep(SETTLE_SECONDS)
        sock.shutdown(socket.SHUT_WR)
        answers = statuses_until_closed(sock)
    assert 200 not in answers
    assert deducted(before, account(mock)) == (0, 0)


@pytest.mark.parametrize("pipelined", [1, 2, 5])
def test_requests_sent_before_a_half_close_are_all_answered(mock: str, pipelined: int) -> None:
    before = account(mock)
    with connect(mock) as sock:
        sock.sendall(deduction() * pipelined)
        sock.shutdown(socket.SHUT_WR)
        answers = statuses_until_closed(sock)
    assert answers == [200] * pipelined
    assert deducted(before, account(mock)) == (pipelined, pipelined)


def test_after_a_half_close_only_the_requests_that_arrived_in_full_are_applied(
    mock: str,
) -> None:
    before = account(mock)
    with connect(mock) as sock:
        sock.sendall(deduction() * 2 + deduction(cut=16))
        sock.shutdown(socket.SHUT_WR)
        answers = statuses_until_closed(sock)
    assert answers == [200, 200]
    assert deducted(before, account(mock)) == (2, 2)


def test_a_chunked_body_is_applied_only_when_its_last_chunk_came(mock: str) -> None:
    before = account(mock)
    with connect(mock) as sock:
        sock.sendall(chunked_deduction(complete=False))
        time.sleep(SETTLE_SECONDS)
        sock.shutdown(socket.SHUT_WR)
        assert statuses_until_closed(sock) == []
    with connect(mock) as sock:
        sock.sendall(chunked_deduction())
        sock.shutdown(socket.SHUT_WR)
        assert statuses_until_closed(sock) == [200]
    assert deducted(before, account(mock)) == (1, 1)


def test_a_request_that_arrived_in_full_is_applied_when_the_client_closes(mock: str) -> None:
    """The documented limit: TCP cannot tell a client that stops sending from one that
    stops reading too, so a complete request is applied; its answer is lost."""
    before = account(mock)
    sock = connect(mock)
    sock.sendall(deduction())
    sock.close()
    time.sleep(SETTLE_SECONDS)
    assert deducted(before, account(mock)) == (1, 1)


# --- the reader itself, for what uvicorn never delivers -------------------------------


def messages(*parts: dict[str, Any]) -> Any:
    pending = list(parts)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    return receive


def scope(content_length: int | None) -> dict[str, Any]:
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    return {"type": "http", "headers": headers}


def read(receive: Any, content_length: int | None) -> bytes:
    import asyncio

    return asyncio.run(read_body(receive, scope(content_length)))


def test_fewer_bytes_than_content_length_says_are_refused() -> None:
    receive = messages({"type": "http.request", "body": b'{"a": 1}', "more_body": False})
    with pytest.raises(ApiError) as refused:
        read(receive, 20)
    assert refused.value.code == Code.BODY_INCOMPLETE
    assert refused.value.message.endswith("8 bytes arrived where Content-Length says 20")


def test_a_disconnect_before_the_last_part_is_refused() -> None:
    receive = messages(
        {"type": "http.request", "body": b'{"a": 1}', "more_body": True},
        {"type": "http.disconnect"},
    )
    with pytest.raises(ApiError) as refused:
        read(receive, 8)
    assert refused.value.code == Code.BODY_INCOMPLETE
    assert "went away after 8 bytes" in refused.value.message


def test_a_body_in_parts_is_read_whole() -> None:
    receive = messages(
        {"type": "http.request", "body": b'{"a":', "more_body": True},
        {"type": "http.request", "body": b" 1}", "more_body": False},
    )
    assert read(receive, 8) == b'{"a": 1}'
    chunked = messages({"type": "http.request", "body": b"{}", "more_body": False})
    assert read(chunked, None) == b"{}"


def test_the_fixtures_put_with_a_body_cut_short_change_nothing(tmp_path: Path) -> None:
    store = open_store("memory", load_fixtures(DEFAULT_FIXTURES))
    uvicorn_server, thread, url = start_server(create_app(store=store))
    try:
        text = DEFAULT_FIXTURES.read_text(encoding="utf-8").replace("REGULAR: 680", "REGULAR: 1")
        body = text.encode()
        head = (
            "PUT /__admin/fixtures HTTP/1.1\r\nHost: capmock\r\n"
            f"Content-Type: application/yaml\r\nContent-Length: {len(body) + 10}\r\n\r\n"
        ).encode()
        with connect(url) as sock:
            sock.sendall(head + body)
            time.sleep(SETTLE_SECONDS)
            sock.shutdown(socket.SHUT_WR)
            assert 200 not in statuses_until_closed(sock)
        assert account(url).balance == "680.000"
    finally:
        stop_server(uvicorn_server, thread)
