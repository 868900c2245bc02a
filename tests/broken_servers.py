"""Deliberately broken servers: the real mock, each broken in one way; and a lenient
server that is not the mock at all.

Most wrap the app in a small ASGI middleware that rewrites one kind of answer; the
others change what the mock knows (a store that forgets, a rule patched out, a store
that races), so the breakage is in behaviour, not only in the text of a response.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from support import ALLOCATE, BALANCE, LEDGER, basic_header

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.errors import ApiError, Code
from mock_server.fixtures import load_document
from mock_server.operations import allocate as allocate_handlers
from mock_server.operations import deduct as handlers
from mock_server.rules import allocate as allocate_rules
from mock_server.rules import balance as balance_rules
from mock_server.rules import lookup as lookup_rules
from mock_server.rules.deduct import Deducted, Deduction
from mock_server.stores.memory import MemoryStore

Rewrite = Callable[[dict[str, Any], int, Any], tuple[int, Any]]
"""(request facts, status, parsed JSON body) -> (status, body): the body as JSON to send,
None to send the original bytes, or bytes to send as they are."""


def rewriting(app: Any, rewrite: Rewrite) -> Any:
    """An ASGI middleware that lets ``rewrite`` change every JSON answer."""

    async def middleware(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive() -> dict:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        started: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                body.extend(message.get("body", b""))

        await app(scope, recording_receive, capture)
        facts = {
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "body": b"".join(chunks),
        }
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        status, document = rewrite(facts, started["status"], document)
        if isinstance(document, bytes):
            payload = document
        else:
            payload = body if document is None else json.dumps(document).encode()
        headers = [(k, v) for k, v in started["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(payload)})

    return middleware


def _codes(document: Any) -> list[int]:
    if isinstance(document, dict) and isinstance(document.get("errors"), list):
        return [e.get("code") for e in document["errors"] if isinstance(e, dict)]
    return []


def on_code(code: int, change: Callable[[int, Any], tuple[int, Any]]) -> Rewrite:
    def rewrite(_facts: dict[str, Any], status: int, document: Any) -> tuple[int, Any]:
        return change(status, document) if code in _codes(document) else (status, document)

    return rewrite


def on_success(change: Callable[[Any], Any]) -> Rewrite:
    def rewrite(_facts: dict[str, Any], status: int, document: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(document, dict) and document.get("status") == "success":
            return status, change(dict(document))
        return status, document

    return rewrite


def _set_message(message: str) -> Callable[[int, Any], tuple[int, Any]]:
    def change(status: int, document: Any) -> tuple[int, Any]:
        document["errors"][0]["message"] = message
        return status, document

    return change


def _set_code(code: int) -> Callable[[int, Any], tuple[int, Any]]:
    def change(status: int, document: Any) -> tuple[int, Any]:
        document["errors"][0]["code"] = code
        return status, document

    return change


def _fake_success(_status: int, _document: Any) -> tuple[int, Any]:
    return 200, {
        "status": "success",
        "pointsAvailable": "680.000",
        "message": "points deducted successfully for the user ",
        "warnings": [],
    }


def _other_envelope(_facts: dict[str, Any], status: int, document: Any) -> tuple[int, Any]:
    if status >= 400 and _codes(document):
        first = document["errors"][0]
        return status, {"error": {"code": first["code"], "message": first["message"]}}
    return status, document


def _three_to_two_decimals(document: dict) -> dict:
    for field in ("pointsAvailable", "valueAvailable"):
        if field in document:
            document[field] = document[field][:-1]
    return document


def _balance_as_number(document: dict) -> dict:
    for field in ("pointsAvailable", "valueAvailable"):
        if field in document:
            document[field] = float(document[field])
    return document


def _rounded_to_one_decimal(document: dict) -> dict:
    for field in ("pointsAvailable", "valueAvailable"):
        if field in document:
            document[field] = f"{Decimal(document[field]).quantize(Decimal('0.1')):f}00"
    return document


def _token_for_any_secret(_status: int, _document: Any) -> tuple[int, Any]:
    return 200, {"data": {"accessToken": "any", "ttlSeconds": 300}, "errors": None}


def _as_html(app: Any) -> Any:
    async def middleware(scope: dict, receive: Callable, send: Callable) -> None:
        async def relabel(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message["headers"] if h[0].lower() != b"content-type"]
                message = {**message, "headers": [*headers, (b"content-type", b"text/html")]}
            await send(message)

        await app(scope, receive, relabel)

    return middleware


def _decimals_counted_normalised(request: Deduction) -> Deduction:
    return dataclasses.replace(request, amount=request.amount.normalize())


def _without(field: str) -> Callable[[dict], dict]:
    def change(document: dict) -> dict:
        document.pop(field, None)
        return document

    return change


def _points_field_for_currency(document: dict) -> dict:
    if "valueAvailable" in document:
        document["pointsAvailable"] = document.pop("valueAvailable")
    return document


def _wrong_success_message(document: dict) -> dict:
    document["message"] = "deducted"
    return document


def _no_allow_header(app: Any) -> Any:
    async def middleware(scope: dict, receive: Callable, send: Callable) -> None:
        async def strip(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [h for h in message["headers"] if h[0].lower() != b"allow"],
                }
            await send(message)

        await app(scope, receive, strip)

    return middleware


def _ignores_credentials(app: Any) -> Any:
    """Lets every request in as store.server, whatever it sent."""
    good = basic_header("store.server", "server123").encode()

    async def middleware(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/__admin"):
            headers = [
                h
                for h in scope["headers"]
                if h[0].lower() not in (b"authorization", b"x-cap-api-oauth-token")
            ]
            scope = {**scope, "headers": [*headers, (b"authorization", good)]}
        await app(scope, receive, send)

    return middleware


def _500_on_json_number_amount(
    facts: dict[str, Any], status: int, document: Any
) -> tuple[int, Any]:
    try:
        body = json.loads(facts["body"])
    except ValueError:
        return status, document
    if isinstance(body, dict) and isinstance(body.get("pointsToBeAdjusted"), int | float):
        return 500, None
    return status, document


def _500_on_nan(facts: dict[str, Any], status: int, document: Any) -> tuple[int, Any]:
    return (500, None) if b"NaN" in facts["body"] else (status, document)


def _plain_404_for_bad_user_id(
    facts: dict[str, Any], status: int, document: Any
) -> tuple[int, Any]:
    return (404, b"Not Found") if "\n" in facts["path"] else (status, document)


class ForgetfulStore(MemoryStore):
    """Answers with the balance after the deduction, but never keeps it."""

    async def apply(self, user_id: int, decide: Any, session: str | None = None) -> Any:
        return decide(self._world, self._view(self._default, self._world, user_id))


class DoubleStore(MemoryStore):
    """Deducts every amount twice, answering with the first balance."""

    async def apply(self, user_id: int, decide: Any, session: str | None = None) -> Any:
        first = await super().apply(user_id, decide, session)
        if isinstance(first, Deducted):
            await super().apply(user_id, decide, session)
        return first


class RefusingButDeductingStore(MemoryStore):
    """Refuses an overdraft with 8907, and takes the points all the same."""

    async def apply(self, user_id: int, decide: Any, session: str | None = None) -> Any:
        outcome = await super().apply(user_id, decide, session)
        if isinstance(outcome, ApiError) and outcome.code == Code.INSUFFICIENT_BALANCE:
            lenient = dataclasses.replace(self._world, allow_negative_balance=True)
            taken = decide(lenient, self._view(self._default, self._world, user_id))
            if isinstance(taken, Deducted):
                self._default.changed.setdefault(user_id, {})[taken.bucket] = taken.balance
        return outcome


class LostUpdateStore(MemoryStore):
    """Reads the balance, waits, then writes what it decided on the old balance: one of
    two simultaneous deductions is lost. One at a time, it is exact."""

    async def apply(self, user_id: int, decide: Any, session: str | None = None) -> Any:
        snapshot = dict(self._view(self._default, self._world, user_id))
        await asyncio.sleep(0.01)
        outcome = decide(self._world, snapshot)
        if isinstance(outcome, Deducted):
            self._default.changed.setdefault(user_id, {})[outcome.bucket] = outcome.balance
        return outcome


class ConcurrentDoubleStore(MemoryStore):
    """Deducts twice when another deduction is in flight (a retry on contention that
    forgets the first attempt landed), answering with the first balance."""

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.in_flight = 0

    async def apply(self, user_id: int, decide: Any, session: str | None = None) -> Any:
        self.in_flight += 1
        try:
            await asyncio.sleep(0.01)
            first = await super().apply(user_id, decide, session)
            if isinstance(first, Deducted) and self.in_flight > 1:
                await super().apply(user_id, decide, session)
            return first
        finally:
            self.in_flight -= 1


def _ids_in_32_bits(app: Any) -> Any:
    """Keeps userIds in a signed 32-bit integer, as a Java ``int`` would: larger ids wrap."""
    path_id = re.compile(r"^(/v2/customers/)([0-9]+)(/.*)$")

    async def middleware(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            match = path_id.match(scope["path"])
            if match and int(match[2]) < 2**63:
                wrapped = ctypes.c_int32(int(match[2])).value
                path = f"{match[1]}{wrapped}{match[3]}"
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return middleware


def _patched_deduct(change: Callable[[Deduction], Deduction]) -> AbstractContextManager[None]:
    @contextmanager
    def patch() -> Iterator[None]:
        original = handlers.deduct

        def deduct(world: Any, request: Deduction, balances: Any, now: Any) -> Any:
            return original(world, change(request), balances, now)

        handlers.deduct = deduct
        try:
            yield
        finally:
            handlers.deduct = original

    return patch()


@contextmanager
def _default_category_promised() -> Iterator[None]:
    """A request that names no pointCategoryTypes deducts PROMISED points."""
    original = handlers.to_deduction

    def to_deduction(user_id: int, source: str, body: dict[str, Any]) -> Deduction:
        return original(user_id, source, {"pointCategoryTypes": "PROMISED", **body})

    handlers.to_deduction = to_deduction
    try:
        yield
    finally:
        handlers.to_deduction = original


def _any_source(request: Deduction) -> Deduction:
    return dataclasses.replace(request, source="ALL")


def _all_categories_regular(request: Deduction) -> Deduction:
    return dataclasses.replace(request, category="REGULAR")


def _program_from_promotion(request: Deduction) -> Deduction:
    if request.promotion_identifier is not None and request.program_id is None:
        return dataclasses.replace(request, program_id=973)
    return request


@contextmanager
def _patched(module: Any, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
    """``module.name`` replaced by ``replacement(original)`` while the run lasts."""
    original = getattr(module, name)
    setattr(module, name, replacement(original))
    try:
        yield
    finally:
        setattr(module, name, original)


def _balance_from_the_fixtures() -> AbstractContextManager[None]:
    """The balance lookup reads the fixture's opening balances, not the store's: it
    disagrees with every deduction and allocation."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda world, query, customer, _balances: original(
            world, query, customer, customer.opening
        )

    return _patched(balance_rules, "points_balance", replacement)


