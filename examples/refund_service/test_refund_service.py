"""The refund service's tests, against capmock: ``pip install capmock`` brings the pytest
plugin, so ``capmock_session`` is there without any configuration."""

from __future__ import annotations

import pytest
from refund_service import RefundService

CUSTOMER = 388034468  # capmock's default fixtures: 680 REGULAR points


@pytest.fixture
def service(capmock_session):
    """The service, pointed at this test's own session of the mock."""
    return RefundService(
        capmock_session.url, "store.server", "server123", headers=capmock_session.headers
    )


def test_a_refund_sends_exactly_one_deduction_with_the_order_as_reason(service, capmock_session):
    message = service.refund(CUSTOMER, "A-1001", 10)

    assert message == "10 points were taken back for order A-1001; you have 670.000 left."
    capmock_session.verify(
        count=1,
        operation="deductPoints",
        user_id=CUSTOMER,
        body={"reasonOfReturn": "Refund of order A-1001", "pointsToBeAdjusted": "10"},
    )


def test_points_already_spent_get_the_right_message(service, capmock_session):
    message = service.refund(CUSTOMER, "A-1002", 681)

    assert message == "The 681 points of order A-1002 were already spent, so none were taken back."
    (request,) = capmock_session.requests()
    assert request["code"] == 8907
    assert capmock_session.explain(request["id"]) == (
        "rule 26 (8907): REGULAR balance of program 973 is 680.000; asked 681, and the org "
        "does not allow negative balances"
    )
    ledger = capmock_session.customer(CUSTOMER)["ledger"]
    assert ledger == []  # nothing was taken


def test_each_test_starts_from_the_fixtures(service):
    # the deduction of the first test happened in another session
    assert service.refund(CUSTOMER, "A-1003", 10).endswith("you have 670.000 left.")
