"""The Connexion lane: Basic and API-key security pointed at the mock's authenticator,
and every refusal, Connexion's own included, turned into the API's error envelope, so
that no client ever sees problem+json or a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import connexion
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.security import ApiKeySecurityHandler, BasicSecurityHandler
from starlette.exceptions import HTTPException

from mock_server.auth import (
    CLEAR_PASSWORD_HINT,
    Authenticator,
    ClearPasswordError,
    refused,
    require_points,
)
from mock_server.errors import ApiError, Code
from mock_server.instrument.context import current, note
from mock_server.lanes.render import render
from mock_server.lanes.routes import allowed_methods
from mock_server.lanes.validation import ShapeError, shape
from mock_server.stores.base import Store, StoreUnavailableError

logger = logging.getLogger("capmock")


def security_map(auth: Authenticator) -> dict[str, type]:
    """Connexion's Basic and API-key handlers, pointed at this app's authenticator."""

    async def basic(username: str, password: str, request: ConnexionRequest) -> dict[str, Any]:
        principal = require_points(await auth.basic(username, password, _session(request)))
        return {"sub": principal.name}

    async def token(
        token: str, request: ConnexionRequest, required_scopes: Any = None
    ) -> dict[str, Any]:
        principal = require_points(await auth.token(token, _session(request)))
        return {"sub": principal.name}

    class Basic(BasicSecurityHandler):
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., Any]:
            return basic

    class ApiKey(ApiKeySecurityHandler):
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., Any]:
            return token

    return {"basic": Basic, "apiKey": ApiKey}


def _operation(request: ConnexionRequest) -> str | None:
    """The operationId the instruments gave the request, if they know it."""
    exchange = current(request.scope)
    return exchange.operation if exchange else None


def _session(request: ConnexionRequest) -> str | None:
    exchange = current(request.scope)
    return exchange.session if exchange else None


def install_error_handlers(app: connexion.AsyncApp, store: Store) -> None:
    """Every refusal in the envelope, rendered without asking the store: the statuses the
    fixtures give codes are those of the last world served, so that errors are still
    answered while the store cannot be reached."""

    def api_error(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        assert isinstance(error, ApiError)
        _log_hint(error)
        if isinstance(error, ShapeError):
            error.for_operation(_operation(request))
        note(request.scope, error)
        return _envelope(error, store.last_world.error_status, challenge=_challenged(request))

    def store_unavailable(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        assert isinstance(error, StoreUnavailableError)
        note(request.scope, error.refusal())
        return _envelope(error.refusal(), store.last_world.error_status)

    def http_error(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        assert isinstance(error, HTTPException)
        refusal = _from_http(request, error)
        if isinstance(refusal, ShapeError):
            refusal.for_operation(_operation(request))
        note(request.scope, refusal)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request.url.path) or headers.get("Allow", "")
        return _envelope(
            refusal, store.last_world.error_status, headers, challenge=_challenged(request)
        )

    def unexpected(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        logger.error("unexpected error", exc_info=error)
        refusal = ApiError.of(Code.INTERNAL_ERROR, detail=type(error).__name__)
        note(request.scope, refusal)
        return _envelope(refusal, {})

    app.add_error_handler(ApiError, api_error)
    app.add_error_handler(StoreUnavailableError, store_unavailable)
    app.add_error_handler(ProblemException, http_error)
    app.add_error_handler(HTTPException, http_error)
    app.add_error_handler(Exception, unexpected)


def _log_hint(error: ApiError) -> None:
    """The server's half of the hint beside Capillary's answer (the header is the error's).

    The fast lane hands bad credentials to this lane, so the log line comes from here once
    per request, whichever lane saw the request first."""
    if isinstance(error, ClearPasswordError):
        logger.warning(
            "401 (9113) for %s: the Basic password sent is the clear password; %s, e.g. "
            "printf %%s 'PASSWORD' | md5sum",
            error.username,
            CLEAR_PASSWORD_HINT,
        )


def _from_http(request: ConnexionRequest, error: HTTPException) -> ApiError:
    """The envelope code for a refusal that Connexion or Starlette raised itself."""
    if isinstance(error, UnsupportedMediaTypeProblem):
        content_type = request.headers.get("content-type", "none")
        return shape(
            Code.UNSUPPORTED_MEDIA_TYPE,
            f"the body's Content-Type is {content_type}, not JSON",
            content_type=content_type,
        )
    status = error.status_code
    if status == 401:
        return refused(
            "no credentials: neither Basic auth (Authorization) nor an OAuth token "
            "(X-CAP-API-OAUTH-TOKEN) was sent"
        )
    if status == 403:
        return ApiError.of(Code.ACCESS_DENIED, principal="the caller")
    if status == 404:
        return ApiError.of(Code.NOT_FOUND, method=request.method, path=request.url.path)
    if status == 405:
        return ApiError.of(Code.METHOD_NOT_ALLOWED, method=request.method, path=request.url.path)
    if status == 415:
        return shape(
            Code.UNSUPPORTED_MEDIA_TYPE, "the body has no Content-Type", content_type="none"
        )
    if 400 <= status < 500:
        detail = getattr(error, "detail", None) or "bad request"
        return shape(Code.INVALID_INPUT, str(detail), detail=detail)
    return ApiError.of(Code.INTERNAL_ERROR, detail=str(getattr(error, "detail", status)))


def _challenged(request: ConnexionRequest) -> bool:
    """Whether a 401 may carry WWW-Authenticate: not for a page's own fetch (Swagger UI's
    "Try it out"), where a Basic challenge would open the browser's password dialog."""
    mode: str = request.headers.get("sec-fetch-mode", "navigate")
    return mode == "navigate"


def _envelope(
    error: ApiError,
    error_status: dict[int, int],
    headers: Mapping[str, str] | None = None,
    *,
    challenge: bool = True,
) -> ConnexionResponse:
    """The error envelope; ``headers`` keeps what HTTP requires, e.g. Allow on a 405
    (every method the contract gives the path) and WWW-Authenticate on a 401."""
    status = error.status(error_status)
    return ConnexionResponse(
        status_code=status,
        headers={
            **(headers or {}),
            **error.headers(),
            **(error.challenge(status) if challenge else {}),
        },
        mimetype="application/json",
        content_type="application/json",
        body=render(error.envelope()),
    )
