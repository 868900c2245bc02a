"""The request journal: what was sent, how it was answered and why, on every store and
lane; counting and verifying with near-misses; the bounded ring; workers sharing it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support import (
    ALLOCATE,
    BALANCE,
    DEDUCT,
    ISSUE,
    LEDGER,
    LOOKUP_DEDUCT,
    MOBILE,
    SEED_USER,
    LiveMock,
    ServedMock,
    basic_header,
)

from mock_server.app import create_app
from mock_server.data import DEFAULT_FIXTURES
from mock_server.fixtures import load_fixtures
from mock_server.instrument.journal import MemoryJournal, Recorded
from mock_server.model import POINTS
from mock_server.stores.open import open_store

REASON = "Extra points were issued"
BODY = {"pointsToBeAdjusted": "10", "reasonOfReturn": REASON}


@pytest.fixture
def journal(mock: LiveMock) -> LiveMock:
    """The session's mock with its default fixtures and an empty journal."""
    assert mock.client.delete("/__admin/requests").status_code == 200
    return mock


def entries(mock: LiveMock, **filters: object) -> list[dict]:
    response = mock.client.get("/__admin/requests", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["requests"]


def entry(mock: LiveMock, request_id: str) -> dict:
    response = mock.client.get(f"/__admin/requests/{request_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_every_answer_names_its_journal_entry(journal: LiveMock) -> None:
    answered = journal.deduct(BODY)
    request_id = answered.headers["X-Capmock-Request-Id"]
    recorded = entry(journal, request_id)
    assert recorded["method"] == "POST" and recorded["path"] == DEDUCT.format(user_id=SEED_USER)
    assert recorded["query"] == "source=INSTORE" and recorded["source"] == "INSTORE"
    assert recorded["body"] == answered.request.content.decode()
    assert recorded["status"] == 200 and recorded["response"] == answered.text
    assert (recorded["operation"], recorded["userId"]) == ("deductPoints", SEED_USER)
    assert (recorded["rule"], recorded["code"], recorded["outcome"]) == (None, None, "success")
    assert recorded["explanation"] == (
        "success: REGULAR balance of program 973 was 680.000; 10 deducted; now 670.000"
    )
    assert recorded["session"] is None and recorded["durationMs"] > 0
    # admin calls get an id too, but are not journaled
    admin = journal.client.get(f"/__admin/customers/{SEED_USER}")
    assert len(admin.headers["X-Capmock-Request-Id"]) == 24
    assert [e["id"] for e in entries(journal)] == [request_id]


def test_credentials_are_hidden_and_who_sent_them_is_kept(journal: LiveMock) -> None:
    basic = entry(journal, journal.deduct(BODY).headers["X-Capmock-Request-Id"])
    assert basic["headers"]["authorization"] == "Basic store.server:***"
    token = journal.client.post(
        "/v3/oauth/token/generate", json={"key": "doc-client", "secret": "doc-secret"}
    ).json()["data"]["accessToken"]
    sent = journal.deduct(BODY, auth=None, headers={"X-CAP-API-OAUTH-TOKEN": token})
    oauth = entry(journal, sent.headers["X-Capmock-Request-Id"])
    assert oauth["headers"]["x-cap-api-oauth-token"] == "*** (client doc-client)"
    (issued,) = entries(journal, path="/v3/oauth/token/generate")
    assert issued["explanation"] == "success: a token for OAuth client 'doc-client', valid 300 s"
    assert (issued["operation"], issued["outcome"]) == ("generateToken", "success")
    assert "server123" not in str(entries(journal)) and "8a16a6b7" not in str(entries(journal))


def test_a_body_that_is_not_utf8_is_kept_as_sent(journal: LiveMock) -> None:
    raw = b'{"pointsToBeAdjusted": "1", "reasonOfReturn": "caf\xe9"}'
    sent = journal.client.post(
        DEDUCT.format(user_id=SEED_USER),
        params={"source": "INSTORE"},
        content=raw,
        headers={**journal.auth_headers(), "Content-Type": "application/json"},
    )
    recorded = entry(journal, sent.headers["X-Capmock-Request-Id"])
    assert recorded["body"] is None
    assert (
        recorded["bodyBase64"]
        == "eyJwb2ludHNUb0JlQWRqdXN0ZWQiOiAiMSIsICJyZWFzb25PZlJldHVybiI6ICJjYWbpIn0="
    )
    assert (recorded["status"], recorded["code"], recorded["rule"]) == (400, 9100, 6)


@pytest.mark.parametrize(
    ("body", "user_id", "source", "auth", "expected"),
    [
        (
            {"pointsToBeAdjusted": "681", "reasonOfReturn": REASON},
            SEED_USER,
            "INSTORE",
            ("store.server", "server123"),
            (
                26,
                8907,
                "rule 26 (8907): REGULAR balance of program 973 is 680.000; asked 681, "
                "and the org does not allow negative balances",
            ),
        ),
        (
            BODY,
            SEED_USER,
            "ECOMMERCE",
            ("store.server", "server123"),
            (
                19,
                8015,
                f"rule 19 (8015): customer {SEED_USER} is registered in [INSTORE]; the "
                "request's source is ECOMMERCE",
            ),
        ),
        (
            {"pointsToBeAdjusted": "-1", "reasonOfReturn": REASON},
            SEED_USER,
            "INSTORE",
            ("store.server", "server123"),
            (11, 9105, 'rule 11 (9105): pointsToBeAdjusted must be greater than 0, got "-1"'),
        ),
        (
            BODY,
            "abc",
            "INSTORE",
            ("store.server", "server123"),
            (4, 8013, "rule 4 (8013): userId 'abc' is not a 64-bit integer"),
        ),
        (
            BODY,
            SEED_USER,
            "INSTORE",
            ("store.server", "wrong"),
            (
                1,
                9113,
                "rule 1 (9113): the password sent for user 'store.server' is not md5hex of theirs",
            ),
        ),
        (
            BODY,
            SEED_USER,
            "INSTORE",
            ("store.noaccess", "noaccess123"),
            (
                2,
                9114,
                "rule 2 (9114): 'store.noaccess' is in the access groups [customers], not points",
            ),
        ),
        (
            BODY,
            SEED_USER,
            "INSTORE",
            None,
            (
                1,
                9113,
                "rule 1 (9113): no credentials: neither Basic auth (Authorization) nor an "
                "OAuth token (X-CAP-API-OAUTH-TOKEN) was sent",
            ),
        ),
    ],
    ids=["overdraft", "source", "shape", "user-id", "password", "access", "no-credentials"],
)
def test_each_refusal_says_which_row_answered_and_why(
    journal: LiveMock, body, user_id, source, auth, expected
) -> None:
    sent = journal.deduct(body, user_id=user_id, source=source, auth=auth)
    recorded = entry(journal, sent.headers["X-Capmock-Request-Id"])
    assert (recorded["rule"], recorded["code"], recorded["explanation"]) == expected
    assert recorded["outcome"] == "refused" and recorded["code"] == sent.json()["errors"][0]["code"]


UNKNOWN = {**MOBILE, "identifierValue": "0000000000"}


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "expected"),
    [
        (
            "POST",
            LOOKUP_DEDUCT,
            MOBILE,
            BODY,
            (
                "deductPointsByLookup",
                SEED_USER,
                None,
                "success: REGULAR balance of program 973 was 680.000; 10 deducted; now 670.000",
            ),
        ),
        (
            "POST",
            LOOKUP_DEDUCT,
            UNKNOWN,
            BODY,
            (
                "deductPointsByLookup",
                None,
                19,
                "rule 19 (8015): no customer has the mobile '0000000000' in INSTORE",
            ),
        ),
        (
            "GET",
            BALANCE,
            MOBILE,
            None,
            (
                "getPointsBalance",
                SEED_USER,
                None,
                "success: customer 388034468 has 680.000 points: 680.000 REGULAR, 0.000 "
                "PROMISED, 0.000 EXTERNAL_TRIGGER_BASED",
            ),
        ),
        (
            "GET",
            BALANCE,
            {**MOBILE, "entityType": "GROUP"},
            None,
            ("getPointsBalance", None, 6, None),
        ),
        (
            "GET",
            LEDGER,
            MOBILE,
            None,
            (
                "getCustomerLedgerInfo",
                SEED_USER,
                None,
                "success: page 0 of 1 by 10: 1 of the 1 events of customer 388034468",
            ),
        ),
        (
            "GET",
            LEDGER,
            {**MOBILE, "limit": 101},
            None,
            ("getCustomerLedgerInfo", None, 9, None),
        ),
        (
            "POST",
            ALLOCATE,
            None,
            [ISSUE, {**ISSUE, "lookupParams": {**ISSUE["lookupParams"], "identifierValue": "1"}}],
            (
                "bulkManualCurrencyAllocation",
                None,
                None,
                "item 0: success: REGULAR balance of program 973 was 680.000; 500 issued; now "
                "1180.000; item 1: rule 10 (8015): no customer has the mobile '1' in INSTORE",
            ),
        ),
        (
            "POST",
            ALLOCATE,
            None,
            [ISSUE] * 11,
            ("bulkManualCurrencyAllocation", None, 5, None),
        ),
    ],
    ids=[
        "lookup-deduct",
        "lookup-unknown",
        "balance",
        "balance-entity-type",
        "ledger",
        "ledger-limit",
        "allocate-some-refused",
        "allocate-eleven",
    ],
)
def test_the_lookup_operations_are_journaled_with_their_rows(
    journal: LiveMock, method, path, params, body, expected
) -> None:
    """Each names its operation, the customer its lookup found, and the row or the
    decision that answered (a shape refusal numbered by its own operation's table)."""
    sent = journal.call(method, path, params, body)
    recorded = entry(journal, sent.headers["X-Capmock-Request-Id"])
    operation, user_id, rule, explanation = expected
    assert (recorded["operation"], recorded["userId"], recorded["rule"]) == (
        operation,
        user_id,
        rule,
    )
    if explanation is not None:
        assert recorded["explanation"] == explanation
    if rule is not None:
        assert recorded["code"] == sent.json()["errors"][0]["code"]


