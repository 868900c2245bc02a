"""The fixture loader: what a good fixture becomes, and how each mistake is reported."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml

from contract_tests import spec
from mock_server import fixtures
from mock_server.data import DEFAULT_FIXTURES, FIXTURE_SCHEMA
from mock_server.fixtures import FixtureError, load_document, load_fixtures, parse, schema
from mock_server.model import (
    CURRENCY,
    DEFAULT_ORG_ID,
    DEFAULT_PRIMARY_IDENTIFIER,
    POINTS,
    AwardStrategy,
    Bucket,
    ExpiryStrategy,
    Principal,
    World,
)

# The format exactly as documented to users.
DATA = Path(__file__).parent / "data"
SHAPE = DATA / "shape.yaml"

# A valid fixture that the refusal tests change in one place each.
BASE = """\
org:
  allowNegativeBalanceOnReturn: false
errorStatus: {8015: 404}
users:
  - username: store.server
    password: server123
    accessGroups: [points]
oauthClients:
  - key: doc-client
    secret: doc-secret
programs:
  - id: 973
    name: DocLoyalty
    default: true
    roundDecimals: 2
    alternateCurrencies:
      - name: coins
  - id: 974
    name: NoDecimals
    roundDecimals: 0
promotions:
  - id: 79555
    identifier: b86ca53f-4c5e-46d3-8d33-b61c4f49392c
    programId: 973
customers:
  - userId: 388034468
    sources: [INSTORE]
    enrollments:
      - programId: 973
        points: {REGULAR: 680, PROMISED: 0}
        alternateCurrencies: {coins: 80155.5}
  - userId: 388034469
    sources: [WECHAT]
    enrollments:
      - programId: 974
        points: {REGULAR: 10}
pointsAwards:
  - id: 38768508
    userId: 388034468
    programId: 973
    refType: bill_regular
    points: 100
"""

REGULAR_973 = Bucket(973, POINTS, "REGULAR")
COINS_973 = Bucket(973, CURRENCY, "coins")


def variant(old: str, new: str, text: str = BASE) -> str:
    """``text`` with one exact piece replaced, so a test breaks loudly if BASE moves on."""
    assert text.count(old) == 1, f"{old!r} is not in the base fixture exactly once"
    return text.replace(old, new)


def where(text: str, needle: str, offset: int = 0, nth: int = 1) -> str:
    """The "(line L, column C)" of the nth ``needle`` in ``text``, ``offset`` chars into it."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"(line {line}, column {column})"


