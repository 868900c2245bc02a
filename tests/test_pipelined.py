"""The Redis hot-path client (``mock_server/stores/pipelined.py``) against a real
redis-server: replies reach their callers under concurrency, errors keep their type,
and a lost or silent Redis fails every waiting command instead of hanging."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.exceptions import AuthenticationError, ConnectionError, ResponseError, TimeoutError
from support import RedisServer, free_port, redis_answers, stop_process, wait_until

from mock_server.stores.pipelined import Client


def _client(url: str, timeout: float = 10) -> Client:
    return Client(url, connect_timeout=3, timeout=timeout)


def _redis(tmp: Path, *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["redis-server", "--save", "", "--appendonly", "no", "--dir", str(tmp), *options],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_concurrent_commands_each_get_their_own_reply(redis_server: RedisServer) -> None:
    async def scenario() -> list[str]:
        client = _client(redis_server.fresh_url())
        try:
            call = client.execute_command
            await asyncio.gather(*(call("SET", f"k{i}", f"v{i}") for i in range(500)))
            return list(await asyncio.gather(*(call("GET", f"k{i}") for i in range(500))))
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == [f"v{i}" for i in range(500)]


def test_a_client_used_by_one_event_loop_then_another_connects_again(
    redis_server: RedisServer,
) -> None:
    """A store is opened before the server's loop runs, and tests run many loops."""
    client = _client(redis_server.fresh_url())

    async def get() -> object:
        return await client.execute_command("INCR", "calls")

    assert [asyncio.run(get()), asyncio.run(get())] == [1, 2]


def test_a_script_is_loaded_when_redis_does_not_know_it(redis_server: RedisServer) -> None:
    async def scenario() -> tuple[object, object, object]:
        client = _client(redis_server.fresh_url())
        try:
            await client.execute_command("SCRIPT", "FLUSH")
            script = client.register_script("return {KEYS[1], ARGV[1] + 1}")
            first = await script(keys=["a"], args=[41])
            loaded = await client.execute_command("SCRIPT", "EXISTS", script.sha)
            second = await script(keys=["b"], args=[1])
            return first, loaded, second
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == (["a", 42], [1], ["b", 2])


def test_a_reply_error_is_raised_and_the_connection_goes_on(redis_server: RedisServer) -> None:
    async def scenario() -> object:
        client = _client(redis_server.fresh_url())
        try:
            await client.execute_command("SET", "text", "x")
            with pytest.raises(ResponseError, match="WRONGTYPE"):
                await client.execute_command("HGET", "text", "field")
            return await client.execute_command("GET", "text")
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == "x"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    process = _redis(tmp_path, "--port", str(port), "--requirepass", "s3cret")
    wait_until(lambda: redis_answers(port, "s3cret"), "redis-server", process)
    yield port, process
    stop_process(process)


def test_password_and_database_from_the_url(own_redis: tuple[int, object]) -> None:
    port, _ = own_redis

    async def scenario() -> tuple[object, object]:
        client = _client(f"redis://:s3cret@127.0.0.1:{port}/3")
        other = _client(f"redis://:s3cret@127.0.0.1:{port}/0")
        try:
            await client.execute_command("SET", "where", "db3")
            here = await client.execute_command("GET", "where")
            return here, await other.execute_command("GET", "where")
        finally:
            await client.aclose()
            await other.aclose()

    assert asyncio.run(scenario()) == ("db3", None)


def test_a_wrong_password_is_an_authentication_error(own_redis: tuple[int, object]) -> None:
    port, _ = own_redis

    async def scenario() -> None:
        client = _client(f"redis://:wrong@127.0.0.1:{port}/0")
        try:
            await client.execute_command("PING")
        finally:
            await client.aclose()

    with pytest.raises(AuthenticationError, match="AUTH"):
        asyncio.run(scenario())


def test_a_redis_that_goes_away_fails_the_waiting_commands_then_is_found_again(
    own_redis: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, process = own_redis

    async def scenario() -> tuple[BaseException | object, object]:
        client = _client(f"redis://:s3cret@127.0.0.1:{port}/0")
        try:
            await client.execute_command("SET", "k", "before")
            blocked = asyncio.ensure_future(client.execute_command("BLPOP", "never", 0))
            await asyncio.sleep(0.1)
            process.kill()
            process.wait()
            failed = await asyncio.gather(blocked, return_exceptions=True)
            restarted = _redis(tmp_path, "--port", str(port), "--requirepass", "s3cret")
            try:
                for _ in range(100):
                    try:
                        return failed[0], await client.execute_command("SET", "k", "after")
                    except ConnectionError:
                        await asyncio.sleep(0.05)
                raise AssertionError("the client never reconnected")
            finally:
                stop_process(restarted)
        finally:
            await client.aclose()

    failure, reply = asyncio.run(scenario())
    assert isinstance(failure, ConnectionError)
    assert reply == "OK"


def test_a_silent_redis_times_out_instead_of_hanging() -> None:
    """A server that accepts and reads, but never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept() -> None:
        connection, _ = listener.accept()
        accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    async def scenario() -> list[BaseException | object]:
        client = _client(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        try:
            calls = (client.execute_command("GET", key) for key in "ab")
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await client.aclose()

    try:
        outcomes = asyncio.run(asyncio.wait_for(scenario(), 5))
    finally:
        listener.close()
        for connection in accepted:
            connection.close()
    assert [type(outcome) for outcome in outcomes] == [TimeoutError, TimeoutError]
    assert "0.3 s" in str(outcomes[0])


def test_nothing_listening_is_a_connection_error() -> None:
    async def scenario() -> None:
        client = _client(f"redis://127.0.0.1:{free_port()}/0")
        await client.execute_command("PING")

    with pytest.raises(ConnectionError, match="cannot connect to Redis"):
        asyncio.run(scenario())


def test_a_unix_socket_url(tmp_path: Path) -> None:
    path = tmp_path / "redis.sock"
    process = _redis(tmp_path, "--port", "0", "--unixsocket", str(path))
    try:
        wait_until(path.exists, "redis-server", process)

        async def scenario() -> object:
            client = _client(f"unix://{path}?db=2")
            try:
                await client.execute_command("SET", "k", "unix")
                return await client.execute_command("GET", "k")
            finally:
                await client.aclose()

        assert asyncio.run(scenario()) == "unix"
    finally:
        stop_process(process)
