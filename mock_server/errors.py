"""The error catalogue: every code the mock can answer with, its message and HTTP status.

Codes outside 9100-9199 are Capillary's own, with the texts of its pages. 8136 has
several documented texts (which of the allocation's ids was not found), so its message
is the text itself. Codes 9100-9199 are capmock's, for refusals the seed asks for but
gives no code for; docs/rules.md lists them. The HTTP status of any code can be
overridden per fixture (``errorStatus``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Code(IntEnum):
    INVALID_SOURCE = 8003
    INVALID_IDENTIFIER = 8013
    CUSTOMER_NOT_FOUND = 8015
    INVALID_PROMOTION = 8874
    INVALID_AWARD = 8877
    REASON_MISSING = 8882
    PROGRAM_ID_REQUIRED = 8887
    AMOUNT_ZERO = 8888
    TOO_MANY_DECIMALS = 8906
    INSUFFICIENT_BALANCE = 8907
    UNKNOWN_CURRENCY = 8911
    INVALID_REF_TYPE = 9975
    NOT_ENROLLED = 1218
    INVALID_ENTITY_TYPE = 1212
    DUPLICATE_UNIQUE_ID = 6006
    ALLOCATION_REFUSED = 8136
    NO_LEDGER_ENTRIES = 11003
    INVALID_LEDGER_ENTRY_TYPE = 11007
    INVALID_POINT_CATEGORY_TYPE = 11008
    LIMIT_TOO_LARGE = 11029
    # capmock's own codes
    MALFORMED_JSON = 9100
    BODY_NOT_OBJECT = 9101
    UNSUPPORTED_MEDIA_TYPE = 9102
    AMOUNT_MISSING = 9103
    AMOUNT_NOT_A_NUMBER = 9104
    AMOUNT_NEGATIVE = 9105
    AMOUNT_TOO_LARGE = 9106
    REASON_TOO_LONG = 9107
    INVALID_CATEGORY = 9108
    PROMOTION_ID_AND_IDENTIFIER = 9109
    INVALID_INPUT = 9110
    NOT_FOUND = 9111
    METHOD_NOT_ALLOWED = 9112
    AUTHENTICATION_FAILED = 9113
    ACCESS_DENIED = 9114
    TOKEN_INVALID = 9115
    INVALID_CLIENT = 9116
    ADMIN_TOKEN_REQUIRED = 9117
    INVALID_FIXTURES = 9118
    # capmock's limits (9130-9139)
    BODY_TOO_LARGE = 9130
    HEADERS_TOO_LARGE = 9131
    REQUEST_TIMEOUT = 9132
    TOO_MANY_CONNECTIONS = 9133
    # sessions (9140-9149)
    UNKNOWN_SESSION = 9140
    TOO_MANY_SESSIONS = 9141
    # what the lookup, balance, ledger and allocate endpoints refuse without a Capillary code
    BATCH_SIZE = 9150
    NOT_SUPPORTED = 9151
    WRONG_ORG = 9152
    INVALID_DATE_RANGE = 9153
    SOURCE_VALUE_NEGATIVE = 9154
    STORE_UNAVAILABLE = 9190
    OUTCOME_UNKNOWN = 9191
    BODY_INCOMPLETE = 9192
    RATE_LIMITED = 9193
    INTERNAL_ERROR = 9199


MESSAGES: dict[Code, str] = {
    Code.INVALID_SOURCE: "Invalid source",
    Code.INVALID_IDENTIFIER: "Lookup,Invalid identifier passed",
    Code.CUSTOMER_NOT_FOUND: "Customer not found for the given identifiers",
    Code.INVALID_PROMOTION: "promotion id passed is invalid",
    Code.INVALID_AWARD: "points awarded Id passed is invalid",
    Code.REASON_MISSING: "Reason for adjustment cannot be null",
    Code.PROGRAM_ID_REQUIRED: "Provide Program Id with Promotion Identifier",
    Code.AMOUNT_ZERO: "Points to be adjusted cannot be zero",
    Code.TOO_MANY_DECIMALS: (
        "decimal places passed: {places} is greater than the configured round decimals: "
        "{decimals} for programId: {program_id}"
    ),
    Code.INSUFFICIENT_BALANCE: (
        "points to be deducted {amount} is greater than available points for program "
        "and NegativeBalanceOnReturn config is disabled for org."
    ),
    Code.UNKNOWN_CURRENCY: "No alternate currency with name {name} found for programId in org",
    Code.INVALID_REF_TYPE: "Points awarded ref type is invalid",
    Code.NOT_ENROLLED: (
        "Customer not enrolled in loyalty program : customer not found for programId {program_id}"
    ),
    Code.INVALID_ENTITY_TYPE: "Entity type passed is not valid",
    Code.DUPLICATE_UNIQUE_ID: "event already exists for the uniqueid",
    Code.ALLOCATION_REFUSED: "{detail}",
    Code.NO_LEDGER_ENTRIES: (
        "There are no ledger entries present for the given parameters. Try removing parameters "
        "to widen the search."
    ),
    Code.INVALID_LEDGER_ENTRY_TYPE: "Invalid ledgerEntryType passed in request",
    Code.INVALID_POINT_CATEGORY_TYPE: "Invalid pointCategoryType passed in request",
    Code.LIMIT_TOO_LARGE: "Limit cannot be greater than 100",
    Code.MALFORMED_JSON: "Request body is not valid JSON: {detail}",
    Code.BODY_NOT_OBJECT: "Request body must be a JSON object",
    Code.UNSUPPORTED_MEDIA_TYPE: "Content-Type must be application/json, got {content_type}",
    Code.AMOUNT_MISSING: "{field} is required",
    Code.AMOUNT_NOT_A_NUMBER: "{field} must be a number, got {value}",
    Code.AMOUNT_NEGATIVE: "{field} must be greater than 0, got {value}",
    Code.AMOUNT_TOO_LARGE: "{field} must be at most 1000000000000, got {value}",
    Code.REASON_TOO_LONG: "reasonOfReturn must be at most 50 characters, got {length}",
    Code.INVALID_CATEGORY: (
        "pointCategoryTypes must be one of REGULAR, PROMISED, EXTERNAL_TRIGGER_BASED, got {value}"
    ),
    Code.PROMOTION_ID_AND_IDENTIFIER: "Provide either promotionId or promotionIdentifier, not both",
    Code.INVALID_INPUT: "Input is invalid: {detail}",
    Code.NOT_FOUND: "No such resource: {method} {path}",
    Code.METHOD_NOT_ALLOWED: "Method {method} is not allowed on {path}",
    Code.AUTHENTICATION_FAILED: "Authentication failed. Please check username and password.",
    Code.ACCESS_DENIED: "Access denied: {principal} is not in the Points access group",
    Code.TOKEN_INVALID: "Authentication failed. The OAuth token is invalid or has expired.",
    Code.INVALID_CLIENT: "Invalid key or secret",
    Code.ADMIN_TOKEN_REQUIRED: "The admin API needs the admin token (header X-CAPMOCK-ADMIN-TOKEN)",
    Code.INVALID_FIXTURES: "Fixtures refused: {detail}",
    Code.BODY_TOO_LARGE: "Request body too large: this mock takes at most {limit} bytes here",
    Code.HEADERS_TOO_LARGE: "Request line and headers too large: at most {limit} bytes",
    Code.REQUEST_TIMEOUT: "Request body not received within {seconds} seconds",
    Code.TOO_MANY_CONNECTIONS: (
        "Too many connections: this mock serves at most {limit} at once; try again"
    ),
    Code.UNKNOWN_SESSION: "No session {session}: it expired, was deleted or never existed",
    Code.TOO_MANY_SESSIONS: "Too many sessions: {count} are open, the most this mock keeps",
    Code.BATCH_SIZE: "manualCurrencyAllocate takes 1 to {limit} items, got {count}",
    Code.NOT_SUPPORTED: "capmock does not support {what}",
    Code.WRONG_ORG: "orgId {org_id} is not this org ({expected})",
    Code.INVALID_DATE_RANGE: "Invalid date range: {detail}",
    Code.SOURCE_VALUE_NEGATIVE: (
        "sourceValue must be 0 or more with award strategy {strategy_id}, which awards per "
        "unit; got {value}"
    ),
    Code.STORE_UNAVAILABLE: "The mock's store is unavailable and nothing was changed: {detail}",
    Code.OUTCOME_UNKNOWN: (
        "The store failed while the change was being written: it may or may not have been "
        "made. Check before sending it again: {detail}"
    ),
    Code.BODY_INCOMPLETE: "The request body did not arrive in full: {detail}",
    Code.RATE_LIMITED: (
        "Too many requests: this API key has used up its rate limit. Retry after the "
        "seconds Retry-After gives"
    ),
    Code.INTERNAL_ERROR: "Internal error in the mock: {detail}",
}

STATUS: dict[Code, int] = {
    Code.DUPLICATE_UNIQUE_ID: 409,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.NOT_FOUND: 404,
    Code.METHOD_NOT_ALLOWED: 405,
    Code.AUTHENTICATION_FAILED: 401,
    Code.TOKEN_INVALID: 401,
    Code.INVALID_CLIENT: 401,
    Code.ADMIN_TOKEN_REQUIRED: 401,
    Code.ACCESS_DENIED: 403,
    Code.BODY_TOO_LARGE: 413,
    Code.HEADERS_TOO_LARGE: 431,
    Code.REQUEST_TIMEOUT: 408,
    Code.TOO_MANY_CONNECTIONS: 503,
    Code.STORE_UNAVAILABLE: 503,
    Code.OUTCOME_UNKNOWN: 503,
    Code.RATE_LIMITED: 429,
    Code.INTERNAL_ERROR: 500,
    Code.TOO_MANY_SESSIONS: 429,
}
"""HTTP status of the codes that are not plain invalid input; every other code is 400."""

_CAPILLARY = 'Basic realm="capmock", ApiKey realm="capmock", header="X-CAP-API-OAUTH-TOKEN"'
CHALLENGES: dict[Code, str] = {
    Code.AUTHENTICATION_FAILED: _CAPILLARY,
    Code.TOKEN_INVALID: _CAPILLARY,
    Code.INVALID_CLIENT: 'KeySecret realm="capmock"',
    Code.ADMIN_TOKEN_REQUIRED: 'ApiKey realm="capmock admin", header="X-CAPMOCK-ADMIN-TOKEN"',
}
"""The WWW-Authenticate of each 401: every way to authenticate where it was refused.
``ApiKey`` names the header of a token; ``KeySecret`` the key and secret of the token
endpoint's JSON body. Neither has a registered scheme, so each is named for what it
asks for."""
HEADERS: dict[Code, dict[str, str]] = {
    Code.STORE_UNAVAILABLE: {"Retry-After": "1"},
    Code.RATE_LIMITED: {"Retry-After": "1"},
}
"""Headers that come with a code: a client may send again a request that changed nothing
(9190), but not one whose outcome is unknown (9191), so only the first says when. A rate
limit's 429 (9193) says when its window closes; 1 when a fault forces the code."""