def test_filters_and_newest_first(journal: LiveMock) -> None:
    first = journal.deduct(BODY).headers["X-Capmock-Request-Id"]
    journal.deduct({**BODY, "pointsToBeAdjusted": "1000"})
    journal.deduct(BODY, user_id=388034470, source="ALL")
    listed = journal.client.get("/__admin/requests").json()
    assert (listed["matched"], listed["kept"], listed["dropped"]) == (3, 3, 0)
    ids = [e["id"] for e in listed["requests"]]
    assert ids == sorted(ids, reverse=True) and ids[-1] == first
    assert [e["code"] for e in entries(journal, status=400)] == [8907]
    assert [e["status"] for e in entries(journal, code=8907)] == [400]
    assert [e["userId"] for e in entries(journal, userId=388034470)] == [388034470]
    assert len(entries(journal, path=DEDUCT.format(user_id=SEED_USER))) == 2
    assert [e["id"] for e in entries(journal, since=first)] == ids[:2]
    assert len(entries(journal, since="2000-01-01T00:00:00Z")) == 3
    assert len(entries(journal, limit=1)) == 1


def test_count_and_verify_with_readable_near_misses(journal: LiveMock) -> None:
    journal.deduct({"pointsToBeAdjusted": "10", "reasonOfReturn": "refund order 17"})
    journal.deduct({"pointsToBeAdjusted": "5", "reasonOfReturn": "Refund"}, source="ALL")
    match = {"operation": "deductPoints", "userId": SEED_USER, "body": {"reasonOfReturn": "Refund"}}
    count = journal.client.post("/__admin/requests/count", json={"match": match})
    assert count.json() == {"count": 1}
    ok = journal.client.post("/__admin/verify", json={"match": match, "count": {"eq": 1}})
    assert ok.status_code == 200 and ok.json()["matched"] is True

    wanted = {**match, "source": "INSTORE", "body": {"reasonOfReturn": "Refund"}}
    missed = journal.client.post("/__admin/verify", json={"match": wanted})
    assert missed.status_code == 409
    report = missed.json()
    assert (report["expected"], report["actual"], report["matched"]) == ({"eq": 1}, 0, False)
    assert [near["differences"] for near in report["nearMisses"]] == [
        ['source: expected "INSTORE", got "ALL"'],
        ['body.reasonOfReturn: expected "Refund", got "refund order 17"'],
    ]
    assert report["nearMisses"][0]["fields"] == [
        {"field": "source", "expected": "INSTORE", "actual": "ALL"}
    ]
    regex = {"body": {"reasonOfReturn": {"matches": "(?i)refund.*"}, "pointsToBeAdjusted": "10"}}
    assert journal.client.post("/__admin/requests/count", json={"match": regex}).json() == {
        "count": 1
    }
    at_least = journal.client.post(
        "/__admin/verify", json={"match": {"operation": "deductPoints"}, "count": {"min": 3}}
    )
    assert at_least.status_code == 409 and at_least.json()["actual"] == 2
    at_most = journal.client.post(
        "/__admin/verify", json={"match": {"operation": "deductPoints"}, "count": {"max": 2}}
    )
    assert at_most.status_code == 200