def _lookup_in_every_source() -> AbstractContextManager[None]:
    """An identifier is looked up in every source, whatever the request's ``source``."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda world, name, value, _source, refuse: original(
            world, name, value, lookup_rules.ANY_SOURCE, refuse
        )

    return _patched(lookup_rules, "_by_value", replacement)


def _allocation_not_credited() -> AbstractContextManager[None]:
    """An allocation is answered and written to the ledger, but the balance stays."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        def allocate(world: Any, item: Any, balances: Any, now: Any) -> Any:
            outcome = original(world, item, balances, now)
            if isinstance(outcome, allocate_rules.Credited):
                return dataclasses.replace(outcome, balance=outcome.balance - outcome.entry.amount)
            return outcome

        return allocate

    return _patched(allocate_rules, "allocate", replacement)


def _unique_id_forgotten() -> AbstractContextManager[None]:
    """An item's ``uniqueId`` is never remembered: a repeated one issues again."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda world, item: dataclasses.replace(original(world, item), unique_id=None)

    return _patched(allocate_handlers, "to_allocation", replacement)


def _on_path(path: str, change: Callable[[int, Any], tuple[int, Any]]) -> Rewrite:
    def rewrite(facts: dict[str, Any], status: int, document: Any) -> tuple[int, Any]:
        return change(status, document) if facts["path"] == path else (status, document)

    return rewrite


def _without_deductions(status: int, document: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(document, dict) and "ledgerEntries" in document:
        document["ledgerEntries"] = [
            event
            for event in document["ledgerEntries"]
            if event.get("eventName") != "ManualPointsAdjustment"
        ]
    return status, document


def _pages_from_one(status: int, document: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(document, dict) and "ledgerDetails" in document:
        document["ledgerDetails"]["pageNumber"] += 1
    return status, document


def _all_issued(status: int, document: Any) -> tuple[int, Any]:
    return (200 if status == 207 else status), document


def _points_as_text(status: int, document: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(document, dict) and "mainPoints" in document:
        for name in ("totalPoints", "mainPoints", "promisedPoints"):
            document[name] = f"{Decimal(str(document[name])):.3f}"
    return status, document


def _world(edit: Callable[[str], str] = lambda text: text) -> Any:
    return load_document(edit(DEFAULT_FIXTURES.read_text()), "broken fixtures")


@dataclass(frozen=True)
class Broken:
    name: str
    expect: str
    """A regular expression the finding that names the problem must match."""
    app: Callable[[], Any]
    patch: Callable[[], AbstractContextManager[None]] = nullcontext
    schema_phases: tuple[str, ...] = ()
    request: str = ""
    """A regular expression the finding's request (its curl) must match."""


