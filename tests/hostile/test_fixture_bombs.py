"""Fixture documents built to hurt: aliases that expand to billions of nodes, a flood of
bad keys, documents over the size limit. Each is refused with its file and place, while
the server goes on answering other clients."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
from support import ServedMock
from witness import Ledger, envelope

NAME = "PUT /__admin/fixtures"


def billion_laughs() -> str:
    """Ten levels of ten aliases: 453 bytes that expand to 10^10 nodes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        name, previous = "abcdefghij"[level], "abcdefghij"[level - 1]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    lines += ["programs: [{id: 1, name: P}]", "customers: []"]
    return "\n".join(lines) + "\n"


def bad_keys(count: int) -> str:
    lines = [
        "programs: [{id: 1, name: P}]",
        "customers:",
        "  - userId: 1",
        "    sources: [INSTORE]",
    ]
    lines += [f"    bad{index}: 1" for index in range(count)]
    return "\n".join(lines) + "\n"


def put(url: str, text: str) -> httpx.Response:
    return httpx.put(
        f"{url}/__admin/fixtures",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
        timeout=120,
    )


def test_a_billion_laughs_is_refused_with_its_place(serve: Callable[..., ServedMock]) -> None:
    served = serve()
    ledger = Ledger(served.url)
    text = billion_laughs()
    assert len(text.encode()) < 1024
    status, code, message = envelope(put(served.url, text))
    assert (status, code) == (400, 9118)
    assert message == (
        f"Fixtures refused: {NAME}: d[7] (line 4, column 4): aliases repeat more than 10,000 "
        "nodes, the most this document may hold (as many as it writes out, at least 10,000); "
        "write the data out instead"
    )
    assert httpx.get(f"{served.url}/__admin/health").json()["customers"] == 5  # unchanged
    ledger.check()


def test_an_alias_inside_its_own_node_is_refused(serve: Callable[..., ServedMock]) -> None:
    served = serve()
    ledger = Ledger(served.url)
    text = "loop: &loop [1, *loop]\nprograms: [{id: 1, name: P}]\ncustomers: []\n"
    status, code, message = envelope(put(served.url, text))
    assert (status, code) == (400, 9118)
    assert message.endswith("an alias points into the node that holds it")
    ledger.check()


def test_twenty_thousand_bad_keys_are_counted_not_all_listed(
    serve: Callable[..., ServedMock],
) -> None:
    served = serve()
    ledger = Ledger(served.url)
    status, code, message = envelope(put(served.url, bad_keys(20_000)))
    assert (status, code) == (400, 9118)
    problems = message.removeprefix("Fixtures refused: ").split("; ")
    assert len(problems) == 21
    assert problems[0] == (
        f"{NAME}: customers[0].bad0 (line 5, column 5): unknown key 'bad0' "
        "(allowed: userId, sources, identifiers, firstName, lastName, enrollments)"
    )
    assert problems[-1] == f"{NAME}: ... and 19,980 more"
    ledger.check()


def test_deductions_are_answered_while_a_bad_fixture_is_read(
    serve: Callable[..., ServedMock],
) -> None:
    served = serve()
    ledger = Ledger(served.url)
    answers: list[httpx.Response] = []
    refusing = threading.Thread(target=lambda: answers.append(put(served.url, bad_keys(100_000))))
    refusing.start()
    try:
        while not answers and len(ledger.view()["ledger"]) < 5:
            assert ledger.deduct().status_code == 200
        deducted_while_reading = ledger.answered if refusing.is_alive() else None
    finally:
        refusing.join(120)
    assert deducted_while_reading, "the deductions waited for the fixture to be read"
    assert envelope(answers[0])[:2] == (400, 9118)
    ledger.check()


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(
    serve: Callable[..., ServedMock],
) -> None:
    served = serve("--max-fixture-size", "64KiB")
    ledger = Ledger(served.url)
    text = bad_keys(10_000)  # about 150 KB
    status, code, message = envelope(put(served.url, text))
    assert (status, code) == (413, 9130)
    assert message == "Request body too large: this mock takes at most 65536 bytes here"
    assert httpx.get(f"{served.url}/__admin/health").json()["customers"] == 5
    ledger.check()


def test_schema_and_consistency_problems_come_in_one_answer(
    serve: Callable[..., ServedMock],
) -> None:
    served = serve()
    ledger = Ledger(served.url)
    text = (
        "programs: [{id: 1, name: P, roundDecimals: 9}]\n"
        "customers: [{userId: 1, sources: [MOON], enrollments: [{programId: 2}]}]\n"
    )
    _, code, message = envelope(put(served.url, text))
    assert code == 9118
    second = text.index("\n") + 1
    moon, two = text.index("MOON") - second + 1, text.index("2}") - second + 1
    assert f"roundDecimals (line 1, column {text.index('9}') + 1}): 9 is more than" in message
    assert f"sources[0] (line 2, column {moon}): unknown source 'MOON'" in message
    assert f"enrollments[0].programId (line 2, column {two}): unknown program 2" in message
    ledger.check()