class ApiError(Exception):
    """A refusal, as the API reports it: a code and its message with the values filled in."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(f"{int(code)} {message}")
        self.code = code
        self.message = message

    @classmethod
    def of(cls, code: Code, **values: object) -> ApiError:
        return cls(code, MESSAGES[code].format(**values))

    def status(self, overrides: dict[int, int] | None = None) -> int:
        """The HTTP status for this error, after the fixture's ``errorStatus`` overrides."""
        if overrides and int(self.code) in overrides:
            return overrides[int(self.code)]
        return STATUS.get(self.code, 400)

    def headers(self) -> dict[str, str]:
        return HEADERS.get(self.code, {})

    @property
    def status_code(self) -> int:
        """The default status; Connexion reads it to pick 403 over 401 among auth failures."""
        return self.status()

    def challenge(self, status: int) -> dict[str, str]:
        """The headers a refusal with this status needs: WWW-Authenticate on a 401."""
        if status == 401 and self.code in CHALLENGES:
            return {"WWW-Authenticate": CHALLENGES[self.code]}
        return {}

    def explain(self) -> str:
        """Why this answer: the code and its message (a ``RuleError`` also names its row)."""
        return f"{int(self.code)}: {self.message}"

    def envelope(self) -> dict[str, Any]:
        return {
            "errors": [{"status": False, "code": int(self.code), "message": self.message}],
            "warnings": [],
        }


class RuleError(ApiError):
    """A refusal by one row of a rules table, with the reason in terms of the fixture data,
    so that an explanation is the decision itself and cannot drift from the rules."""

    def __init__(self, rule: int, code: Code, reason: str, **values: object) -> None:
        super().__init__(code, MESSAGES[code].format(**values))
        self.rule = rule
        self.reason = reason

    def explain(self) -> str:
        return f"rule {self.rule} ({int(self.code)}): {self.reason}"