def _app(**kwargs: Any) -> Callable[[], Any]:
    return lambda: create_app(kwargs.pop("world", None) or _world(), **kwargs)


def _wrapped(rewrite: Rewrite) -> Callable[[], Any]:
    return lambda: rewriting(create_app(_world()), rewrite)


BROKEN = [
    Broken(
        "wrong error code", "8015 expected, got code 8013", _wrapped(on_code(8015, _set_code(8013)))
    ),
    Broken("undocumented error code", "got code 8000", _wrapped(on_code(8888, _set_code(8000)))),
    Broken(
        "wrong message", "8874 message is", _wrapped(on_code(8874, _set_message("bad promotion")))
    ),
    Broken(
        "wrong 8906 values",
        "8906 message is",
        _wrapped(
            on_code(
                8906,
                _set_message(
                    "decimal places passed: 3 is greater than the "
                    "configured round decimals: 3 for programId: 973"
                ),
            )
        ),
    ),
    Broken(
        "wrong HTTP status",
        "8888 expected with HTTP 400, got HTTP 422",
        _wrapped(on_code(8888, lambda status, doc: (422, doc))),
    ),
    Broken("envelope of another shape", "envelope", _wrapped(_other_envelope)),
    Broken(
        "zero accepted",
        "8888 expected with HTTP 400, got HTTP 200",
        _wrapped(on_code(8888, _fake_success)),
    ),
    Broken(
        "overdraft accepted",
        "8907 expected with HTTP 400, got HTTP 200",
        lambda: create_app(
            _world(
                lambda t: t.replace(
                    "allowNegativeBalanceOnReturn: false", "allowNegativeBalanceOnReturn: true"
                )
            )
        ),
    ),
    Broken(
        "decimals not checked",
        "8906 expected",
        lambda: create_app(_world(lambda t: t.replace("roundDecimals: 2", "roundDecimals: 3"))),
    ),
    Broken(
        "promotionIdentifier without programId accepted",
        "8887 expected",
        _app(),
        lambda: _patched_deduct(_program_from_promotion),
    ),
    Broken(
        "balance not deducted",
        "the model's balance",
        lambda: create_app(store=ForgetfulStore(_world())),
    ),
    Broken(
        "deducted twice", "the model's balance", lambda: create_app(store=DoubleStore(_world()))
    ),
    Broken(
        "categories not independent",
        r"for (PROMISED|EXTERNAL_TRIGGER_BASED) points, got HTTP 200",
        _app(),
        lambda: _patched_deduct(_all_categories_regular),
    ),
    Broken(
        "two decimals in balances",
        "exactly three decimals",
        _wrapped(on_success(_three_to_two_decimals)),
    ),
    Broken(
        "balance as a JSON number",
        "exactly three decimals",
        _wrapped(on_success(_balance_as_number)),
    ),
    Broken(
        "missing warnings field", "warnings is missing", _wrapped(on_success(_without("warnings")))
    ),
    Broken("missing status field", "status is None", _wrapped(on_success(_without("status")))),
    Broken(
        "points field for a currency",
        "valueAvailable is missing",
        _wrapped(on_success(_points_field_for_currency)),
    ),
    Broken(
        "wrong success message",
        "message is 'deducted'",
        _wrapped(on_success(_wrong_success_message)),
    ),
    Broken(
        "credentials ignored",
        "9113 expected with HTTP 401, got HTTP 200",
        lambda: _ignores_credentials(create_app(_world())),
    ),
    Broken(
        "405 without Allow",
        "405 without the Allow header",
        lambda: _no_allow_header(create_app(_world())),
    ),
    Broken(
        "balance rounded to one decimal",
        "the model's balance",
        _wrapped(on_success(_rounded_to_one_decimal)),
    ),
    Broken(
        "decimals counted after normalising",
        "8906 expected for",
        _app(),
        lambda: _patched_deduct(_decimals_counted_normalised),
    ),
    Broken(
        "token for a wrong secret",
        "9116 expected with HTTP 401, got HTTP 200",
        _wrapped(on_code(9116, _token_for_any_secret)),
    ),
    Broken(
        "access group not checked",
        "9114 expected with HTTP 403, got HTTP 200",
        _wrapped(on_code(9114, _fake_success)),
    ),
    Broken(
        "answers served as text/html",
        "content_type_conformance",
        lambda: _as_html(create_app(_world())),
        schema_phases=("examples",),
    ),
    Broken("500 on a NaN amount", "odd input answered with HTTP 500", _wrapped(_500_on_nan)),
    Broken(
        "bare 404 for a newline in the userId",
        "the body is not a JSON object",
        _wrapped(_plain_404_for_bad_user_id),
    ),
    Broken(
        "source not checked",
        "8015 expected with HTTP 400, got HTTP 200",
        _app(),
        lambda: _patched_deduct(_any_source),
    ),
    Broken(
        "default category is not REGULAR",
        r"(deduction of REGULAR points was refused|the model's balance of REGULAR)",
        _app(),
        _default_category_promised,
    ),
    Broken(
        "refuses an overdraft but deducts it",
        r"the balance moved around a refused request \(HTTP 400\): REGULAR 680\.000 before",
        lambda: create_app(store=RefusingButDeductingStore(_world())),
    ),
    Broken(
        "loses updates under concurrency",
        "updates were lost",
        lambda: create_app(store=LostUpdateStore(_world())),
    ),
    Broken(
        "deducts twice under concurrency",
        r"more were taken",
        lambda: create_app(store=ConcurrentDoubleStore(_world())),
    ),
    Broken(
        "userId kept in 32 bits",
        r"8015 expected, got code 8013",
        lambda: _ids_in_32_bits(create_app(_world())),
    ),
    Broken(
        "500 on odd input",
        "HTTP 500",
        _wrapped(_500_on_json_number_amount),
        schema_phases=("fuzzing",),
    ),
    Broken(
        "balance lookup disagrees with the deductions",
        r"the balance lookup says mainPoints [0-9.]+, but after [0-9.]+ issued",
        _app(),
        _balance_from_the_fixtures,
    ),
    Broken(
        "ledger without the deductions",
        r"the ledger's newest events are .*, not the deduction by identifier",
        _wrapped(_on_path(LEDGER, _without_deductions)),
    ),
    Broken(
        "ledger pages counted from 1",
        r"ledgerDetails\.pageNumber is 1, not 0",
        _wrapped(_on_path(LEDGER, _pages_from_one)),
    ),
    Broken(
        "balance amounts as strings",
        "a points field is missing or not a number",
        _wrapped(_on_path(BALANCE, _points_as_text)),
    ),
    Broken(
        "lookup in every source",
        "8015 expected with HTTP 400, got HTTP 200",
        _app(),
        _lookup_in_every_source,
        request=r"lookup/negativePointsAdjustment\?.*source=WECHAT",
    ),
    Broken(
        "8015 for an identifierName not accepted",
        "8013 expected, got code 8015",
        _wrapped(on_code(8013, _set_code(8015))),
        request="identifierName=userId",
    ),
    Broken(
        "allocation answered but not credited",
        r"by userId, pointsAvailable is '[0-9.]+', the model's balance is",
        _app(),
        _allocation_not_credited,
    ),
    Broken(
        "uniqueId forgotten",
        "6006 expected",
        _app(),
        _unique_id_forgotten,
    ),
    Broken(
        "a partly refused allocation answered 200",
        "an allocation with a refused item answered HTTP 200, not 207",
        _wrapped(_on_path(ALLOCATE, _all_issued)),
    ),
]