def refused(tmp_path: Path, text: str, name: str = "fixture.yaml") -> tuple[str, list[str]]:
    """Write ``text`` to a file, load it, and return the file name and the problems."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path)
    return str(path), caught.value.problems


def only_problem(tmp_path: Path, text: str) -> str:
    """The single problem of a fixture, which must start with the file's name."""
    name, problems = refused(tmp_path, text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{name}: "), problems[0]
    return problems[0]


# --- good fixtures -------------------------------------------------------------------


def test_the_base_fixture_of_these_tests_loads(tmp_path: Path) -> None:
    path = tmp_path / "base.yaml"
    path.write_text(BASE, encoding="utf-8")
    world = load_fixtures(path)
    assert set(world.customers) == {388034468, 388034469}
    assert world.error_status == {8015: 404}


def test_the_format_as_documented_loads() -> None:
    world = load_fixtures(SHAPE)
    assert isinstance(world, World)
    assert world.allow_negative_balance is False
    assert world.error_status == {}
    assert world.token_ttl_seconds == 300
    assert world.users == {
        "store.server": Principal("store.server", "server123", frozenset({"points"}))
    }
    assert world.oauth_clients == {
        "doc-client": Principal("doc-client", "doc-secret", frozenset({"points"}))
    }
    program = world.programs[973]
    assert (program.name, program.default, program.round_decimals) == ("DocLoyalty", True, 2)
    assert program.currencies == frozenset({"coins"})
    assert world.default_program_id == program.id
    assert world.promotions[79555].identifier == "b86ca53f-4c5e-46d3-8d33-b61c4f49392c"
    assert world.promotions_by_identifier["b86ca53f-4c5e-46d3-8d33-b61c4f49392c"].id == 79555
    customer = world.customers[388034468]
    assert customer.sources == frozenset({"INSTORE"})
    assert customer.programs == frozenset({973})
    assert customer.opening == {
        REGULAR_973: Decimal(680),
        Bucket(973, POINTS, "PROMISED"): Decimal(0),
        Bucket(973, POINTS, "EXTERNAL_TRIGGER_BASED"): Decimal(0),
        COINS_973: Decimal("80155.5"),
    }
    award = world.awards[38768508]
    assert (award.user_id, award.program_id, award.ref_type, award.points) == (
        388034468,
        973,
        "bill_regular",
        Decimal(100),
    )
    assert (world.org_id, world.primary_identifier, world.dual_eligibility) == (
        100737,
        "mobile",
        True,
    )
    assert world.identifier_names == {
        "deductPointsByLookup": frozenset({"mobile", "email", "externalId"})
    }
    assert not world.accepts("deductPointsByLookup", "id")
    assert world.accepts("getPointsBalance", "id")  # not listed: every name
    assert program.currency_identifiers == {"coins1": "coins"}
    assert customer.identifiers == {
        "INSTORE": {
            "mobile": "9876543210",
            "email": "tomswayer@capillarytech1.com",
            "externalId": "696969",
        }
    }
    assert (customer.first_name, customer.last_name) == ("Tom", "Sawyer")
    assert world.by_identifier[("INSTORE", "email", "tomswayer@capillarytech1.com")] == 388034468
    assert world.award_strategies == {
        13167: AwardStrategy(13167, 973, points=Decimal(500)),
        11879: AwardStrategy(11879, 973, per_unit=Decimal(1)),
    }
    assert world.expiry_strategies == {11833: ExpiryStrategy(11833, 973)}


def test_only_programs_and_customers_are_required_and_no_default_is_implied() -> None:
    world = load_document("programs: [{id: 5, name: Only}]\ncustomers: []\n", "minimal.yaml")
    assert world.default_program_id is None  # one program, but not marked default
    assert world.programs[5].round_decimals == 3
    assert world.programs[5].currencies == frozenset()
    assert (world.users, world.oauth_clients, world.promotions, world.awards) == ({}, {}, {}, {})
    assert (world.error_status, world.token_ttl_seconds) == ({}, 300)
    assert world.allow_negative_balance is False
    assert (world.org_id, world.primary_identifier, world.dual_eligibility) == (
        DEFAULT_ORG_ID,
        DEFAULT_PRIMARY_IDENTIFIER,
        True,
    )
    assert (world.identifier_names, world.award_strategies, world.expiry_strategies) == ({}, {}, {})


def test_org_settings_reach_the_world() -> None:
    text = variant(
        "  allowNegativeBalanceOnReturn: false\n",
        "  allowNegativeBalanceOnReturn: true\n  oauthTokenTtlSeconds: 3600\n",
    )
    world = load_document(text, "org.yaml")
    assert world.allow_negative_balance is True
    assert world.token_ttl_seconds == 3600


def test_balances_are_exact_decimals_not_floats() -> None:
    text = variant("{coins: 80155.5}", "{coins: 0.1}")
    world = load_document(variant("{REGULAR: 680, PROMISED: 0}", "{REGULAR: 0.3}", text), "x")
    opening = world.customers[388034468].opening
    assert type(opening[COINS_973]) is Decimal
    assert str(opening[COINS_973]) == "0.1"  # a float would be 0.1000000000000000055...
    assert opening[COINS_973] + opening[REGULAR_973] == Decimal("0.4")
    assert type(opening[REGULAR_973]) is Decimal


def test_the_coins_balance_of_the_seed_is_exact() -> None:
    world = load_document(BASE, "base.yaml")
    coins = world.customers[388034468].opening[COINS_973]
    assert type(coins) is Decimal
    assert coins == Decimal("80155.5")
    assert coins - 10 == Decimal("80145.5")
    assert type(world.awards[38768508].points) is Decimal


def test_integers_stay_integers_outside_balances() -> None:
    world = load_document(BASE, "base.yaml")
    assert type(next(iter(world.customers))) is int
    assert type(world.programs[973].round_decimals) is int


def test_error_status_codes_become_integers_from_yaml_and_json() -> None:
    assert load_document(BASE, "base.yaml").error_status == {8015: 404}
    document = load_document(BASE, "base.yaml").document
    document["errorStatus"] = {"8015": 404, "8003": 422}
    assert load_document(json.dumps(document, default=float), "x.json").error_status == {
        8015: 404,
        8003: 422,
    }


def test_load_document_takes_a_parsed_mapping_and_converts_floats() -> None:
    document = json.loads(json.dumps(load_document(BASE, "base.yaml").document, default=float))
    assert isinstance(
        document["customers"][0]["enrollments"][0]["alternateCurrencies"]["coins"], float
    )
    world = load_document(document, "PUT /__admin/fixtures")
    coins = world.customers[388034468].opening[COINS_973]
    assert type(coins) is Decimal
    assert coins == Decimal("80155.5")


def test_load_document_takes_json_text() -> None:
    document = load_document(BASE, "base.yaml").document
    text = json.dumps(document, default=str).replace('"80155.5"', "80155.5")
    world = load_document(text, "PUT /__admin/fixtures")
    assert world.customers[388034468].opening[COINS_973] == Decimal("80155.5")
    assert type(world.customers[388034468].opening[COINS_973]) is Decimal


def test_the_document_of_a_world_loads_again_into_the_same_world() -> None:
    world = load_fixtures(DEFAULT_FIXTURES)
    again = load_document(world.document, "shared store")
    assert again == world
    assert again.customers == world.customers
    assert json.loads(json.dumps(world.document, default=str))["programs"][0]["id"] == 973


def test_a_json_file_loads_even_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "tabs.json"
    document = json.loads(json.dumps(load_document(BASE, "base.yaml").document, default=float))
    path.write_text(json.dumps(document, indent="\t"), encoding="utf-8")
    world = load_fixtures(path)
    assert world.customers[388034468].opening[COINS_973] == Decimal("80155.5")


# --- the default fixture -------------------------------------------------------------


@pytest.fixture(scope="module")
def default_world() -> World:
    return load_fixtures(DEFAULT_FIXTURES)


def test_default_fixture_has_the_seeds_program_promotion_and_award(default_world: World) -> None:
    program = default_world.programs[default_world.default_program_id]
    assert program is not None
    assert (program.id, program.name, program.round_decimals) == (973, "DocLoyalty", 2)
    assert program.currencies == frozenset({"coins", "DocCoin"})
    promotion = default_world.promotions[79555]
    assert (promotion.identifier, promotion.program_id) == (
        "b86ca53f-4c5e-46d3-8d33-b61c4f49392c",
        973,
    )
    award = default_world.awards[38768508]
    assert (award.user_id, award.program_id, award.ref_type, award.points) == (
        388034468,
        973,
        "bill_regular",
        Decimal(100),
    )


def test_default_fixture_gives_the_seeds_balances(default_world: World) -> None:
    customer = default_world.customers[388034468]
    assert "INSTORE" in customer.sources
    assert 973 in customer.programs
    assert customer.opening[REGULAR_973] - 10 == Decimal("670")  # "670.000"
    assert customer.opening[COINS_973] - 10 == Decimal("80145.5")  # "80145.500"


def test_default_fixture_has_the_seeds_credentials(default_world: World) -> None:
    assert default_world.users["store.server"].secret == "server123"
    assert "points" in default_world.users["store.server"].access_groups
    assert default_world.oauth_clients["doc-client"].secret == "doc-secret"
    assert "points" in default_world.oauth_clients["doc-client"].access_groups


def test_default_fixture_has_principals_without_the_points_group(default_world: World) -> None:
    assert "points" not in default_world.users["store.noaccess"].access_groups
    assert default_world.users["store.noaccess"].secret == "noaccess123"
    lacking = [c for c in default_world.oauth_clients.values() if "points" not in c.access_groups]
    assert lacking


def test_default_fixture_has_a_customer_enrolled_only_elsewhere(default_world: World) -> None:
    other = default_world.programs[974]
    assert (other.round_decimals, other.currencies, other.default) == (0, frozenset(), False)
    assert any(p.program_id == 974 for p in default_world.promotions.values())
    assert any(c.programs == {974} for c in default_world.customers.values())  # 1218 in 973


def test_default_fixture_has_a_wechat_only_customer(default_world: World) -> None:
    assert any(c.sources == {"WECHAT"} for c in default_world.customers.values())  # 8015


def test_default_fixture_has_an_empty_and_a_many_bucket_customer(default_world: World) -> None:
    customers = [c for c in default_world.customers.values() if 973 in c.programs]
    assert any(c.opening.get(REGULAR_973) == 0 for c in customers)  # 8907
    assert any(
        c.opening.get(Bucket(973, POINTS, "PROMISED"), 0) > 0
        and c.opening.get(Bucket(973, POINTS, "EXTERNAL_TRIGGER_BASED"), 0) > 0
        and c.opening.get(REGULAR_973, 0) > 0
        for c in customers
    )


def test_default_fixture_has_awards_for_the_8877_and_9975_paths(default_world: World) -> None:
    awards = [a for a in default_world.awards.values() if a.id != 38768508]
    assert any(a.user_id != 388034468 for a in awards)  # 8877 when used for 388034468
    assert any(a.user_id == 388034468 and a.ref_type == "line_item_regular" for a in awards)


def test_default_fixture_user_ids_are_distinct_nine_digit_ids(default_world: World) -> None:
    assert all(100_000_000 <= user_id <= 999_999_999 for user_id in default_world.customers)
    assert len(default_world.customers) >= 5


# --- the schema ----------------------------------------------------------------------


def test_the_schema_is_a_valid_2020_12_schema_with_help_on_every_property() -> None:
    schema = json.loads(FIXTURE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    missing = []

    def visit(node: dict, path: str) -> None:
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"
        for key, sub in node.get("properties", {}).items():
            if "title" not in sub and "description" not in sub:
                missing.append(f"{path}.{key}")
            visit(sub, f"{path}.{key}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                visit(node[key], f"{path}[{key}]")

    visit(schema, "$")
    assert missing == []


def test_the_schemas_defaults_are_the_loaders() -> None:
    properties = json.loads(FIXTURE_SCHEMA.read_text(encoding="utf-8"))["properties"]
    program = properties["programs"]["items"]["properties"]
    assert program["roundDecimals"]["default"] == fixtures.DEFAULT_ROUND_DECIMALS
    ttl = properties["org"]["properties"]["oauthTokenTtlSeconds"]["default"]
    assert ttl == fixtures.DEFAULT_TOKEN_TTL_SECONDS
    org = properties["org"]["properties"]
    assert org["id"]["default"] == DEFAULT_ORG_ID
    assert org["primaryIdentifier"]["default"] == DEFAULT_PRIMARY_IDENTIFIER
    minimal = load_document("programs: []\ncustomers: []\n", "minimal.yaml")
    assert org["dualEligibility"]["default"] is minimal.dual_eligibility is True


def test_the_schema_knows_every_lookup_and_name_the_contract_has() -> None:
    """``org.identifierNames`` is keyed by the operationIds of the contract's lookups, and
    lists the contract's identifier names."""
    org = json.loads(FIXTURE_SCHEMA.read_text(encoding="utf-8"))["properties"]["org"]
    names = org["properties"]["identifierNames"]
    contract = spec.document()
    lookups = {
        operation["operationId"]
        for item in contract["paths"].values()
        for operation in item.values()
        if "identifierName" in str(operation.get("parameters", ""))
        or "identifierType" in str(operation.get("requestBody", ""))
    }
    assert set(names["propertyNames"]["enum"]) == lookups
    identifier_names = contract["components"]["schemas"]["IdentifierName"]["enum"]
    assert names["additionalProperties"]["items"]["enum"] == identifier_names


@pytest.mark.parametrize(
    "path",
    [DEFAULT_FIXTURES, DATA / "shape.yaml", DATA / "hundred.yaml", DATA / "contract_world.yaml"],
    ids=lambda path: path.name,
)
def test_rapidyaml_reads_plain_yaml_as_pyyaml_does(path: Path) -> None:
    # rapidyaml is only an accelerator: where it answers, it must agree with PyYAML.
    text = path.read_text(encoding="utf-8")
    fast = parse._by_ryml(text)
    reference = yaml.load(text, Loader=parse.Loader)
    # errorStatus keys (8015) are integers to PyYAML: such a file is PyYAML's to read
    assert fast == reference or (fast is None and "errorStatus" in reference)


def test_yaml_1_1_booleans_are_read_as_pyyaml_reads_them() -> None:
    # "yes"/"on" are booleans to PyYAML (YAML 1.1) but strings to rapidyaml (YAML 1.2):
    # the schema refuses rapidyaml's reading, so PyYAML's is taken.
    text = """
org: {allowNegativeBalanceOnReturn: yes}
programs: [{id: 1, name: P, default: on}]
customers: [{userId: 1, sources: [INSTORE], enrollments: [{programId: 1}]}]
"""
    assert parse._by_ryml(text) is None  # rapidyaml's "yes" is a string: not PyYAML's reading
    world = load_document(text, "words.yaml")
    assert world.allow_negative_balance is True and world.default_program_id == 1


def test_anchors_and_aliases_are_left_to_pyyaml() -> None:
    text = """
programs: [{id: 1, name: P}]
customers:
  - {userId: 1, sources: [INSTORE], enrollments: [{programId: 1, points: &five {REGULAR: 5}}]}
  - {userId: 2, sources: [INSTORE], enrollments: [{programId: 1, points: *five}]}
"""
    world = load_document(text, "aliases.yaml")
    assert world.customers[2].opening == {Bucket(1, POINTS, "REGULAR"): Decimal(5)}


def test_the_fast_validator_agrees_with_the_explaining_one() -> None:
    # The fast one (jsonschema-rs) decides; jsonschema only explains what it refused.
    fast, explaining, _ = schema.validators()
    good = load_fixtures(DEFAULT_FIXTURES).document
    bad = {**good, "programs": [{**good["programs"][0], "roundDecimals": 7}]}
    for document, valid in ((good, True), (bad, False)):
        assert fast.is_valid(document) is valid
        assert explaining.is_valid(document) is valid


# --- refusals: reading ---------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path)
    assert caught.value.problems == [f"{path}: no such file"]


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(FixtureError) as caught:
        load_fixtures(tmp_path)
    assert caught.value.problems[0].startswith(f"{tmp_path}: cannot read the file")


def test_bad_yaml_syntax_names_its_line(tmp_path: Path) -> None:
    text = "programs:\n  - id: 973\n   name: broken\ncustomers: []\n"
    problem = only_problem(tmp_path, text)
    assert problem.endswith(
        "invalid YAML at line 3, column 4: did not find expected '-' indicator"
        " (while parsing a block collection)"
    )


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = variant("    roundDecimals: 2\n", "    roundDecimals: 2\n    roundDecimals: 3\n")
    problem = only_problem(tmp_path, text)
    line, column = where(text, "roundDecimals: 3")[1:-1].split(", ")
    assert f"invalid YAML at {line}, {column}: " in problem
    first = text.count("\n", 0, text.index("roundDecimals: 2")) + 1
    assert f"duplicate key 'roundDecimals' (first on line {first})" in problem


def test_infinite_balance(tmp_path: Path) -> None:
    text = variant("{coins: 80155.5}", "{coins: .inf}")
    problem = only_problem(tmp_path, text)
    line, column = where(text, ".inf")[1:-1].split(", ")
    assert f"invalid YAML at {line}, {column}: " in problem
    assert problem.endswith("'.inf' is not a decimal number")


def test_top_level_list(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "- programs\n- customers\n")
    assert "top level (line 1, column 1)" in problem
    assert "a fixture is a mapping with programs and customers, got a list" in problem


def test_empty_file(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "# nothing\n")
    assert "top level: a fixture is a mapping" in problem
    assert "got nothing" in problem


# --- refusals: the schema ------------------------------------------------------------


def test_unknown_key_is_a_typo(tmp_path: Path) -> None:
    text = variant("    roundDecimals: 2\n", "    roundDecimal: 2\n")
    problem = only_problem(tmp_path, text)
    assert f"programs[0].roundDecimal {where(text, 'roundDecimal:')}" in problem
    assert "unknown key 'roundDecimal' (did you mean 'roundDecimals'?" in problem


def test_round_decimals_over_three(tmp_path: Path) -> None:
    text = variant("roundDecimals: 2", "roundDecimals: 7")
    problem = only_problem(tmp_path, text)
    assert f"programs[0].roundDecimals {where(text, 'roundDecimals: 7', 15)}" in problem
    assert "7 is more than the maximum 3" in problem


def test_missing_required_key(tmp_path: Path) -> None:
    text = variant("    name: NoDecimals\n", "")
    problem = only_problem(tmp_path, text)
    assert f"programs[1] {where(text, 'id: 974')}" in problem
    assert "missing required key 'name'" in problem


def test_password_must_be_text(tmp_path: Path) -> None:
    text = variant("password: server123", "password: 123456")
    problem = only_problem(tmp_path, text)
    assert f"users[0].password {where(text, '123456')}" in problem
    assert "expected a string, got integer 123456 (put it in quotes)" in problem


def test_status_200_in_error_status(tmp_path: Path) -> None:
    text = variant("{8015: 404}", "{8015: 200}")
    problem = only_problem(tmp_path, text)
    assert f"errorStatus.8015 {where(text, '200')}" in problem
    assert "200 is less than the minimum 400" in problem


def test_error_status_key_that_is_not_a_code(tmp_path: Path) -> None:
    text = variant("{8015: 404}", "{8015: 404, missing: 404}")
    problem = only_problem(tmp_path, text)
    assert f"errorStatus.missing {where(text, 'missing')}" in problem
    assert "invalid key 'missing'" in problem


def test_balance_over_a_trillion(tmp_path: Path) -> None:
    text = variant("{REGULAR: 10}", "{REGULAR: 1000000000001}")
    problem = only_problem(tmp_path, text)
    assert f"customers[1].enrollments[0].points.REGULAR {where(text, '1000000000001')}" in problem
    assert "is more than the maximum 1000000000000" in problem


# --- refusals: what the schema cannot say --------------------------------------------


def test_duplicate_user_id(tmp_path: Path) -> None:
    text = variant("userId: 388034469\n", "userId: 388034468\n")
    problem = only_problem(tmp_path, text)
    position = where(text, "userId: 388034468", offset=8, nth=2)
    assert problem.endswith(
        f"customers[1].userId {position}: duplicate userId 388034468 (first at customers[0])"
    )


def test_unknown_program_in_an_enrollment(tmp_path: Path) -> None:
    text = variant("      - programId: 974\n", "      - programId: 975\n")
    problem = only_problem(tmp_path, text)
    assert f"customers[1].enrollments[0].programId {where(text, '975')}" in problem
    assert "unknown program 975 (programs: 973, 974)" in problem


def test_unknown_program_in_a_promotion(tmp_path: Path) -> None:
    text = variant("    programId: 973\ncustomers", "    programId: 999\ncustomers")
    problem = only_problem(tmp_path, text)
    assert f"promotions[0].programId {where(text, '999')}" in problem
    assert "unknown program 999" in problem


def test_unknown_currency(tmp_path: Path) -> None:
    text = variant("{coins: 80155.5}", "{coins: 80155.5, gems: 3}")
    problem = only_problem(tmp_path, text)
    assert f"customers[0].enrollments[0].alternateCurrencies.gems {where(text, 'gems')}" in problem
    assert "unknown currency 'gems' in program 973 (known: coins)" in problem


def test_currency_of_another_program(tmp_path: Path) -> None:
    text = variant("{REGULAR: 10}", "{REGULAR: 10}\n        alternateCurrencies: {coins: 1}")
    problem = only_problem(tmp_path, text)
    assert f"customers[1].enrollments[0].alternateCurrencies.coins {where(text, 'coins: 1}')}" in (
        problem
    )
    assert "unknown currency 'coins' in program 974 (known: none)" in problem


def test_bad_source(tmp_path: Path) -> None:
    text = variant("sources: [WECHAT]", "sources: [WECHAT, MOON]")
    problem = only_problem(tmp_path, text)
    assert f"customers[1].sources[1] {where(text, 'MOON')}" in problem
    assert "unknown source 'MOON' (sources: " in problem


def test_all_is_not_a_source_a_customer_is_registered_in(tmp_path: Path) -> None:
    text = variant("sources: [WECHAT]", "sources: [ALL]")
    problem = only_problem(tmp_path, text)
    assert f"customers[1].sources[0] {where(text, 'ALL')}" in problem
    assert "'ALL' is a request-side wildcard" in problem


def test_bad_category(tmp_path: Path) -> None:
    text = variant("{REGULAR: 10}", "{REGULAR: 10, GOLD: 5}")
    problem = only_problem(tmp_path, text)
    assert f"customers[1].enrollments[0].points.GOLD {where(text, 'GOLD')}" in problem
    assert "unknown point category 'GOLD'" in problem


def test_customer_enrolled_twice_in_a_program(tmp_path: Path) -> None:
    text = variant(
        "        points: {REGULAR: 10}\n", "        points: {REGULAR: 10}\n      - programId: 974\n"
    )
    problem = only_problem(tmp_path, text)
    assert f"customers[1].enrollments[1].programId {where(text, '974', nth=3)}" in problem
    assert "already enrolled in program 974 at customers[1].enrollments[0]" in problem


def test_balance_with_four_decimals(tmp_path: Path) -> None:
    text = variant("{coins: 80155.5}", "{coins: 80155.1234}")
    problem = only_problem(tmp_path, text)
    assert f"customers[0].enrollments[0].alternateCurrencies.coins {where(text, '80155.1234')}" in (
        problem
    )
    assert "80155.1234 has 4 decimal places; at most 3 are kept" in problem


def test_trailing_zeros_do_not_count_as_decimal_places() -> None:
    world = load_document(variant("{coins: 80155.5}", "{coins: 80155.50000}"), "zeros.yaml")
    assert world.customers[388034468].opening[COINS_973] == Decimal("80155.5")


def test_award_of_an_unknown_customer(tmp_path: Path) -> None:
    text = variant("    userId: 388034468\n    programId", "    userId: 388000000\n    programId")
    problem = only_problem(tmp_path, text)
    assert f"pointsAwards[0].userId {where(text, '388000000')}" in problem
    assert "no customer has userId 388000000" in problem


def test_award_in_a_program_its_customer_is_not_enrolled_in(tmp_path: Path) -> None:
    text = variant("    programId: 973\n    refType", "    programId: 974\n    refType")
    problem = only_problem(tmp_path, text)
    assert f"pointsAwards[0].programId {where(text, 'programId: 974', 11, nth=2)}" in problem
    assert "customer 388034468 is not enrolled in program 974" in problem


def test_award_with_an_unknown_ref_type(tmp_path: Path) -> None:
    text = variant("refType: bill_regular", "refType: bill")
    problem = only_problem(tmp_path, text)
    assert f"pointsAwards[0].refType {where(text, 'bill')}" in problem
    assert "unknown refType 'bill' (refTypes: bill_regular, " in problem


def test_duplicate_award_id(tmp_path: Path) -> None:
    award = "  - id: 38768508\n    userId: 388034468\n    programId: 973\n"
    award += "    refType: bill_regular\n    points: 100\n"
    text = BASE + award
    problem = only_problem(tmp_path, text)
    assert f"pointsAwards[1].id {where(text, '38768508', nth=2)}" in problem
    assert "duplicate award id 38768508 (first at pointsAwards[0])" in problem


def test_two_default_programs(tmp_path: Path) -> None:
    text = variant("    roundDecimals: 0\n", "    roundDecimals: 0\n    default: true\n")
    problem = only_problem(tmp_path, text)
    assert f"programs[1].default {where(text, 'true', nth=2)}" in problem
    assert "programs[0] is already the default program; only one may be" in problem


def test_duplicate_program_id(tmp_path: Path) -> None:
    text = variant("  - id: 974\n", "  - id: 973\n")
    name, problems = refused(tmp_path, text)
    assert (
        f"{name}: programs[1].id {where(text, '973', nth=2)}: duplicate program id 973"
        in (problems[0])
    )


def test_duplicate_promotion_id_and_identifier(tmp_path: Path) -> None:
    promotion = "  - id: 79555\n    identifier: b86ca53f-4c5e-46d3-8d33-b61c4f49392c\n"
    promotion += "    programId: 973\ncustomers:\n"
    text = variant("customers:\n", promotion)
    name, problems = refused(tmp_path, text)
    assert problems == [
        f"{name}: promotions[1].id {where(text, '79555', nth=2)}: "
        "duplicate promotion id 79555 (first at promotions[0])",
        f"{name}: promotions[1].identifier {where(text, 'b86ca53f', nth=2)}: "
        "duplicate promotion identifier 'b86ca53f-4c5e-46d3-8d33-b61c4f49392c' "
        "(first at promotions[0])",
    ]


def test_duplicate_username_and_oauth_key(tmp_path: Path) -> None:
    text = variant(
        "  - key: doc-client\n", "  - key: doc-client\n    secret: a\n  - key: doc-client\n"
    )
    text = variant(
        "  - username: store.server\n",
        "  - username: store.server\n    password: a\n  - username: store.server\n",
        text,
    )
    name, problems = refused(tmp_path, text)
    assert len(problems) == 2
    assert problems[0].startswith(f"{name}: users[1].username {where(text, 'store.server', nth=2)}")
    assert problems[0].endswith("duplicate username 'store.server' (first at users[0])")
    assert problems[1].startswith(f"{name}: oauthClients[1].key {where(text, 'doc-client', nth=2)}")
    assert problems[1].endswith("duplicate OAuth key 'doc-client' (first at oauthClients[0])")


def test_unknown_error_code(tmp_path: Path) -> None:
    text = variant("{8015: 404}", "{8015: 404, 9999: 500}")
    problem = only_problem(tmp_path, text)
    assert f"errorStatus.9999 {where(text, '9999')}" in problem
    assert "unknown error code 9999 (codes: " in problem


# --- several problems, and documents without lines -----------------------------------


def test_every_schema_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = variant("roundDecimals: 2", "roundDecimals: 7")
    text = variant("    password: server123\n", "    pasword: server123\n", text)
    text = variant("{REGULAR: 10}", "{REGULAR: ten}", text)
    name, problems = refused(tmp_path, text)
    assert problems == [
        f"{name}: users[0] {where(text, 'username')}: missing required key 'password'",
        f"{name}: users[0].pasword {where(text, 'pasword')}: unknown key 'pasword' "
        "(did you mean 'password'? allowed: username, password, accessGroups)",
        f"{name}: programs[0].roundDecimals {where(text, 'roundDecimals: 7', 15)}: "
        "7 is more than the maximum 3",
        f"{name}: customers[1].enrollments[0].points.REGULAR {where(text, 'ten')}: "
        "expected a number, got string 'ten'",
    ]


def test_every_consistency_problem_is_reported_at_once_in_document_order(tmp_path: Path) -> None:
    text = variant("userId: 388034469\n", "userId: 388034468\n")
    text = variant("{coins: 80155.5}", "{gems: 1}", text)
    text = variant("sources: [WECHAT]", "sources: [MOON]", text)
    text = variant("refType: bill_regular", "refType: bill", text)
    name, problems = refused(tmp_path, text)
    assert [problem.split(" (line")[0] for problem in problems] == [
        f"{name}: customers[0].enrollments[0].alternateCurrencies.gems",
        f"{name}: customers[1].userId",
        f"{name}: customers[1].sources[0]",
        f"{name}: pointsAwards[0].refType",
    ]
    assert all(problem.startswith(f"{name}: ") for problem in problems)


def test_a_mapping_is_reported_without_lines() -> None:
    document = load_document(BASE, "base.yaml").document
    document["programs"][0]["roundDecimals"] = 9
    document["customers"][1]["sources"] = ["MOON"]
    with pytest.raises(FixtureError) as caught:
        load_document(document, "PUT /__admin/fixtures")
    # the schema's problem, then the one it cannot see: both at once, in one round
    first, second = caught.value.problems
    assert first == "PUT /__admin/fixtures: programs[0].roundDecimals: 9 is more than the maximum 3"
    assert second.startswith(
        "PUT /__admin/fixtures: customers[1].sources[0]: unknown source 'MOON'"
    )


def test_json_text_problems_have_lines() -> None:
    document = json.loads(json.dumps(load_document(BASE, "base.yaml").document, default=float))
    document["customers"][0]["sources"] = ["MOON"]
    text = json.dumps(document, indent=2)
    with pytest.raises(FixtureError) as caught:
        load_document(text, "PUT /__admin/fixtures")
    position = where(text, '"MOON"')
    assert caught.value.problems[0].startswith(
        f"PUT /__admin/fixtures: customers[0].sources[0] {position}: unknown source"
    )


def test_json_duplicate_key_is_reported_with_its_line() -> None:
    text = '{\n  "programs": [],\n  "customers": [],\n  "programs": []\n}\n'
    with pytest.raises(FixtureError) as caught:
        load_document(text, "dup.json")
    assert caught.value.problems == [
        "dup.json: invalid YAML at line 4, column 3: duplicate key 'programs' (first on line 2)"
    ]


def test_str_of_the_error_is_every_problem_one_per_line(tmp_path: Path) -> None:
    text = variant("roundDecimals: 2", "roundDecimals: 7")
    text = variant("sources: [WECHAT]", "sources: 3", text)
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(path)
    assert len(caught.value.problems) == 2
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_a_world_keeps_the_text_it_was_loaded_from(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_text("\ufeff" + BASE, encoding="utf-8")
    assert load_fixtures(path).text == BASE
    assert load_document(BASE, "base.yaml").text is BASE
    assert load_document(load_document(BASE, "base.yaml").document, "mapping").text is None


# --- identifiers and allocations ------------------------------------------------------

SEED_IDS = """    sources: [INSTORE]
    identifiers:
      INSTORE: {mobile: '9876543210', email: tom@example.com}
"""
WITH_IDS = variant("    sources: [INSTORE]\n", SEED_IDS)


def test_identifiers_of_a_source_the_customer_is_not_in(tmp_path: Path) -> None:
    text = variant("      INSTORE: {mobile", "      WECHAT: {mobile", WITH_IDS)
    problem = only_problem(tmp_path, text)
    assert f"customers[0].identifiers.WECHAT {where(text, 'WECHAT')}" in problem
    assert "identifiers in 'WECHAT', a source the customer is not in (sources: INSTORE)" in problem


def test_an_identifier_is_unique_within_its_source(tmp_path: Path) -> None:
    text = variant(
        "    sources: [WECHAT]\n",
        "    sources: [WECHAT, INSTORE]\n    identifiers:\n"
        "      WECHAT: {mobile: '9876543210'}\n      INSTORE: {mobile: '9876543210'}\n",
        WITH_IDS,
    )
    problem = only_problem(tmp_path, text)
    position = where(text, "'9876543210'", nth=3)
    assert problem.endswith(
        f"customers[1].identifiers.INSTORE.mobile {position}: duplicate mobile '9876543210' in "
        "INSTORE (first at customers[0].identifiers.INSTORE.mobile)"
    )  # the same mobile in WECHAT is another source's: allowed


def test_a_source_with_identifiers_has_the_primary_one(tmp_path: Path) -> None:
    text = variant(
        "{mobile: '9876543210', email: tom@example.com}", "{email: tom@example.com}", WITH_IDS
    )
    problem = only_problem(tmp_path, text)
    assert f"customers[0].identifiers.INSTORE {where(text, '{email')}" in problem
    assert "no mobile, the org's primary identifier (org.primaryIdentifier)" in problem
    by_email = variant("org:\n", "org:\n  primaryIdentifier: email\n", text)
    assert load_document(by_email, "by-email.yaml").primary_identifier == "email"


@pytest.mark.parametrize(
    ("identifiers", "found", "expected"),
    [
        (
            "{mobile: 9876543210}",
            "9876543210",
            "expected a string, got integer 9876543210 (put it in quotes)",
        ),
        (
            "{mobile: '+91 98765'}",
            "'+91 98765'",
            "'+91 98765' does not match the pattern ^[0-9]{6,15}$",
        ),
        ("{mobile: '9876543210', email: tom}", "tom}", "'tom' does not match the pattern"),
        (
            "{mobile: '9876543210', phone: '1'}",
            "phone",
            "unknown key 'phone' (allowed: mobile, email, externalId)",
        ),
    ],
)
def test_identifier_values_have_their_shape(
    tmp_path: Path, identifiers: str, found: str, expected: str
) -> None:
    text = variant("{mobile: '9876543210', email: tom@example.com}", identifiers, WITH_IDS)
    problem = only_problem(tmp_path, text)
    assert where(text, found) in problem and expected in problem, problem


def test_an_unknown_lookup_operation_in_identifier_names(tmp_path: Path) -> None:
    text = variant("org:\n", "org:\n  identifierNames: {deductPoints: [id]}\n")
    problem = only_problem(tmp_path, text)
    assert f"org.identifierNames.deductPoints {where(text, 'deductPoints')}" in problem
    assert "invalid key 'deductPoints'" in problem


STRATEGIES = """
awardStrategies:
  - {id: 13167, programId: 973, points: 500}
expiryStrategies:
  - {id: 11833, programId: 973}
"""


@pytest.mark.parametrize(
    ("old", "new", "place", "expected"),
    [
        (
            "programId: 973, points",
            "programId: 975, points",
            "awardStrategies[0].programId",
            "unknown program 975",
        ),
        (
            "points: 500}",
            "points: 500, pointsPerUnit: 1}",
            "awardStrategies[0]",
            "give points (a fixed award) or pointsPerUnit (an award per unit of sourceValue), "
            "not both",
        ),
        (
            "points: 500}",
            "}",
            "awardStrategies[0]",
            "or pointsPerUnit (an award per unit of sourceValue), one of them",
        ),
        (
            "points: 500}",
            "points: 0.0005}",
            "awardStrategies[0].points",
            "0.0005 has 4 decimal places",
        ),
        (
            "{id: 11833, programId: 973}",
            "{id: 11833, programId: 976}",
            "expiryStrategies[0].programId",
            "unknown program 976",
        ),
    ],
)
def test_strategies_are_checked(
    tmp_path: Path, old: str, new: str, place: str, expected: str
) -> None:
    text = variant(old, new, BASE + STRATEGIES)
    problem = only_problem(tmp_path, text)
    assert f": {place} (line" in problem and expected in problem, problem


def test_duplicate_strategy_ids(tmp_path: Path) -> None:
    text = BASE + STRATEGIES + "  - {id: 11833, programId: 974}\n"
    problem = only_problem(tmp_path, text)
    assert "expiryStrategies[1].id" in problem
    assert "duplicate expiry strategy id 11833 (first at expiryStrategies[0])" in problem


def test_a_currency_identifier_is_unique_in_the_org(tmp_path: Path) -> None:
    text = variant(
        "      - name: coins\n",
        "      - name: coins\n        identifier: X1\n      - name: gems\n        identifier: X1\n",
    )
    problem = only_problem(tmp_path, text)
    assert f"programs[0].alternateCurrencies[1].identifier {where(text, 'X1', nth=2)}" in problem
    assert (
        "duplicate currency identifier 'X1' (first at programs[0].alternateCurrencies[0]" in problem
    )
