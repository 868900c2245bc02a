"""Requests too big, too slow, too many: each refused in the envelope (or its connection
closed), and nobody else waits for it."""

from __future__ import annotations

import json
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, suppress
from urllib.parse import urlsplit

import httpx
import pytest
from support import ServedMock
from witness import AUTH, DEDUCT, ONE_POINT, Ledger, envelope

TOKEN_PATH = "/v3/oauth/token/generate"


def connect(url: str, timeout: float = 30) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def read_answer(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the one answer on ``sock`` (read until it closes)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def head(path: str, *lines: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: mock\r\n" + "".join(f"{x}\r\n" for x in lines)).encode()


# --- heads ---------------------------------------------------------------------------


def test_a_64_mib_header_does_not_stall_anyone(serve: Callable[..., ServedMock]) -> None:
    served = serve()
    ledger = Ledger(served.url)
    pushed = threading.Event()
    outcome: list[BaseException | None] = []

    def push() -> None:
        with closing(connect(served.url)) as sock:
            sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: mock\r\nX-Big: ")
            try:
                for _ in range(64):
                    sock.sendall(b"x" * 2**20)
                    pushed.set()
                outcome.append(None)
            except OSError as error:  # the mock closed the connection: what it should do
                outcome.append(error)
            pushed.set()

    pusher = threading.Thread(target=push)
    pusher.start()
    pushed.wait(30)
    for _ in range(5):
        assert ledger.deduct().status_code == 200
    pusher.join(60)
    assert isinstance(outcome[0], OSError), "the mock read a 64 MiB header to its end"
    ledger.check()


def test_a_head_over_the_limit_is_431_in_the_envelope(serve: Callable[..., ServedMock]) -> None:
    served = serve("--max-header-size", "8KiB")
    ledger = Ledger(served.url)
    with closing(connect(served.url)) as sock:
        sock.sendall(head(DEDUCT, "X-Big: " + "x" * 10_000) + b"\r\n")
        status, body = read_answer(sock)
    assert status == 431
    assert body["errors"][0]["code"] == 9131
    assert body["errors"][0]["message"] == (
        "Request line and headers too large: at most 8192 bytes"
    )
    ledger.check()


def test_a_head_within_the_limit_with_a_body_in_the_same_packet_is_served(
    serve: Callable[..., ServedMock],
) -> None:
    served = serve("--max-header-size", "1KiB")
    ledger = Ledger(served.url)
    body = b'{"pointsToBeAdjusted": "1", "reasonOfReturn": "' + b"r" * 40 + b'"}'
    request = head(
        DEDUCT,
        f"Authorization: {AUTH['Authorization']}",
        "Content-Type: application/json",
        f"Content-Length: {len(body) + 3000}",
        "Connection: close",
    )
    with closing(connect(served.url)) as sock:
        sock.sendall(request + b"\r\n" + body + b" " * 3000)  # 3 KB after a short head
        status, answer = read_answer(sock)
    assert status == 200 and answer["status"] == "success"
    ledger.answered += 1
    ledger.check()


# --- bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DEDUCT, TOKEN_PATH], ids=["fast-lane", "connexion-lane"])
def test_a_body_over_the_limit_is_413_in_the_envelope(
    serve: Callable[..., ServedMock], path: str
) -> None:
    served = serve()
    ledger = Ledger(served.url)
    body = ONE_POINT[:-1] + b', "padding": "' + b"p" * 70_000 + b'"}'
    response = httpx.post(
        served.url + path,
        content=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=30,
    )
    assert envelope(response) == (
        413,
        9130,
        "Request body too large: this mock takes at most 65536 bytes here",
    )
    ledger.check()


@pytest.mark.parametrize("path", [DEDUCT, TOKEN_PATH], ids=["fast-lane", "connexion-lane"])
def test_a_chunked_body_is_refused_once_it_crosses_the_limit(
    serve: Callable[..., ServedMock], path: str
) -> None:
    """No Content-Length; the body is never finished: the 413 comes all the same, so the
    mock did not wait to buffer it whole."""
    served = serve()
    ledger = Ledger(served.url)
    with closing(connect(served.url)) as sock:
        sock.sendall(
            head(
                path,
                f"Authorization: {AUTH['Authorization']}",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            )
            + b"\r\n"
        )
        chunk = b"2000\r\n" + b" " * 0x2000 + b"\r\n"  # 8 KiB of JSON whitespace
        for _ in range(10):  # 80 KiB, and no last chunk
            sock.sendall(chunk)
        status, body = read_answer(sock)
    assert (status, body["errors"][0]["code"]) == (413, 9130)
    ledger.check()


def test_a_body_that_never_arrives_is_408(serve: Callable[..., ServedMock]) -> None:
    served = serve("--request-timeout", "1")
    ledger = Ledger(served.url)
    with closing(connect(served.url)) as sock:
        sock.sendall(
            head(
                DEDUCT,
                f"Authorization: {AUTH['Authorization']}",
                "Content-Type: application/json",
                "Content-Length: 100",
            )
            + b"\r\n"
            + ONE_POINT[:10]
        )
        status, body = read_answer(sock)
    assert (status, body["errors"][0]["code"]) == (408, 9132)
    ledger.check()


# --- connections ---------------------------------------------------------------------


@pytest.fixture
def open_files() -> Iterator[None]:
    """Enough descriptors in this test process for 1,100 client sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 4096)
    if soft < 2400 and wanted < 2400:
        pytest.fail(f"this machine allows {hard} open files; the test needs 2,400")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_1100_idle_connections_do_not_lock_out_a_new_client(
    serve: Callable[..., ServedMock], open_files: None
) -> None:
    # The mock starts under the usual 1,024-file limit; idle connections are not timed
    # out within the test, so only the mock's own limits can let the newcomer in.
    served = serve("--request-timeout", "300", "--keep-alive", "300", open_files=1024)
    ledger = Ledger(served.url)
    with ExitStack() as stack:
        for _ in range(1100):
            stack.enter_context(closing(connect(served.url)))
        assert ledger.deduct().status_code == 200
        assert httpx.get(f"{served.url}/__admin/health", timeout=30).status_code == 200
    ledger.check()


def test_past_the_limit_the_idlest_connection_makes_room(serve: Callable[..., ServedMock]) -> None:
    served = serve("--max-connections", "20", "--request-timeout", "300")
    ledger = Ledger(served.url)
    with ExitStack() as stack:
        idle = [stack.enter_context(closing(connect(served.url))) for _ in range(40)]
        assert ledger.deduct().status_code == 200
        closed = 0
        for sock in idle[:25]:
            sock.settimeout(5)
            with suppress(TimeoutError):
                closed += sock.recv(1) == b""
        assert closed >= 20  # the oldest were closed to make room, in order
    ledger.check()


def test_when_every_connection_is_busy_a_newcomer_gets_503(
    serve: Callable[..., ServedMock],
) -> None:
    served = serve("--max-connections", "5", "--request-timeout", "300")
    with ExitStack() as stack:
        for _ in range(5):  # each in the middle of its body: busy, not idle
            sock = stack.enter_context(closing(connect(served.url)))
            sock.sendall(head(DEDUCT, "Content-Length: 100") + b"\r\n{")
        time.sleep(0.5)  # let the mock read those heads (order, not a measurement)
        with closing(connect(served.url)) as newcomer:
            newcomer.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: mock\r\n\r\n")
            status, body = read_answer(newcomer)
    assert (status, body["errors"][0]["code"]) == (503, 9133)
    ledger = Ledger(served.url)  # the busy ones are gone: the mock answers again
    ledger.check()


def test_a_silent_or_slow_connection_is_closed(serve: Callable[..., ServedMock]) -> None:
    served = serve("--request-timeout", "1")
    ledger = Ledger(served.url)
    with (
        closing(connect(served.url, timeout=30)) as silent,
        closing(connect(served.url, timeout=30)) as slow,
    ):
        slow.sendall(b"GET /__admin/health HTTP/1.1\r\n")
        for _ in range(10):  # a header line a byte at a time, never finished
            try:
                slow.sendall(b"X")
            except OSError:
                break
            time.sleep(0.3)
        assert silent.recv(1) == b""
        assert slow.recv(1) == b""
    ledger.check()
