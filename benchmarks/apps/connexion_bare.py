"""Connexion 3 by itself: an AsyncApp over the contract with a trivial handler.

Routing, parameter parsing and request validation against the contract with
Connexion's default validators; no security (the harness hands in a copy of the
contract without it), no state, no custom error handlers. What the framework costs.
"""

import argparse
from typing import Any

import connexion
from connexion.resolver import Resolver

from benchmarks.apps import FIXED_BODY, serve


async def handler(*_args: Any, **_kwargs: Any) -> tuple[dict[str, Any], int]:
    return FIXED_BODY, 200


def create_app(spec: str) -> connexion.AsyncApp:
    app = connexion.AsyncApp(__name__)
    app.add_api(spec, resolver=Resolver(function_resolver=lambda _operation_id: handler))
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True)
    known, _ = parser.parse_known_args()
    serve(create_app(known.spec), __doc__)