def test_a_pattern_that_cannot_compile_is_400(journal: LiveMock) -> None:
    response = journal.client.post(
        "/__admin/verify", json={"match": {"body": {"reasonOfReturn": {"matches": "("}}}}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 9110
    assert "match.body.reasonOfReturn" in response.json()["errors"][0]["message"]


def test_an_unknown_request_is_404(journal: LiveMock) -> None:
    response = journal.client.get("/__admin/requests/nope")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == 9111


def test_the_swagger_pages_do_not_fill_the_journal(journal: LiveMock) -> None:
    for path in ("/ui/", "/__admin/ui/", "/openapi.json", "/__admin/openapi.json"):
        assert journal.client.get(path).status_code == 200
    assert entries(journal) == []


def test_clearing_forgets_everything(journal: LiveMock) -> None:
    journal.deduct(BODY)
    cleared = journal.client.delete("/__admin/requests")
    assert cleared.json() == {"status": "cleared", "removed": 1}
    assert entries(journal) == []


def deduct_each(client: httpx.Client, amounts: str) -> list[httpx.Response]:
    """One deduction from the seed customer per amount (space-separated), in order."""
    return [
        client.post(
            DEDUCT.format(user_id=SEED_USER),
            params={"source": "INSTORE"},
            json={"pointsToBeAdjusted": points, "reasonOfReturn": REASON},
            headers={"Authorization": basic_header("store.server", "server123")},
        )
        for points in amounts.split()
    ]


def test_a_kept_entry_gives_the_garbage_collector_four_objects_to_scan(
    served: Callable[[object], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each full collection scans every kept entry, at 1 to 2 µs an object under load
    (benchmarks/README.md): the entry, its exchange, and the deduction's decision and
    ledger entry. The headers are a tuple of bytes, which the collector stops tracking,
    and the balance is the fixtures' own Bucket, not one more per request."""
    kept: list[Recorded] = []
    record = MemoryJournal.record

    async def keeping(self: MemoryJournal, recorded: Recorded) -> None:
        kept.append(recorded)
        await record(self, recorded)

    monkeypatch.setattr(MemoryJournal, "record", keeping)
    world = load_fixtures(DEFAULT_FIXTURES)
    url = served(create_app(world))
    with httpx.Client(base_url=url) as client:
        assert [a.status_code for a in deduct_each(client, "1 2")] == [200, 200]
    for _ in range(2):  # a tuple is untracked by a collection that finds its items untracked
        gc.collect()
    worlds = tracked_from(world, set())
    assert [len(tracked_from(entry, worlds)) for entry in kept] == [4, 4]
    regular = world.buckets[(world.default_program_id, POINTS, "REGULAR")]
    assert all(entry.exchange.decision.bucket is regular for entry in kept)


def tracked_from(root: object, known: set[int]) -> set[int]:
    """The objects the collector tracks that ``root`` leads to (its classes and those
    in ``known`` left out)."""
    found: set[int] = set()
    waiting = [root]
    while waiting:
        thing = waiting.pop()
        if id(thing) in found or id(thing) in known or isinstance(thing, type):
            continue
        if gc.is_tracked(thing):
            found.add(id(thing))
            waiting.extend(gc.get_referents(thing))
    return found


def test_the_ring_keeps_the_newest_and_counts_the_dropped(fresh_store_url: str, served) -> None:
    store = open_store(fresh_store_url, load_fixtures(DEFAULT_FIXTURES))
    url = served(create_app(store=store, journal_size=3))
    with httpx.Client(base_url=url) as client:
        sent = [a.headers["X-Capmock-Request-Id"] for a in deduct_each(client, "1 2 3 4 5")]
        listed = client.get("/__admin/requests").json()
    assert [e["id"] for e in listed["requests"]] == sent[:1:-1]
    assert (listed["kept"], listed["dropped"], listed["size"]) == (3, 2, 3)


def test_a_page_is_the_newest_it_keeps_and_counts_every_match(fresh_store_url: str, served) -> None:
    store = open_store(fresh_store_url, load_fixtures(DEFAULT_FIXTURES))
    url = served(create_app(store=store, journal_size=10))
    with httpx.Client(base_url=url) as client:
        sent = deduct_each(client, "1 1000000 2 1000000 3")
        newest = client.get("/__admin/requests", params={"limit": 2}).json()
        refused = client.get("/__admin/requests", params={"status": 400, "limit": 1}).json()
    ids = [answer.headers["X-Capmock-Request-Id"] for answer in sent]
    assert [answer.status_code for answer in sent] == [200, 400, 200, 400, 200]
    assert [e["id"] for e in newest["requests"]] == [ids[4], ids[3]]
    assert (newest["matched"], newest["kept"], newest["dropped"]) == (5, 5, 0)
    assert [e["id"] for e in refused["requests"]] == [ids[3]]
    assert (refused["matched"], refused["kept"]) == (2, 5)
    assert refused["requests"][0]["headers"]["authorization"] == "Basic store.server:***"


def test_journal_size_zero_turns_it_off(served) -> None:
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES), journal_size=0))
    with httpx.Client(base_url=url) as client:
        answered = client.post(
            DEDUCT.format(user_id=SEED_USER),
            params={"source": "INSTORE"},
            json=BODY,
            headers={"Authorization": basic_header("store.server", "server123")},
        )
        assert answered.status_code == 200 and answered.headers["X-Capmock-Request-Id"]
        listed = client.get("/__admin/requests").json()
    assert (listed["requests"], listed["size"]) == ([], 0)


