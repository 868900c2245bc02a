"""HTTP/1.1 by hand over a raw socket: bodies cut short, half-closed connections,
pipelined requests; and what a customer's ledger says, to count answers against."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from support import DEDUCT, SEED_USER, basic_header

AUTH = basic_header("store.server", "server123")
READ_SECONDS = 10
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def deduction(amount: int = 1, *, cut: int = 0, user_id: int = SEED_USER) -> bytes:
    """A deduction request whose body lacks its last ``cut`` bytes (Content-Length
    still counts them); the bytes sent are valid JSON on their own whenever ``cut``
    only takes trailing spaces."""
    body = json.dumps({"pointsToBeAdjusted": amount, "reasonOfReturn": "raw"}).encode()
    body += b" " * 16  # room to cut: what is left is still valid JSON
    head = (
        f"POST {DEDUCT.format(user_id=user_id)}?source=INSTORE HTTP/1.1\r\n"
        f"Host: capmock\r\nAuthorization: {AUTH}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body[: len(body) - cut]


def chunked_deduction(amount: int = 1, *, complete: bool = True) -> bytes:
    """A deduction whose body is sent in two chunks; without ``complete``, the second
    chunk and the last (empty) one are missing."""
    body = json.dumps({"pointsToBeAdjusted": amount, "reasonOfReturn": "chunked"}).encode()
    head = (
        f"POST {DEDUCT.format(user_id=SEED_USER)}?source=INSTORE HTTP/1.1\r\n"
        f"Host: capmock\r\nAuthorization: {AUTH}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    first = b"%x\r\n%s\r\n" % (10, body[:10])
    rest = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body) - 10, body[10:])
    return head + first + (rest if complete else b"")


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=READ_SECONDS)


def statuses_until_closed(sock: socket.socket) -> list[int]:
    """The status of every answer the server sends, read until it closes the
    connection; fails when it does not close it within READ_SECONDS."""
    received = b""
    deadline = time.monotonic() + READ_SECONDS
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return [int(status) for status in STATUS_LINE.findall(received)]


@dataclass(frozen=True)
class Account:
    """What the mock says of one customer: the REGULAR balance and the ledger's length."""

    balance: str
    entries: int


def account(url: str, user_id: int = SEED_USER) -> Account:
    customer = httpx.get(f"{url}/__admin/customers/{user_id}", timeout=10).json()
    balance = next(
        row["balance"]
        for row in customer["balances"]
        if (row["programId"], row["kind"], row["name"]) == (973, "points", "REGULAR")
    )
    return Account(balance, len(customer["ledger"]))
