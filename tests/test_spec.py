"""The OpenAPI documents are valid, and every example in them obeys its own schema.

openapi-spec-validator checks the documents' structure but not their examples, so the
examples are validated here, against their schemas with every ``$ref`` resolved (also
across files: ``admin.yaml`` borrows the error envelope of ``capillary.yaml``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from mock_server.data import ADMIN_CONTRACT, CONTRACT
from mock_server.errors import MESSAGES, STATUS, Code
from mock_server.schemas import explaining

DOCUMENTS = {"capillary": CONTRACT, "admin": ADMIN_CONTRACT}
DEDUCT_PATH = "/v2/customers/{userId}/negativePointsAdjustment"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

SEED_REQUEST_EXAMPLES = {
    "points-no-identifiers": {
        "pointCategoryTypes": "REGULAR",
        "pointsToBeAdjusted": "100.00",
        "reasonOfReturn": "Extra points were issued",
    },
    "points-awarded-id": {
        "pointsAwardedId": 38768508,
        "pointsAwardedRefType": "bill_regular",
        "pointCategoryTypes": "REGULAR",
        "pointsToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
    "points-promotion-id": {
        "promotionId": 79555,
        "pointsToBeAdjusted": "10",
        "pointCategoryTypes": "REGULAR",
        "reasonOfReturn": "Extra points were issued",
    },
    "points-promotion-identifier": {
        "promotionIdentifier": "b86ca53f-4c5e-46d3-8d33-b61c4f49392c",
        "programId": 973,
        "pointCategoryTypes": "REGULAR",
        "pointsToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
    "points-program-id": {
        "programId": 973,
        "pointCategoryTypes": "REGULAR",
        "pointsToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
    "currency-awarded-id": {
        "pointsAwardedId": 38768508,
        "pointsAwardedRefType": "bill_regular",
        "alternateCurrencyName": "coins",
        "pointCategoryTypes": "REGULAR",
        "valueToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
    "currency-promotion-id": {
        "promotionId": 79555,
        "alternateCurrencyName": "coins",
        "pointCategoryTypes": "REGULAR",
        "valueToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
    "currency-promotion-identifier": {
        "promotionIdentifier": "b86ca53f-4c5e-46d3-8d33-b61c4f49392c",
        "programId": 973,
        "alternateCurrencyName": "coins",
        "pointCategoryTypes": "REGULAR",
        "valueToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
    "currency-program-id": {
        "programId": 973,
        "alternateCurrencyName": "coins",
        "pointCategoryTypes": "REGULAR",
        "valueToBeAdjusted": "10",
        "reasonOfReturn": "Extra points were issued",
    },
}
"""The nine request examples of the vendor page, exactly as it shows them."""

SOURCES = (
    "INSTORE",
    "MARTJACK",
    "WECHAT",
    "FACEBOOK",
    "WEB_ENGAGE",
    "TMALL",
    "TAOBAO",
    "JD",
    "ECOMMERCE",
    "WEBSITE",
    "LINE",
    "ALL",
)
"""The vendor's source list, with its duplicate INSTORE removed."""


# --- loading and resolving -------------------------------------------------------


@cache
def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def _pointer(document: Any, fragment: str) -> Any:
    node = document
    for part in filter(None, fragment.split("/")):
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _follow(ref: str, base: Path) -> tuple[Any, Path]:
    """The node a ``$ref`` points to, and the file it lives in."""
    file_part, _, fragment = ref.partition("#")
    target = (base.parent / file_part).resolve() if file_part else base
    return _pointer(_load(target), fragment), target