def test_every_worker_sees_every_request(
    shared_store_url: str, serve: Callable[..., ServedMock], tmp_path: Path
) -> None:
    served = serve("--store", shared_store_url, "--workers", "2", "--journal-size", "50")
    sent = set()
    for n in range(12):  # a new connection each: the workers share them out
        response = httpx.post(
            served.url + DEDUCT.format(user_id=SEED_USER),
            params={"source": "INSTORE"},
            json={"pointsToBeAdjusted": "1", "reasonOfReturn": f"worker {n}"},
            headers={"Authorization": basic_header("store.server", "server123")},
        )
        sent.add(response.headers["X-Capmock-Request-Id"])
    for _ in range(6):
        listed = httpx.get(f"{served.url}/__admin/requests").json()
        assert {e["id"] for e in listed["requests"]} == sent


def test_a_client_that_has_its_answer_finds_it_in_the_journal(
    served: Callable[[object], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry is written before the answer's last bytes go out: a slow journal (a
    shared store under load) delays the answer, never the entry."""
    record = MemoryJournal.record

    async def slow(self: MemoryJournal, recorded: Recorded) -> None:
        await asyncio.sleep(0.3)
        await record(self, recorded)

    monkeypatch.setattr(MemoryJournal, "record", slow)
    url = served(create_app(load_fixtures(DEFAULT_FIXTURES)))
    auth = {"Authorization": basic_header("store.server", "server123")}
    for body in (BODY, {"reasonOfReturn": REASON}):
        answered = httpx.post(
            url + DEDUCT.format(user_id=SEED_USER),
            params={"source": "INSTORE"},
            json=body,
            headers=auth,
        )
        listed = httpx.get(f"{url}/__admin/requests", params={"limit": 1}).json()["requests"]
        assert [e["id"] for e in listed] == [answered.headers["X-Capmock-Request-Id"]]
