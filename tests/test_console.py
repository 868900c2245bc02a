"""The console page in a real Chromium (Debian's, driven by Playwright), at 1280 and 390
pixels wide, against `capmock serve`: requests made with httpx appear without a reload,
a refusal says its rule and reason, a customer shows the new balance and the ledger
entry with its request, a fault added from the form fails the next call as it says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from support import DEDUCT, SEED_USER, ServedMock

from contract_tests.target import basic_header

WIDTHS = {"wide": (1280, 900), "narrow": (390, 844)}
AUTH = {"Authorization": basic_header("store.server", "server123")}


@dataclass
class Console:
    page: Page
    mock: ServedMock
    width: str
    elsewhere: list[str]

    def deduct(
        self, amount: str, user_id: int = SEED_USER, headers: dict | None = None
    ) -> httpx.Response:
        return httpx.post(
            self.mock.url + DEDUCT.format(user_id=user_id),
            params={"source": "INSTORE"},
            json={"pointsToBeAdjusted": amount, "reasonOfReturn": "Refund"},
            headers={**AUTH, **(headers or {})},
        )

    def rows(self):
        return self.page.locator("#stream tbody tr")

    def row(self, request_id: str):
        return self.page.locator(f'#stream tbody tr[data-id="{request_id}"]')


def open_console(browser: Browser, mock: ServedMock, width: str) -> Iterator[Console]:
    """The console of ``mock`` at one width; every request the page makes is checked to
    go to the mock, nowhere else, and its script must not fail."""
    columns, lines = WIDTHS[width]
    context = browser.new_context(viewport={"width": columns, "height": lines}, base_url=mock.url)
    page = context.new_page()
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(mock.url) else elsewhere.append(request.url),
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/__admin/console/")
    yield Console(page, mock, width, elsewhere)
    context.close()
    assert errors == [], "the page's script failed"


@pytest.fixture(params=list(WIDTHS))
def console(browser: Browser, serve: Callable[..., ServedMock], request) -> Iterator[Console]:
    yield from open_console(browser, serve(), request.param)


def test_requests_appear_and_explain_themselves(console: Console, tmp_path: Path):
    page = console.page
    expect(page.locator("#stream-state")).to_contain_text("live")
    expect(page.locator("#stream-empty")).to_be_visible()

    taken = console.deduct("10")
    refused = console.deduct("100000")
    assert taken.status_code == 200, taken.text
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == 8907
    taken_id = taken.headers["X-Capmock-Request-Id"]
    refused_id = refused.headers["X-Capmock-Request-Id"]

    expect(console.rows()).to_have_count(2)  # no reload: the page polls the journal
    assert console.rows().nth(0).get_attribute("data-id") == refused_id  # newest first
    assert console.rows().nth(1).get_attribute("data-id") == taken_id
    refused_row = console.row(refused_id)
    expect(refused_row).to_contain_text(str(SEED_USER))
    expect(refused_row).to_contain_text("100000")
    expect(refused_row).to_contain_text("400")
    expect(refused_row).to_contain_text("8907")
    expect(console.row(taken_id)).to_contain_text("200")

    refused_row.click()
    explanation = page.locator("#entry .explanation")
    expect(explanation).to_contain_text("rule 26 (8907)")
    expect(explanation).to_contain_text("REGULAR balance of program 973 is 670.000; asked 100000")
    entry = page.locator("#entry")
    expect(entry.locator(".response")).to_contain_text('"code": 8907')
    expect(entry.locator(".headers")).to_contain_text("Basic store.server:***")
    expect(entry.locator(".body")).to_contain_text('"pointsToBeAdjusted": "100000"')

    page.get_by_role("button", name="Copy as curl").click()
    curl = page.locator("#entry .curl").inner_text()
    assert f"curl -X POST '{console.mock.url}{DEDUCT.format(user_id=SEED_USER)}" in curl
    assert "?source=INSTORE'" in curl
    assert f"--data-raw '{refused.request.content.decode()}'" in curl  # the body as sent
    assert curl.startswith("# the journal hides credentials")

    page.locator("#customer-key").fill(str(SEED_USER))
    page.get_by_role("button", name="Look up").click()
    customer = page.locator("#customer")
    regular = customer.locator(".balances tbody tr").filter(has_text="REGULAR")
    expect(regular).to_contain_text("670.000")
    ledger = customer.locator(".ledger tbody tr")
    expect(ledger).to_have_count(1)
    expect(ledger).to_contain_text("Refund")
    expect(ledger.locator("td.num").nth(0)).to_have_text("10")
    expect(ledger.locator("td.num").nth(1)).to_have_text("670.000")
    ledger.get_by_role("link", name="open").click()  # the ledger entry's own request
    expect(page.locator("#entry .request-line")).to_contain_text("negativePointsAdjustment")
    expect(page.locator("#entry .fields")).to_contain_text(taken_id)
    expect(page.locator("#entry .explanation")).to_contain_text("success")

    page.screenshot(path=tmp_path / f"console-{console.width}.png", full_page=True)
    journal = httpx.get(f"{console.mock.url}/__admin/requests").json()
    assert journal["kept"] == 2  # the page and its polling are not journaled
    assert console.elsewhere == []


def test_the_balance_follows_new_requests_without_a_reload(console: Console):
    page = console.page
    page.locator("#customer-key").fill(str(SEED_USER))
    page.get_by_role("button", name="Look up").click()
    regular = page.locator("#customer .balances tbody tr").filter(has_text="REGULAR")
    expect(regular).to_contain_text("680.000")
    assert console.deduct("30").status_code == 200
    expect(regular).to_contain_text("650.000")
    expect(page.locator("#customer .ledger tbody tr")).to_have_count(1)


def test_filters_keep_only_what_they_name(console: Console):
    page = console.page
    assert console.deduct("1").status_code == 200
    assert console.deduct("100000").status_code == 400
    expect(console.rows()).to_have_count(2)
    page.locator("#filters [name=code]").fill("8907")
    page.locator("#filters [name=code]").dispatch_event("change")
    expect(console.rows()).to_have_count(1)
    expect(console.rows()).to_contain_text("8907")
    page.get_by_role("button", name="Clear filters").click()
    page.locator("#filters [name=status]").fill("200")
    page.locator("#filters [name=status]").dispatch_event("change")
    expect(console.rows()).to_have_count(1)
    expect(console.rows()).to_contain_text("200")
    assert console.deduct("2").status_code == 200
    expect(console.rows()).to_have_count(2)


def test_a_session_filters_the_page_and_resets_alone(console: Console):
    page = console.page
    page.get_by_role("button", name="New session").click()
    expect(page.locator("#session")).not_to_have_value("")  # the new session is picked
    session = page.locator("#session").input_value()
    assert console.deduct("5").status_code == 200  # the default world's
    inside = console.deduct("40", headers={"X-Capmock-Session": session})
    assert inside.status_code == 200, inside.text
    expect(console.rows()).to_have_count(1)
    expect(console.rows()).to_have_attribute("data-id", inside.headers["X-Capmock-Request-Id"])

    page.locator("#customer-key").fill(str(SEED_USER))
    page.get_by_role("button", name="Look up").click()
    regular = page.locator("#customer .balances tbody tr").filter(has_text="REGULAR")
    expect(regular).to_contain_text("640.000")  # 680 - 40: the session's world
    expect(page.locator("#customer .ledger tbody tr")).to_have_count(1)

    page.get_by_role("button", name="Reset…").click()
    dialog = page.locator("#reset-dialog")
    expect(dialog).to_contain_text(f"Reset session {session}")
    dialog.get_by_role("button", name="Reset", exact=True).click()
    expect(regular).to_contain_text("680.000")
    expect(console.rows()).to_have_count(0)  # the session's journal is emptied
    seed = httpx.get(f"{console.mock.url}/__admin/customers/{SEED_USER}").json()
    (default,) = (b for b in seed["balances"] if b["name"] == "REGULAR")
    assert default["balance"] == "675.000"  # the default world kept its deduction

    page.locator("#session").select_option("")
    expect(console.rows()).to_have_count(1)  # every session's requests: the default one's


def test_resetting_the_world_asks_first(console: Console):
    page = console.page
    assert console.deduct("80").status_code == 200
    page.locator("#customer-key").fill(str(SEED_USER))
    page.get_by_role("button", name="Look up").click()
    regular = page.locator("#customer .balances tbody tr").filter(has_text="REGULAR")
    expect(regular).to_contain_text("600.000")

    page.get_by_role("button", name="Reset…").click()
    page.locator("#reset-dialog").get_by_role("button", name="Cancel").click()
    view = httpx.get(f"{console.mock.url}/__admin/customers/{SEED_USER}").json()
    assert len(view["ledger"]) == 1, "cancelled: nothing was reset"

    page.get_by_role("button", name="Reset…").click()
    expect(page.locator("#reset-dialog")).to_contain_text("Reset the default world")
    page.locator("#reset-dialog").get_by_role("button", name="Reset", exact=True).click()
    expect(regular).to_contain_text("680.000")
    expect(page.locator("#customer")).to_contain_text("No change since")
    view = httpx.get(f"{console.mock.url}/__admin/customers/{SEED_USER}").json()
    assert view["ledger"] == []
    expect(console.rows()).to_have_count(1)  # the journal stays


def test_beyond_loopback_the_page_asks_for_the_admin_token(
    browser: Browser, serve: Callable[..., ServedMock]
):
    mock = serve("--admin-token", "s3cret")
    for console in open_console(browser, mock, "wide"):
        page = console.page
        notice = page.locator("#notice")
        expect(notice).to_contain_text("needs its admin token")
        page.locator("#token").fill("s3cret")
        page.get_by_role("button", name="Use").click()
        assert console.deduct("10").status_code == 200
        expect(console.rows()).to_have_count(1)
        expect(notice).to_be_hidden()
        stored = page.evaluate(
            "() => [sessionStorage.getItem('capmock.adminToken'), localStorage.length]"
        )
        assert stored == ["s3cret", 0]  # kept in this tab's session only


def test_the_page_is_served_whole_by_the_mock(serve: Callable[..., ServedMock]):
    mock = serve()
    page = httpx.get(f"{mock.url}/__admin/console/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for name, kind in [("console.js", "text/javascript"), ("console.css", "text/css")]:
        assert f'"{name}"' in page.text
        asset = httpx.get(f"{mock.url}/__admin/console/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert "http://" not in asset.text and "https://" not in asset.text
    missing = httpx.get(f"{mock.url}/__admin/console/nothing.js")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == 9111
    assert httpx.get(f"{mock.url}/__admin/requests").json()["kept"] == 0


def test_a_fault_from_the_form_fails_the_next_request_as_it_says(console: Console, tmp_path: Path):
    page = console.page
    form = page.locator("#fault-form")
    form.locator("[name=type]").select_option("code")
    form.locator("[name=value]").fill("8907")
    form.locator("[name=userId]").fill(str(SEED_USER))
    form.locator("[name=times]").fill("1")
    form.get_by_role("button", name="Add fault").click()
    listed = page.locator("#faults li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("answers code 8907")
    expect(listed).to_contain_text("0 of 1 times")
    page.locator("#faults-panel").screenshot(path=tmp_path / f"faults-{console.width}.png")
    (fault,) = httpx.get(f"{console.mock.url}/__admin/faults").json()["faults"]
    assert fault["match"] == {"userId": SEED_USER} and fault["times"] == 1

    failed = console.deduct("10")  # 680 would allow it: the fault answers instead
    assert failed.status_code == 400, failed.text
    assert failed.json()["errors"][0]["code"] == 8907
    row = console.row(failed.headers["X-Capmock-Request-Id"])
    expect(row).to_contain_text("8907")
    expect(row).to_contain_text(f"fault {fault['id']}")
    expect(listed).to_contain_text("No fault in force")  # it acted once, as it said

    assert console.deduct("10").status_code == 200  # and then no more
    view = httpx.get(f"{console.mock.url}/__admin/customers/{SEED_USER}").json()
    (regular,) = (b for b in view["balances"] if b["name"] == "REGULAR")
    assert regular["balance"] == "670.000"  # the faulted call deducted nothing


def test_a_fault_can_be_removed_from_the_page(console: Console):
    page = console.page
    form = page.locator("#fault-form")
    form.locator("[name=type]").select_option("status")
    form.locator("[name=value]").fill("503")
    form.get_by_role("button", name="Add fault").click()
    listed = page.locator("#faults li")
    expect(listed).to_contain_text("answers HTTP 503")
    assert console.deduct("10").status_code == 503
    listed.get_by_role("button", name="Remove").click()
    expect(listed).to_contain_text("No fault in force")
    assert httpx.get(f"{console.mock.url}/__admin/faults").json()["faults"] == []
    assert console.deduct("10").status_code == 200


def test_latency_is_shown_set_and_cleared(console: Console):
    page = console.page
    shown = page.locator("#latency")
    expect(shown).to_have_text("none")
    page.locator("#latency-form [name=ms]").fill("40-60")
    page.locator("#latency-form").get_by_role("button", name="Set").click()
    expect(shown).to_have_text("40-60 ms")
    latency = httpx.get(f"{console.mock.url}/__admin/latency").json()
    assert latency == {"latency": {"ms": [40, 60]}}
    page.locator("#clear-latency").click()
    expect(shown).to_have_text("none")
    assert httpx.get(f"{console.mock.url}/__admin/latency").json() == {}


def test_a_customer_is_found_by_an_identifier(console: Console):
    page = console.page
    page.locator("#customer-key").fill("tomswayer@capillarytech1.com")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#customer .customer-line")).to_contain_text(f"Customer {SEED_USER}")
    expect(page.locator("#customer")).to_contain_text("INSTORE mobile 9876543210")
    page.locator("#customer-key").fill("9876543214")  # digits, but no such userId: a mobile
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#customer .customer-line")).to_contain_text("Customer 388034472")
    page.locator("#customer-key").fill("nobody@example.com")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#customer")).to_contain_text(
        "No customer has the userId or identifier nobody@example.com"
    )


def test_a_fault_added_in_a_session_acts_only_there(console: Console):
    page = console.page
    page.get_by_role("button", name="New session").click()
    expect(page.locator("#session")).not_to_have_value("")
    session = page.locator("#session").input_value()
    expect(page.locator("#fault-scope")).to_contain_text(f"Session {session}'s faults")
    form = page.locator("#fault-form")
    form.locator("[name=type]").select_option("status")
    form.locator("[name=value]").fill("502")
    form.get_by_role("button", name="Add fault").click()
    expect(page.locator("#faults li")).to_contain_text("answers HTTP 502")

    inside = console.deduct("10", headers={"X-Capmock-Session": session})
    assert inside.status_code == 502
    assert console.deduct("10").status_code == 200  # the default world's call: untouched
    expect(console.rows()).to_have_count(1)
    expect(console.rows()).to_contain_text("502")
    console.rows().click()
    expect(page.locator("#entry .explanation")).to_contain_text("fault")

    page.locator("#session").select_option("")
    expect(page.locator("#faults li")).to_contain_text("answers HTTP 502")  # every fault
    expect(page.locator("#faults li")).to_contain_text(f"session {session}")