def resolved(node: Any, base: Path, seen: tuple[str, ...] = ()) -> Any:
    """A deep copy of ``node`` with every ``$ref`` replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            key = f"{base}#{node['$ref']}"
            if key in seen:
                raise AssertionError(f"recursive $ref {node['$ref']} in {base.name}")
            target, target_base = _follow(node["$ref"], base)
            return resolved(target, target_base, (*seen, key))
        return {key: resolved(value, base, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(item, base, seen) for item in node]
    return copy.deepcopy(node)


def _operations(name: str) -> Iterator[tuple[str, str, dict]]:
    for path, item in _load(DOCUMENTS[name])["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, resolved(item[method], DOCUMENTS[name])


def _collect_examples() -> list[tuple[str, str, str, str, dict, Any]]:
    """Every named example: (document, operationId, where, name, schema, value).

    ``where`` is ``request`` or the response's status code.
    """
    found = []
    for doc in DOCUMENTS:
        for _, _, operation in _operations(doc):
            bodies = []
            if "requestBody" in operation:
                bodies.append(("request", operation["requestBody"]))
            bodies += [(status, response) for status, response in operation["responses"].items()]
            for where, body in bodies:
                for media_type, content in body.get("content", {}).items():
                    schema = content.get("schema", {})
                    if "example" in content:
                        found.append(
                            (
                                doc,
                                operation["operationId"],
                                where,
                                f"{media_type}-example",
                                schema,
                                content["example"],
                            )
                        )
                    for name, example in content.get("examples", {}).items():
                        found.append(
                            (doc, operation["operationId"], where, name, schema, example["value"])
                        )
    return found


EXAMPLES = _collect_examples()


def _schema(doc: str, name: str) -> dict:
    return resolved(_load(DOCUMENTS[doc])["components"]["schemas"][name], DOCUMENTS[doc])


def _validator(schema: dict) -> OAS30Validator:
    # patterns as ECMA-262 regexes, as OpenAPI defines them (and as the mock runs them)
    return explaining(OAS30Validator)(schema, format_checker=oas30_format_checker)


def _deduct_operation() -> dict:
    return resolved(_load(CONTRACT)["paths"][DEDUCT_PATH]["post"], CONTRACT)


# --- the documents -----------------------------------------------------------------


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_is_valid_openapi(doc: str) -> None:
    spec, url = read_from_filename(str(DOCUMENTS[doc]))
    validate(spec, base_uri=url)


# --- the examples ------------------------------------------------------------------


def test_every_response_has_examples() -> None:
    missing = [
        f"{doc} {operation['operationId']} {status}"
        for doc in DOCUMENTS
        for _, _, operation in _operations(doc)
        for status, response in operation["responses"].items()
        for content in response.get("content", {}).values()
        if not content.get("examples") and "example" not in content
    ]
    assert not missing, f"responses without an example: {missing}"
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize(
    ("doc", "operation", "where", "name", "schema", "value"),
    EXAMPLES,
    ids=[f"{doc}-{op}-{where}-{name}" for doc, op, where, name, _, _ in EXAMPLES],
)
def test_example_obeys_its_schema(
    doc: str, operation: str, where: str, name: str, schema: dict, value: Any
) -> None:
    errors = sorted(_validator(schema).iter_errors(value), key=lambda error: list(error.path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in errors
    )


def test_seed_request_examples_are_all_there_as_sent() -> None:
    examples = _deduct_operation()["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) == len(SEED_REQUEST_EXAMPLES) == 9
    assert set(examples) == set(SEED_REQUEST_EXAMPLES)
    for name, expected in SEED_REQUEST_EXAMPLES.items():
        assert examples[name]["value"] == expected, name


def test_seed_response_examples_are_there() -> None:
    content = _deduct_operation()["responses"]["200"]["content"]["application/json"]
    examples = {name: example["value"] for name, example in content["examples"].items()}
    assert examples["points-deducted"]["pointsAvailable"] == "670.000"
    assert examples["currency-deducted"]["valueAvailable"] == "80145.500"


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".+".join(re.escape(" ".join(part.split())) for part in parts))


def _error_examples() -> list[tuple[str, str, str, str, dict]]:
    return [
        (doc, operation, where, name, item)
        for doc, operation, where, name, _, value in EXAMPLES
        if where != "request" and isinstance(value, dict) and isinstance(value.get("errors"), list)
        for item in value["errors"]
    ]


ERROR_EXAMPLES = _error_examples()


@pytest.mark.parametrize(
    ("doc", "operation", "where", "name", "item"),
    ERROR_EXAMPLES,
    ids=[f"{doc}-{op}-{where}-{name}" for doc, op, where, name, _ in ERROR_EXAMPLES],
)
def test_error_example_matches_the_catalogue(
    doc: str, operation: str, where: str, name: str, item: dict
) -> None:
    code = Code(item["code"])
    message = " ".join(item["message"].split())
    assert _template_pattern(MESSAGES[code]).fullmatch(message), (message, MESSAGES[code])
    expected = STATUS.get(code, 400)
    overridden = where == "404" and code < 9100
    assert int(where) == expected or overridden, f"{code!r} is {expected}, listed under {where}"


def test_error_examples_cover_the_asked_codes() -> None:
    listed = {item["code"] for _, _, where, _, item in ERROR_EXAMPLES if where == "400"}
    assert {8015, 8907, 8906, 8003} <= listed


# --- enums and codes ---------------------------------------------------------------


def test_sources_appear_once_each() -> None:
    enum = _schema("capillary", "Source")["enum"]
    assert len(enum) == len(set(enum)) == 12
    assert set(enum) == set(SOURCES)


def test_error_codes_are_the_catalogue() -> None:
    enum = _schema("capillary", "ErrorItem")["properties"]["code"]["enum"]
    assert len(enum) == len(set(enum))
    assert set(enum) == {int(code) for code in Code}


def test_every_code_has_a_message() -> None:
    assert set(MESSAGES) == set(Code)


def test_error_catalogue_is_the_mocks() -> None:
    """x-capmock-errors, which ``capmock compat`` compares, is what the mock answers."""
    table = _load(CONTRACT)["x-capmock-errors"]
    listed = {row["code"]: (row["status"], row["message"]) for row in table}
    assert len(listed) == len(table)
    assert listed == {int(code): (STATUS.get(code, 400), MESSAGES[code]) for code in Code}


def test_error_catalogue_lists_the_code_enum() -> None:
    enum = _schema("capillary", "ErrorItem")["properties"]["code"]["enum"]
    assert [row["code"] for row in _load(CONTRACT)["x-capmock-errors"]] == enum


def test_error_table_of_the_400_response_is_the_catalogue() -> None:
    """The table people read (the 400 response's description) says what the catalogue says."""
    rows = re.findall(
        r"^\| (\d{4}) \| (.+?) \| .+ \|$",
        _deduct_operation()["responses"]["400"]["description"],
        re.M,
    )
    catalogue = {row["code"]: row for row in _load(CONTRACT)["x-capmock-errors"]}
    assert len(rows) >= 20
    for code, message in rows:
        assert catalogue[int(code)]["message"] == message.replace("`", ""), code
        assert catalogue[int(code)]["status"] == 400, code


def _tables() -> list[tuple[str, str, str, str]]:
    """Every row of every response table of the contract: (operation, status, code, message)."""
    return [
        (operation["operationId"], status, code, message)
        for _, _, operation in _operations("capillary")
        for status, response in operation["responses"].items()
        for code, message in re.findall(
            r"^\| (\d{4,5}) \| (.+?) \| .+ \|$", response.get("description", ""), re.M
        )
    ]


@pytest.mark.parametrize(
    ("operation", "status", "code", "message"),
    _tables(),
    ids=[f"{op}-{status}-{code}" for op, status, code, _ in _tables()],
)
def test_every_table_of_codes_says_what_the_catalogue_says(
    operation: str, status: str, code: str, message: str
) -> None:
    """Each operation's tables (a 400 refusal, a 503, an allocation item's in the 207) give
    each code its catalogue message, and the status the catalogue gives it (an item's code
    is that item's httpStatus)."""
    catalogue = {row["code"]: row for row in _load(CONTRACT)["x-capmock-errors"]}
    assert catalogue[int(code)]["message"] == message.replace("`", "")
    if status != "207":
        assert catalogue[int(code)]["status"] == int(status)


def test_every_operation_has_a_table_of_its_codes() -> None:
    tabled = {operation for operation, *_ in _tables()}
    operations = {op["operationId"] for _, _, op in _operations("capillary")}
    assert operations - tabled == {"generateToken"}  # its few codes are in its prose


def test_admin_errors_use_the_same_envelope() -> None:
    """Every refusal of the admin API is the envelope; verify's 409 is its report (how
    many matched, the near-misses), not a refusal."""
    envelope = _schema("capillary", "ErrorEnvelope")
    admin = [
        content["schema"]
        for _, _, operation in _operations("admin")
        for status, response in operation["responses"].items()
        if not status.startswith("2")
        and (operation["operationId"], status) != ("verifyRequests", "409")
        for content in response.get("content", {}).values()
    ]
    assert admin
    assert all(schema == envelope for schema in admin)


# --- the schemas refuse what they must ---------------------------------------------

REASON = {"reasonOfReturn": "Extra points were issued"}
ACCEPTED_BODIES = {
    "number-amount": {**REASON, "pointsToBeAdjusted": 100},
    "decimal-number-amount": {**REASON, "pointsToBeAdjusted": 10.5},
    "zero-left-to-the-rules": {**REASON, "pointsToBeAdjusted": "0"},
    "ten-to-the-twelve": {**REASON, "pointsToBeAdjusted": "1000000000000.000"},
    "leading-zeros": {**REASON, "pointsToBeAdjusted": "0000000000001.5"},
    "extra-property": {**REASON, "pointsToBeAdjusted": "10", "storeCode": "s1"},
    "both-amounts-currency-counts": {
        **REASON,
        "alternateCurrencyName": "coins",
        "valueToBeAdjusted": "1",
        "pointsToBeAdjusted": "1",
    },
    "promotion-id-nine-digits": {**REASON, "pointsToBeAdjusted": 1, "promotionId": 999999999},
    "reason-fifty-chars": {"reasonOfReturn": "r" * 50, "pointsToBeAdjusted": 1},
}
REFUSED_BODIES = {
    # schema-valid means not refused as invalid: a string over 10^12 is not schema-valid
    "thirteen-digits": {**REASON, "pointsToBeAdjusted": "9999999999999"},
    "just-over-ten-to-the-twelve": {**REASON, "pointsToBeAdjusted": "1000000000000.001"},
    "newline-after-digits": {**REASON, "pointsToBeAdjusted": "10\n"},
    "bom-reason": {"reasonOfReturn": "\ufeff", "pointsToBeAdjusted": "10"},
    "no-reason": {"pointsToBeAdjusted": "10"},
    "blank-reason": {"reasonOfReturn": " \t", "pointsToBeAdjusted": "10"},
    "reason-51-chars": {"reasonOfReturn": "r" * 51, "pointsToBeAdjusted": "10"},
    "no-amount": dict(REASON),
    "currency-without-value": {**REASON, "alternateCurrencyName": "coins", "pointsToBeAdjusted": 1},
    "value-without-currency": {**REASON, "valueToBeAdjusted": "10"},
    "negative-amount": {**REASON, "pointsToBeAdjusted": -1},
    "exponent-string": {**REASON, "pointsToBeAdjusted": "1e5"},
    "signed-string": {**REASON, "pointsToBeAdjusted": "-10"},
    "boolean-amount": {**REASON, "pointsToBeAdjusted": True},
    "amount-over-1e12": {**REASON, "pointsToBeAdjusted": 1000000000001},
    "promotion-id-ten-digits": {**REASON, "pointsToBeAdjusted": 1, "promotionId": 1234567890},
    "fractional-program-id": {**REASON, "pointsToBeAdjusted": 1, "programId": 973.5},
    "unknown-category": {**REASON, "pointsToBeAdjusted": 1, "pointCategoryTypes": "BONUS"},
    "unknown-ref-type": {**REASON, "pointsToBeAdjusted": 1, "pointsAwardedRefType": "bill"},
    "empty-currency-name": {**REASON, "alternateCurrencyName": "", "valueToBeAdjusted": 1},
    "not-an-object": ["pointsToBeAdjusted"],
}


@pytest.mark.parametrize("body", ACCEPTED_BODIES.values(), ids=ACCEPTED_BODIES)
def test_deduction_request_accepts(body: dict) -> None:
    assert _validator(_schema("capillary", "DeductionRequest")).is_valid(body)


@pytest.mark.parametrize("body", REFUSED_BODIES.values(), ids=REFUSED_BODIES)
def test_deduction_request_refuses(body: Any) -> None:
    assert not _validator(_schema("capillary", "DeductionRequest")).is_valid(body)


@pytest.mark.parametrize(
    ("balance", "valid"),
    [
        ("670.000", True),
        ("-5.500", True),
        ("0.000", True),
        ("670", False),
        ("670.00", False),
        ("670.0000", False),
        (670.0, False),
    ],
)
def test_balances_are_strings_with_three_decimals(balance: Any, valid: bool) -> None:
    schema = _schema("capillary", "DeductionSuccess")
    body = {"status": "success", "message": "m", "warnings": [], "pointsAvailable": balance}
    assert _validator(schema).is_valid(body) is valid


def test_error_item_status_is_false() -> None:
    schema = _schema("capillary", "ErrorEnvelope")
    good = {"errors": [{"status": False, "code": 8015, "message": "m"}]}
    assert _validator(schema).is_valid(good)
    assert not _validator(schema).is_valid({"errors": [{**good["errors"][0], "status": True}]})
    assert not _validator(schema).is_valid({"errors": [{**good["errors"][0], "code": 1}]})
    assert not _validator(schema).is_valid({"errors": []})


# --- links and security ------------------------------------------------------------


def test_links_name_real_operations_and_parameters() -> None:
    operations = {op["operationId"]: op for doc in DOCUMENTS for _, _, op in _operations(doc)}
    links = [
        (source, link)
        for source in operations.values()
        for response in source["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert links
    for source, link in links:
        target = operations[link["operationId"]]
        target_names = {param["name"] for param in target.get("parameters", [])}
        source_params = {(p["in"], p["name"]) for p in source.get("parameters", [])}
        for name, expression in link["parameters"].items():
            assert name in target_names, (link["operationId"], name)
            place, _, param = expression.removeprefix("$request.").partition(".")
            assert (place, param) in source_params, expression


def test_security() -> None:
    document = _load(CONTRACT)
    assert document["security"] == [{"basicAuth": []}, {"oauthToken": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}
    assert schemes["oauthToken"]["name"] == "X-CAP-API-OAUTH-TOKEN"
    token = document["paths"]["/v3/oauth/token/generate"]["post"]
    assert token["security"] == []
    assert "/__admin" not in str(document["paths"])


def test_admin_api_lives_under_its_own_prefix_with_an_optional_token() -> None:
    admin = _load(ADMIN_CONTRACT)
    assert admin["servers"][0]["url"].endswith("/__admin")
    assert "security" not in admin
    token = admin["components"]["parameters"]["AdminToken"]
    assert (token["name"], token["in"], token["required"]) == (
        "X-CAPMOCK-ADMIN-TOKEN",
        "header",
        False,
    )
    for path, item in admin["paths"].items():
        assert {"$ref": "#/components/parameters/AdminToken"} in item["parameters"], path
