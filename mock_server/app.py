"""Build the mock: the Connexion app over the contract, wired to a store.

This is the HTTP layer. It turns every refusal, Connexion's own included, into the
API's error envelope, so that no client ever sees problem+json or a bare 500.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import connexion
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.resolver import Resolver
from connexion.security import ApiKeySecurityHandler, BasicSecurityHandler
from starlette.exceptions import HTTPException

from capmock.paths import ADMIN_CONTRACT, CONTRACT
from mock_server.admin import AdminApi
from mock_server.auth import Authenticator, require_points
from mock_server.errors import ApiError, Code
from mock_server.handlers import CapillaryApi
from mock_server.model import World
from mock_server.runtime import Runtime
from mock_server.store import MemoryStore, Store
from mock_server.validation import VALIDATOR_MAP, path_parameter_error

logger = logging.getLogger("capmock")


def create_app(
    world: World | None = None,
    *,
    store: Store | None = None,
    admin_token: str | None = None,
    token_secret: str | None = None,
    clock: Callable[[], float] = time.time,
    validate_responses: bool = False,
) -> connexion.AsyncApp:
    """An ASGI app serving the Capillary contract and the admin API.

    Give either the ``world`` (kept in a memory store) or a ``store`` holding one.
    ``token_secret`` signs OAuth tokens; workers that share it accept each other's.
    """
    if store is None:
        if world is None:
            raise ValueError("create_app needs a world or a store")
        store = MemoryStore(world)
    auth = Authenticator(store.world, token_secret or secrets.token_hex(32), clock)
    runtime = Runtime(store=store, auth=auth, admin_token=admin_token, clock=clock)

    app = connexion.AsyncApp(__name__)
    common: dict[str, Any] = {
        "validator_map": VALIDATOR_MAP,
        "validate_responses": validate_responses,
    }
    app.add_api(
        CONTRACT,
        resolver=_methods_of(CapillaryApi(runtime)),
        security_map=_security_map(auth),
        **common,
    )
    app.add_api(
        ADMIN_CONTRACT,
        resolver=_methods_of(AdminApi(runtime)),
        **common,
    )
    _install_error_handlers(app, store)
    return app


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

    def http_error(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        assert isinstance(error, HTTPException)
        api_error = _from_http(request, error)
        return _envelope(api_error, api_error.status(), headers=error.headers)

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
        return path_parameter_error(request.url.path) or ApiError.of(
            Code.NOT_FOUND, method=request.method, path=request.url.path
        )
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
    """The error envelope, keeping the headers HTTP demands (``Allow`` on a 405)."""
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(error.envelope()),
        headers=dict(headers or {}),
    )