class LenientServer:
    """Not the mock: a server that accepts every request. It knows the customers of the
    default fixtures (each with 1000 points) and, like a real org, answers 8015 for
    any other id; for a customer it knows, every request succeeds and deducts whatever
    amount it can read from the body (1 when it can read none), whatever the source,
    credentials, method or fields. With ``lookup=False`` it accepts unknown ids too.
    ``ledger`` lists every deduction: (userId, amount)."""

    def __init__(self, lookup: bool = True) -> None:
        customers = load_document(DEFAULT_FIXTURES.read_text(), "lenient").customers
        self.balances = {user_id: Decimal(1000) for user_id in customers}
        self.lookup = lookup
        self.ledger: list[tuple[int, Decimal]] = []

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, document = self._answer(scope["path"], body)
        payload = json.dumps(document).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(payload)),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, path: str, body: bytes) -> tuple[int, Any]:
        match = re.match(r"^/v2/customers/([0-9]+)/", path)
        if path.startswith("/v3/oauth/"):
            return 200, {"data": {"accessToken": "lenient", "ttlSeconds": 3600}, "errors": None}
        if match is None:
            return 200, {"status": "success", "warnings": []}
        user_id = int(match[1])
        if self.lookup and user_id not in self.balances:
            error = {
                "status": False,
                "code": 8015,
                "message": "Customer not found for the given identifiers",
            }
            return 400, {"errors": [error], "warnings": []}
        amount = _any_amount(body)
        balance = self.balances.get(user_id, Decimal(0)) - amount
        self.balances[user_id] = balance
        self.ledger.append((user_id, amount))
        return 200, {
            "status": "success",
            "pointsAvailable": f"{balance:.3f}",
            "message": "points deducted successfully for the user ",
            "warnings": [],
        }


def _any_amount(body: bytes) -> Decimal:
    try:
        document = json.loads(body)
    except ValueError:
        return Decimal(1)
    if isinstance(document, dict):
        for field in ("pointsToBeAdjusted", "valueToBeAdjusted"):
            try:
                return Decimal(str(document[field]))
            except (KeyError, ArithmeticError, ValueError):
                continue
    return Decimal(1)
