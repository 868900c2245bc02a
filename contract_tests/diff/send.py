"""Send each pair's requests, one to each target at the same time, and keep what came
back. A request that gets no answer (a timeout, a refused connection, the request budget
spent) is kept as such: it is compared too."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from contract_tests.diff.plan import Pair
from contract_tests.limits import BudgetExhaustedError
from contract_tests.plans.requests import Request
from contract_tests.reach import UnsafeRequestError
from contract_tests.target import Target


@dataclass(frozen=True)
class Answer:
    """What one target answered to one request, or why it did not."""

    request: str
    """The request as a curl command, or as described when it could not be sent."""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Every response header, by lower-case name."""
    body: bytes = b""
    shown: str = ""
    """The response as a person reads it: status, content type, body."""
    problem: str | None = None
    """Why there is no answer: ``timed out``, ``--max-requests 100 reached``..."""

    @property
    def answered(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Sent:
    """One pair and both answers."""

    pair: Pair
    answers: dict[str, Answer]


def send_pairs(
    targets: dict[str, Target],
    pairs: list[Pair],
    progress: Callable[[int, Sent], None] = lambda done, sent: None,
) -> list[Sent]:
    """Each pair to both targets at once; ``progress`` hears of each pair once done."""
    results: list[Sent] = []
    with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="capmock-diff") as pool:
        for pair in pairs:
            futures = {
                side: pool.submit(_send, target, pair.cases[side].request)
                for side, target in targets.items()
            }
            sent = Sent(pair, {side: future.result() for side, future in futures.items()})
            results.append(sent)
            progress(len(results), sent)
    return results


def _send(target: Target, request: Request) -> Answer:
    described = request.describe(target.base_url)
    try:
        exchange = request.send(target)
    except (BudgetExhaustedError, UnsafeRequestError) as error:
        return Answer(described, problem=str(error))
    except httpx.TimeoutException:
        return Answer(described, problem=f"no answer within {target.timeout:g} s")
    except httpx.HTTPError as error:
        return Answer(described, problem=f"no answer: {error}")
    return Answer(
        exchange.curl(),
        exchange.status,
        exchange.response_headers,
        exchange.response_body,
        exchange.describe_response(),
    )
