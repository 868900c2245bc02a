"""What every hostile scenario checks: the mock still answers, in the envelope, and its
ledger holds exactly the deductions it answered 200."""

from __future__ import annotations

from decimal import Decimal

import httpx
from support import SEED_USER, basic_header

DEDUCT = f"/v2/customers/{SEED_USER}/negativePointsAdjustment?source=INSTORE"
AUTH = {"Authorization": basic_header("store.server", "server123")}
ONE_POINT = b'{"pointsToBeAdjusted": "1", "reasonOfReturn": "hostile test"}'


class Ledger:
    """Deductions of one point from the seed's customer, counted, then checked against
    the mock's own ledger and balance."""

    def __init__(self, url: str, admin_headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.admin_headers = admin_headers or {}
        self.answered = 0
        self.opening = self.balance()

    def view(self) -> dict:
        response = httpx.get(
            f"{self.url}/__admin/customers/{SEED_USER}", headers=self.admin_headers, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def balance(self) -> Decimal:
        (regular,) = (
            b
            for b in self.view()["balances"]
            if b["programId"] == 973 and b["kind"] == "points" and b["name"] == "REGULAR"
        )
        return Decimal(regular["balance"])

    def deduct(self, timeout: float = 30) -> httpx.Response:
        """One deduction; the mock must answer it (in the envelope when it refuses)."""
        response = httpx.post(
            self.url + DEDUCT,
            content=ONE_POINT,
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=timeout,
        )
        if response.status_code == 200:
            self.answered += 1
        else:
            assert response.json()["errors"][0]["code"], response.text
        return response

    def check(self) -> None:
        """The mock still answers, and its ledger is exactly the 200s it gave."""
        assert self.deduct().status_code == 200
        assert len(self.view()["ledger"]) == self.answered
        assert self.balance() == self.opening - self.answered


def envelope(response: httpx.Response) -> tuple[int, int, str]:
    """(status, code, message) of a refusal, which must be in the API's envelope."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    (error,) = body["errors"]
    assert error["status"] is False
    return response.status_code, error["code"], error["message"]
