"""The mock as a process among others: what it writes to stderr never blocks it."""

from __future__ import annotations

import socket
from contextlib import closing
from urllib.parse import urlsplit

import httpx
from witness import Ledger

from contract_tests.local_mock import local_mock

GARBAGE_REQUESTS = 5000
"""Each makes uvicorn log a warning line: well over the 64 KiB a pipe holds."""


def test_capmock_tests_own_mock_keeps_answering_whatever_it_logs() -> None:
    with local_mock() as mock:
        token = {"X-CAPMOCK-ADMIN-TOKEN": mock.admin_token}
        ledger = Ledger(mock.url, token)
        parts = urlsplit(mock.url)
        for _ in range(GARBAGE_REQUESTS):
            with closing(socket.create_connection((parts.hostname, parts.port), 10)) as sock:
                sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                sock.recv(1024)
        assert httpx.get(f"{mock.url}/__admin/health", timeout=10).status_code == 200
        ledger.check()
