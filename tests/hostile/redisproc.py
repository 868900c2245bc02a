"""A redis-server of one test's own, to kill, pause, restart empty or fill up; and a TCP
proxy in front of Redis that loses the reply of the deduction's write on purpose."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import redis
from support import free_port, redis_answers, redis_binary, stop_process, wait_until

from mock_server.stores.rediskeys import COMMIT

COMMIT_SHA = hashlib.sha1(COMMIT.encode()).hexdigest().encode()
"""What the store sends (EVALSHA <sha>) to run the compare-and-set that deducts."""


@dataclass
class RedisProcess:
    """redis-server on a fixed port, so that a mock finds it again after a restart."""

    workdir: Path
    port: int = field(default_factory=free_port)
    persistent: bool = False
    """With an append-only file fsynced on every write: a restart keeps every write
    Redis acknowledged. Without: a restart comes back empty."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, decode_responses=True)

    def start(self) -> None:
        binary = redis_binary("redis-server")
        persistence = ("--appendonly", "yes", "--appendfsync", "always")
        command = [
            *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
            *(persistence if self.persistent else ("--appendonly", "no")),
            *("--dir", str(self.workdir)),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)

        wait_until(lambda: redis_answers(self.port), "redis-server", self.process)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; connections drop at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def pause(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            stop_process(self.process)


class CuttingProxy:
    """Forwards TCP to Redis; on demand, loses the reply to the deduction's write.

    ``cut_replies(n)``: the next n EVALSHA of the compare-and-set are forwarded to
    Redis, which runs them, and when Redis's reply comes back the proxy drops it and
    closes the client's connection: the write was made, the client never hears so.
    ``cut_requests(n)``: the next n are never forwarded; the connection is closed.
    ``refuse(True)``: new connections are closed at once, as if Redis were gone.
    """

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._replies_to_cut = 0
        self._requests_to_cut = 0
        self._refusing = False
        self.replies_cut = 0
        self.requests_cut = 0
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cut_replies(self, count: int) -> None:
        with self._lock:
            self._replies_to_cut = count

    def cut_requests(self, count: int) -> None:
        with self._lock:
            self._requests_to_cut = count

    def refuse(self, refusing: bool) -> None:
        with self._lock:
            self._refusing = refusing

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._open:
                _shut(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                _shut(client)
                continue
            upstream = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._open |= {client, upstream}
            reply_lost = threading.Event()
            threading.Thread(
                target=self._requests, args=(client, upstream, reply_lost), daemon=True
            ).start()
            threading.Thread(
                target=self._replies, args=(upstream, client, reply_lost), daemon=True
            ).start()

    def _requests(
        self, client: socket.socket, upstream: socket.socket, lost: threading.Event
    ) -> None:
        while data := _recv(client):
            if COMMIT_SHA in data:
                with self._lock:
                    if self._requests_to_cut:
                        self._requests_to_cut -= 1
                        self.requests_cut += 1
                        _shut(client)
                        _shut(upstream)
                        return
                    if self._replies_to_cut:
                        self._replies_to_cut -= 1
                        lost.set()  # before forwarding: the reply cannot overtake it
            try:
                upstream.sendall(data)
            except OSError:
                break
        _shut(upstream)

    def _replies(
        self, upstream: socket.socket, client: socket.socket, lost: threading.Event
    ) -> None:
        while data := _recv(upstream):
            if lost.is_set():
                with self._lock:
                    self.replies_cut += 1
                _shut(client)
                _shut(upstream)
                return
            try:
                client.sendall(data)
            except OSError:
                break
        _shut(client)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
