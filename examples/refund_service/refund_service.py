"""A tiny refund service, written as an integrator would: when an order is refunded, the
loyalty points it earned are taken back from the customer through Capillary's
negativePointsAdjustment, and the customer is told what happened."""

from __future__ import annotations

import hashlib

import httpx

DEDUCT = "/v2/customers/{user_id}/negativePointsAdjustment"
ALREADY_SPENT = 8907


class RefundError(Exception):
    """Capillary refused the deduction for a reason the customer cannot act on."""


class RefundService:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        # Capillary's Basic auth sends the MD5 of the password, not the password.
        secret = hashlib.md5(password.encode()).hexdigest()
        self.client = httpx.Client(
            base_url=base_url, auth=(username, secret), headers=headers or {}, timeout=10
        )

    def refund(self, customer_id: int, order_id: str, points: int) -> str:
        """Take back the points of a refunded order; the message shown to the customer."""
        response = self.client.post(
            DEDUCT.format(user_id=customer_id),
            params={"source": "INSTORE"},
            json={
                "pointsToBeAdjusted": str(points),
                "reasonOfReturn": f"Refund of order {order_id}",
            },
        )
        if response.status_code == 200:
            left = response.json()["pointsAvailable"]
            return f"{points} points were taken back for order {order_id}; you have {left} left."
        error = response.json()["errors"][0]
        if error["code"] == ALREADY_SPENT:
            return (
                f"The {points} points of order {order_id} were already spent, so none were "
                "taken back."
            )
        raise RefundError(f"{error['code']}: {error['message']}")
