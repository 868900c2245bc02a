"""Finding a customer by an identifier: ``identifierName``, ``identifierValue``, ``source``.

One rule shared by every lookup operation (the lookup deduct, the balance, the ledger
and each allocation). Each operation numbers it in its own rules table, so the caller
gives the rows its refusals carry.

- Each name must be one the operation accepts in this org (``org.identifierNames``),
  else 8013.
- ``id`` is the customer's userId; ``mobile``, ``email`` and ``externalId`` are matched
  exactly (case included, no normalisation of mobiles) against the customer's
  identifiers in ``source``; ``ALL`` matches any source, as long as one customer only
  has the value. No customer: 8015.
- ``several`` (the balance lookup with dual eligibility): names and values are
  comma-separated lists in matching order (8013 when their lengths differ); the
  customer is found by ``id`` if given, else by the org's primary identifier, and
  8015 when neither is among them. The other identifiers are not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mock_server import contract
from mock_server.errors import Code, RuleError
from mock_server.model import ID, LOOKUP_NAMES, Customer, World

ANY_SOURCE = "ALL"
_Refuse = Callable[[Code, str], RuleError]
_UNNUMBERED = {Code.INVALID_IDENTIFIER: 0, Code.CUSTOMER_NOT_FOUND: 0}
NO_CUSTOMER = 0
"""The userId an operation decides for when an identifier found nobody: no customer has
it, so the store reads and writes nothing for it and the rules refuse with 8015."""


@dataclass(frozen=True, slots=True)
class Identifier:
    """How a request names its customer; ``operation`` is the operationId, which decides
    the names accepted."""

    operation: str
    source: str
    names: tuple[str, ...]
    values: tuple[str, ...]
    several: bool = False
    """Comma-separated lists allowed (the balance lookup of an org with dual eligibility)."""

    @classmethod
    def of(cls, operation: str, source: str, name: str, value: str) -> Identifier:
        return cls(operation, source, (name,), (value,))


def find(world: World, identifier: Identifier, rows: Mapping[Code, int]) -> Customer | RuleError:
    """The customer the identifier names, or the refusal (numbered by ``rows``)."""

    def refuse(code: Code, reason: str) -> RuleError:
        return RuleError(rows[code], code, reason)

    for name in identifier.names:
        if not world.accepts(identifier.operation, name):
            accepted = [n for n in LOOKUP_NAMES if world.accepts(identifier.operation, n)]
            return refuse(
                Code.INVALID_IDENTIFIER,
                f"{identifier.operation} takes identifierName {', '.join(accepted) or 'none'} "
                f"in this org, not {name!r}",
            )
    if len(identifier.names) != len(identifier.values):
        return refuse(
            Code.INVALID_IDENTIFIER,
            f"{len(identifier.names)} identifierName(s) but {len(identifier.values)} "
            "identifierValue(s): the lists must match in order",
        )
    name, value = identifier.names[0], identifier.values[0]
    if identifier.several:
        given = dict(zip(identifier.names, identifier.values, strict=True))
        primary = ID if ID in given else world.primary_identifier
        if primary not in given:
            return refuse(
                Code.CUSTOMER_NOT_FOUND,
                f"dual eligibility: the org's primary identifier {world.primary_identifier} "
                f"is not among {', '.join(identifier.names)}",
            )
        name, value = primary, given[primary]
    if name == ID:
        return _by_user_id(world, value, identifier.source, refuse)
    return _by_value(world, name, value, identifier.source, refuse)


def _by_user_id(world: World, value: str, source: str, refuse: _Refuse) -> Customer | RuleError:
    customer = (
        world.customers.get(int(value))
        if value.isascii() and value.isdigit() and len(value) < 20
        else None
    )
    if customer is None:
        return refuse(Code.CUSTOMER_NOT_FOUND, f"no customer has userId {value!r}")
    if source != ANY_SOURCE and source not in customer.sources:
        return refuse(
            Code.CUSTOMER_NOT_FOUND,
            f"customer {customer.user_id} is registered in "
            f"[{', '.join(sorted(customer.sources))}]; the request's source is {source}",
        )
    return customer


def _by_value(
    world: World, name: str, value: str, source: str, refuse: _Refuse
) -> Customer | RuleError:
    sources = contract.sources() if source == ANY_SOURCE else (source,)
    found = sorted(
        {
            world.by_identifier[key]
            for key in ((s, name, value) for s in sources)
            if key in world.by_identifier
        }
    )
    if not found:
        where = "any source" if source == ANY_SOURCE else source
        return refuse(Code.CUSTOMER_NOT_FOUND, f"no customer has the {name} {value!r} in {where}")
    if len(found) > 1:
        return refuse(
            Code.CUSTOMER_NOT_FOUND,
            f"the {name} {value!r} names customers {', '.join(map(str, found))} in different "
            "sources; name the source",
        )
    return world.customers[found[0]]


def located(world: World, identifier: Identifier) -> int:
    """The userId of whom the identifier names in ``world``, else ``NO_CUSTOMER``: the
    customer whose balances an operation asks its store for. The rules look again, on
    the world the store decides on, and refuse in their own order."""
    found = find(world, identifier, _UNNUMBERED)
    return found.user_id if isinstance(found, Customer) else NO_CUSTOMER
