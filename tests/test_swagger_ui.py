"""The first deduction from the browser, as a newcomer makes it: `capmock serve`, Swagger UI
in a real headless Chromium (Debian's, driven by Playwright), the Authorize dialog filled
with what it says to type, and "Try it out" with the values the page prefills."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page
from support import SEED_USER, ServedMock


@pytest.fixture
def page(browser: Browser, serve: Callable[..., ServedMock]) -> Iterator[Page]:
    """The contract's Swagger UI of a fresh `capmock serve` on the default fixtures."""
    mock = serve()
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, base_url=mock.url)
    opened = context.new_page()
    opened.goto("/ui/")
    opened.locator("#operations-points-deductPoints").wait_for()
    yield opened
    context.close()


def authorize_basic(page: Page, password: str | None = None) -> tuple[str, str]:
    """Fill the Basic form of the Authorize dialog with what its text says to type (or
    with ``password``); the username and password typed."""
    page.click("button.authorize")
    form = page.locator(".modal-ux .auth-container").filter(has_text="basicAuth")
    said = re.search(r"username (\S+), password (\S+) \(the MD5 of (\S+)\)", form.inner_text())
    assert said, form.inner_text()
    username, md5, clear = said.groups()
    typed = password if password is not None else md5
    form.locator("input").nth(0).fill(username)
    form.locator("input[type=password]").fill(typed)
    form.get_by_role("button", name="Authorize").click()
    assert "Logout" in form.inner_text()
    page.locator(".modal-ux button.btn-done").first.click()
    return username, clear


def try_it_out(page: Page, operation: str) -> tuple[int, dict, Locator]:
    """Open the operation, "Try it out" with its prefilled values, Execute: the status,
    the JSON body and the operation's block."""
    block = page.locator(f"#operations-{operation}")
    if not block.locator(".opblock-body").is_visible():
        block.locator(".opblock-summary").click()
    try_button = block.get_by_role("button", name="Try it out")
    if try_button.is_visible():
        try_button.click()
    clear = block.get_by_role("button", name="Clear")
    if clear.is_visible():
        clear.click()  # an earlier answer must not pass for this one
    block.get_by_role("button", name="Execute").click()
    answer = block.locator(".live-responses-table tbody tr.response")
    answer.wait_for()
    status = int(answer.locator(".response-col_status").inner_text().strip())
    body = json.loads(answer.locator(".response-col_description pre").first.inner_text())
    return status, body, block


def balance(page: Page) -> str:
    """The seed customer's REGULAR points, as the admin API reports them."""
    url = page.url.split("/ui/", 1)[0]
    view = httpx.get(f"{url}/__admin/customers/{SEED_USER}").json()
    (regular,) = (b for b in view["balances"] if b["kind"] == "points" and b["name"] == "REGULAR")
    return str(regular["balance"])


def test_the_servers_list_names_this_mock(page: Page, tmp_path: Path):
    servers = page.locator(".servers select")
    assert servers.locator("option").count() == 1
    assert servers.input_value() == "/"
    assert "this capmock" in servers.inner_text()
    page.screenshot(path=tmp_path / "servers.png")


def test_basic_auth_then_deduct_with_the_prefilled_values(page: Page, tmp_path: Path):
    username, clear = authorize_basic(page)
    assert (username, clear) == ("store.server", "server123")
    page.screenshot(path=tmp_path / "authorized.png")

    status, body, block = try_it_out(page, "points-deductPoints")
    block.screenshot(path=tmp_path / "deduct-basic.png")
    assert status == 200, body
    assert body["status"] == "success"
    assert body["pointsAvailable"] == "580.000"  # 680 - the prefilled "100.00"
    assert balance(page) == "580.000"
    assert f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE" in (
        block.locator(".request-url").inner_text()
    )


def test_token_from_the_prefilled_client_then_deduct_with_it(page: Page, tmp_path: Path):
    status, body, block = try_it_out(page, "auth-generateToken")
    block.screenshot(path=tmp_path / "token.png")
    assert status == 200, body
    token = body["data"]["accessToken"]

    page.click("button.authorize")
    form = page.locator(".modal-ux .auth-container").filter(has_text="oauthToken")
    assert "doc-client" in form.inner_text() and "accessToken" in form.inner_text()
    form.locator("input").fill(token)
    form.get_by_role("button", name="Authorize").click()
    page.locator(".modal-ux button.btn-done").first.click()

    status, body, block = try_it_out(page, "points-deductPoints")
    block.screenshot(path=tmp_path / "deduct-token.png")
    assert status == 200, body
    assert body["pointsAvailable"] == "580.000"
    sent = block.locator(".curl-command").inner_text()
    assert f"X-CAP-API-OAUTH-TOKEN: {token}" in sent and "Authorization" not in sent


def test_the_clear_password_shows_the_hint_in_the_response_headers(page: Page, tmp_path: Path):
    authorize_basic(page, password="server123")
    status, body, block = try_it_out(page, "points-deductPoints")
    block.screenshot(path=tmp_path / "clear-password.png")
    assert status == 401
    assert body["errors"][0]["code"] == 9113
    headers = block.locator(".live-responses-table tbody .response-col_description").inner_text()
    assert "x-capmock-hint: the password must be sent as md5hex(password)" in headers
    assert balance(page) == "680.000"
