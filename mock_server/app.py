"""Build the mock: the Connexion app over the contract, wired to a store.

This is the HTTP layer. It turns every refusal, Connexion's own included, into the
API's error envelope, so that no client ever sees problem+json or a bare 500.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import connexion
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.resolver import Resolver
from connexion.security import ApiKeySecurityHandler, BasicSecurityHandler
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from capmock.paths import ADMIN_CONTRACT, CONTRACT
from mock_server.admin import AdminApi
from mock_server.auth import Authenticator, require_points
from mock_server.errors import ApiError, Code
from mock_server.fastlane import FastLane
from mock_server.fixtures import load_fixtures
from mock_server.handlers import CapillaryApi
from mock_server.model import World
from mock_server.runtime import Runtime
from mock_server.store import MemoryStore, Store, open_store
from mock_server.validation import VALIDATOR_MAP, PathParameterGuard

logger = logging.getLogger("capmock")

STORE_ENV = "CAPMOCK_STORE"
FIXTURES_ENV = "CAPMOCK_FIXTURES"
ADMIN_TOKEN_ENV = "CAPMOCK_ADMIN_TOKEN"
TOKEN_SECRET_ENV = "CAPMOCK_TOKEN_SECRET"


def create_app(
    world: World | None = None,
    *,
    store: Store | None = None,
    admin_token: str | None = None,
    token_secret: str | None = None,
    clock: Callable[[], float] = time.time,
    validate_responses: bool = False,
    fast_lane: bool = True,
) -> ASGIApp:
    """An ASGI app serving the Capillary contract and the admin API.

    Give either the ``world`` (kept in a memory store) or a ``store`` holding one; the
    app closes the store when it shuts down.
    ``token_secret`` signs OAuth tokens; workers that share it accept each other's.
    ``fast_lane`` serves valid deductions without Connexion's per-request machinery
    (see ``fastlane.py``); turn it off to have Connexion see every request, e.g. to
    validate responses against the contract.
    """
    if store is None:
        if world is None:
            raise ValueError("create_app needs a world or a store")
        store = MemoryStore(world)
    auth = Authenticator(store.world, token_secret or secrets.token_hex(32), clock)
    runtime = Runtime(store=store, auth=auth, admin_token=admin_token, clock=clock)

    app = connexion.AsyncApp(__name__, lifespan=_closing(store))
    common: dict[str, Any] = {
        "validator_map": VALIDATOR_MAP,
        "validate_responses": validate_responses,
    }
    api = CapillaryApi(runtime)
    app.add_api(
        CONTRACT,
        resolver=_methods_of(api),
        security_map=_security_map(auth),
        **common,
    )
    app.add_api(
        ADMIN_CONTRACT,
        resolver=_methods_of(AdminApi(runtime)),
        **common,
    )
    app.add_middleware(PathParameterGuard, position=MiddlewarePosition.BEFORE_ROUTING)
    _install_error_handlers(app, store)
    return FastLane(app, api) if fast_lane else app


def app_from_env() -> ASGIApp:
    """The app of one uvicorn worker (``factory=True``), configured by the environment.

    ``capmock serve --workers N`` loads the fixtures into the store once, then starts
    the workers with ``CAPMOCK_STORE`` (the store URL; each worker serves the world the
    store holds), ``CAPMOCK_TOKEN_SECRET`` (one secret, so that every worker accepts
    the OAuth tokens any of them issued) and ``CAPMOCK_ADMIN_TOKEN``. When
    ``CAPMOCK_FIXTURES`` names a file, it is loaded into the store first, as
    ``capmock serve --fixtures`` does.
    """
    fixtures = os.environ.get(FIXTURES_ENV)
    store = open_store(
        os.environ.get(STORE_ENV, "memory"), load_fixtures(fixtures) if fixtures else None
    )
    return create_app(
        store=store,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        token_secret=os.environ.get(TOKEN_SECRET_ENV) or None,
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


def _security_map(auth: Authenticator) -> dict[str, type]:
    """Connexion's Basic and API-key handlers, pointed at this app's authenticator."""

    async def basic(username: str, password: str) -> dict[str, Any]:
        principal = require_points(await auth.basic(username, password))
        return {"sub": principal.name}

    async def token(token: str, required_scopes: Any = None) -> dict[str, Any]:
        principal = require_points(await auth.token(token))
        return {"sub": principal.name}

    class Basic(BasicSecurityHandler):
        def _resolve_func(self, security_scheme: dict) -> Callable:
            return basic

    class ApiKey(ApiKeySecurityHandler):
        def _resolve_func(self, security_scheme: dict) -> Callable:
            return token

    return {"basic": Basic, "apiKey": ApiKey}


def _install_error_handlers(app: connexion.AsyncApp, store: Store) -> None:
    async def api_error(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        assert isinstance(error, ApiError)
        world = await store.world()
        return _envelope(error, error.status(world.error_status))

    async def http_error(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        assert isinstance(error, HTTPException)
        api_error = _from_http(request, error)
        world = await store.world()
        return _envelope(api_error, api_error.status(world.error_status), error.headers)

    def unexpected(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        logger.error("unexpected error", exc_info=error)
        return _envelope(ApiError.of(Code.INTERNAL_ERROR, detail=type(error).__name__), 500)

    app.add_error_handler(ApiError, api_error)
    app.add_error_handler(ProblemException, http_error)
    app.add_error_handler(HTTPException, http_error)
    app.add_error_handler(Exception, unexpected)


def _from_http(request: ConnexionRequest, error: HTTPException) -> ApiError:
    """The envelope code for a refusal that Connexion or Starlette raised itself."""
    if isinstance(error, UnsupportedMediaTypeProblem):
        return ApiError.of(
            Code.UNSUPPORTED_MEDIA_TYPE, content_type=request.headers.get("content-type", "none")
        )
    status = error.status_code
    if status == 401:
        return ApiError.of(Code.AUTHENTICATION_FAILED)
    if status == 403:
        return ApiError.of(Code.ACCESS_DENIED, principal="the caller")
    if status == 404:
        return ApiError.of(Code.NOT_FOUND, method=request.method, path=request.url.path)
    if status == 405:
        return ApiError.of(Code.METHOD_NOT_ALLOWED, method=request.method, path=request.url.path)
    if status == 415:
        return ApiError.of(Code.UNSUPPORTED_MEDIA_TYPE, content_type="none")
    if 400 <= status < 500:
        detail = getattr(error, "detail", None) or "bad request"
        return ApiError.of(Code.INVALID_INPUT, detail=detail)
    return ApiError.of(Code.INTERNAL_ERROR, detail=str(getattr(error, "detail", status)))


def _envelope(
    error: ApiError, status: int, headers: Mapping[str, str] | None = None
) -> ConnexionResponse:
    """The error envelope; ``headers`` keeps what HTTP requires, e.g. Allow on a 405."""
    return ConnexionResponse(
        status_code=status,
        headers=dict(headers or {}),
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(error.envelope()),
    )
