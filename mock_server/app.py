"""Build the mock: the Connexion app over the contract, wired to a store, behind the
fast lane. The only module that wires the parts together."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import connexion
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.types import ASGIApp

from mock_server.admin.api import AdminApi
from mock_server.auth import Authenticator
from mock_server.data import ADMIN_CONTRACT, CONTRACT
from mock_server.fixtures import load_fixtures
from mock_server.instrument.failures import Failures
from mock_server.instrument.journal import JOURNAL_SIZE
from mock_server.instrument.middleware import Instrument
from mock_server.lanes.connexion import install_error_handlers, security_map
from mock_server.lanes.fast import FastLane
from mock_server.lanes.headers import MediaTypes, RelativeRedirects
from mock_server.lanes.validation import VALIDATOR_MAP, PathParameterGuard
from mock_server.limits import Limits
from mock_server.limits.body import BodyLimits
from mock_server.model import World
from mock_server.operations.api import CapillaryApi
from mock_server.runtime import Runtime
from mock_server.stores.base import LEDGER_TOTAL, MAX_SESSIONS, Store, world_or_last
from mock_server.stores.memory import MemoryStore
from mock_server.stores.open import open_store
from mock_server.swagger import ContractDocuments, Served

STORE_ENV = "CAPMOCK_STORE"
FIXTURES_ENV = "CAPMOCK_FIXTURES"
ADMIN_TOKEN_ENV = "CAPMOCK_ADMIN_TOKEN"
TOKEN_SECRET_ENV = "CAPMOCK_TOKEN_SECRET"
LEDGER_ENTRIES_ENV = "CAPMOCK_LEDGER_ENTRIES"
JOURNAL_SIZE_ENV = "CAPMOCK_JOURNAL_SIZE"
MAX_SESSIONS_ENV = "CAPMOCK_MAX_SESSIONS"


def create_app(
    world: World | None = None,
    *,
    store: Store | None = None,
    admin_token: str | None = None,
    token_secret: str | None = None,
    clock: Callable[[], float] = time.time,
    validate_responses: bool = False,
    fast_lane: bool = True,
    limits: Limits | None = None,
    journal_size: int = JOURNAL_SIZE,
    max_sessions: int = MAX_SESSIONS,
) -> ASGIApp:
    """An ASGI app serving the Capillary contract and the admin API.

    Give either the ``world`` (kept in a memory store) or a ``store`` holding one; the
    app closes the store when it shuts down.
    ``token_secret`` signs OAuth tokens; workers that share it accept each other's.
    Without it, the store's secret is used: a shared store (sqlite, redis) holds one for
    every worker and replica that uses it.
    ``fast_lane`` serves valid deductions without Connexion's per-request machinery
    (see ``lanes/fast.py``); turn it off to have Connexion see every request, e.g. to
    validate responses against the contract. ``limits`` bounds request bodies (the
    server's protocol bounds heads and connections: ``mock_server/limits``).
    ``journal_size`` bounds the request journal (0 turns it off); ``max_sessions`` caps
    the sessions open at once.
    """
    if store is None:
        if world is None:
            raise ValueError("create_app needs a world or a store")
        store = MemoryStore(world)
    shared = store
    auth = Authenticator(
        lambda session: world_or_last(shared, session), token_secret or store.token_secret, clock
    )
    journal = store.journal(journal_size) if journal_size > 0 else None
    runtime = Runtime(
        store=store,
        auth=auth,
        admin_token=admin_token,
        clock=clock,
        journal=journal,
        max_sessions=max_sessions,
    )

    app = connexion.AsyncApp(__name__, lifespan=_closing(store))
    common: dict[str, Any] = {
        "validator_map": VALIDATOR_MAP,
        "validate_responses": validate_responses,
        "swagger_ui_options": SwaggerUIOptions(serve_spec=False),  # ContractDocuments does
    }
    api = CapillaryApi(runtime)
    app.add_api(
        CONTRACT,
        resolver=_methods_of(api),
        security_map=security_map(auth),
        **common,
    )
    app.add_api(
        ADMIN_CONTRACT,
        resolver=_methods_of(AdminApi(runtime)),
        **common,
    )
    app.add_middleware(PathParameterGuard, position=MiddlewarePosition.BEFORE_ROUTING)
    install_error_handlers(app, store)
    documented = ContractDocuments(
        app,
        [
            Served(CONTRACT, "this capmock (the address of this page)"),
            Served(ADMIN_CONTRACT, "this capmock's admin API"),
        ],
    )
    lanes: ASGIApp = RelativeRedirects(documented)
    if fast_lane:
        lanes = FastLane(lanes, api)
    limits = limits or Limits()
    failing = Failures(lanes, store, clock, limits)
    return Instrument(BodyLimits(MediaTypes(failing), limits), journal)


def app_from_env() -> ASGIApp:
    """The app of one uvicorn worker (``factory=True``), configured by the environment.

    ``capmock serve --workers N`` loads the fixtures into the store once, then starts
    the workers with ``CAPMOCK_STORE`` (the store URL; each worker serves the world the
    store holds), ``CAPMOCK_LEDGER_ENTRIES``, ``CAPMOCK_JOURNAL_SIZE``,
    ``CAPMOCK_MAX_SESSIONS``, ``CAPMOCK_LIMITS`` (``mock_server/limits``),
    ``CAPMOCK_ADMIN_TOKEN`` and, when it was given, ``CAPMOCK_TOKEN_SECRET`` (else every
    worker signs OAuth tokens with the secret the shared store holds). When
    ``CAPMOCK_FIXTURES`` names a file, it is loaded into the store first, as ``capmock
    serve --fixtures`` does.
    """
    fixtures = os.environ.get(FIXTURES_ENV)
    entries = os.environ.get(LEDGER_ENTRIES_ENV)
    journal_size = os.environ.get(JOURNAL_SIZE_ENV)
    max_sessions = os.environ.get(MAX_SESSIONS_ENV)
    store = open_store(
        os.environ.get(STORE_ENV, "memory"),
        load_fixtures(fixtures) if fixtures else None,
        ledger_total=int(entries) if entries else LEDGER_TOTAL,
    )
    return create_app(
        store=store,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        token_secret=os.environ.get(TOKEN_SECRET_ENV) or None,
        limits=Limits.from_environ(),
        journal_size=int(journal_size) if journal_size else JOURNAL_SIZE,
        max_sessions=int(max_sessions) if max_sessions else MAX_SESSIONS,
    )


def _closing(store: Store) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan that closes the store on shutdown, in the loop that used it."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await store.close()

    return lifespan


def _methods_of(handlers: object) -> Resolver:
    """Resolve each operationId to the method of that name on ``handlers``."""
    return Resolver(function_resolver=lambda operation_id: getattr(handlers, operation_id))
