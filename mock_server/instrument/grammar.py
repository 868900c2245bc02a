"""The command line's small grammar for failures: ``--fault``, ``--latency`` and
``--rate-limit``. Each spec becomes the JSON document the admin API takes for the same
thing (``openapi/admin.yaml``), which is then checked against the same schema, so that
a fault given on the command line and one POSTed are one thing.

Durations carry a unit: ``250ms``, ``2s``, ``1.5m``. A range is ``40-400ms``.

``--fault``: comma-separated items, exactly one of which is the action:

    code=8907 | status=503 | delay=200ms | delay=40-400ms | delay,median=80ms,sigma=0.5
    | timeout | timeout=30s | reset | empty | malformed | malformed=truncated|html

then any of ``phase=before|after_commit``, ``p=0.02`` (or ``probability=``), ``times=N``,
``ttl=30s``, ``seed=N``, and what it matches: ``op=deductPoints`` (or ``operation=``),
``user=388034468`` (or ``userId=``), ``source=INSTORE``, ``session=ID``,
``body.FIELD=VALUE`` (VALUE read as JSON when it is JSON, else as text).

``--latency``: ``80ms``, ``40-400ms`` or ``lognormal:median=80ms,sigma=0.5``.

``--rate-limit``: ``100/min``; the period is ``s`` (``sec``, ``second``), ``m`` (``min``,
``minute``) or ``h`` (``hour``).
"""

from __future__ import annotations

import json
import re
from typing import Any

UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000}
PERIODS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
}
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DURATION = re.compile(rf"({_NUMBER})(ms|s|m)")
_RANGE = re.compile(rf"({_NUMBER})(ms|s|m)?-({_NUMBER})(ms|s|m)")

ACTION_WORDS = ("reset", "empty", "timeout", "malformed", "delay")
ACTION_KEYS = ("code", "status", "delay", "timeout", "malformed")
ALIASES = {
    "p": "probability",
    "op": "operation",
    "user": "userId",
}
MATCH_KEYS = ("operation", "userId", "source", "session")
OPTION_KEYS = ("phase", "probability", "times", "ttl", "seed", "median", "sigma")


class SpecError(ValueError):
    """A spec that cannot be read; the message says what is wrong in it."""


def parse_duration_ms(text: str) -> float:
    """``250ms``, ``2s`` or ``1.5m``, in milliseconds."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise SpecError(f"{text!r} is not a duration such as 250ms, 2s or 1.5m")
    return _number(float(found[1]) * UNITS_MS[found[2]])


def parse_delay(text: str) -> dict[str, Any]:
    """A fixed duration or a range, as a ``Delay`` document: ``{"ms": 250}`` or
    ``{"ms": [40, 400]}``."""
    found = _RANGE.fullmatch(text.strip())
    if found is None:
        return {"ms": parse_duration_ms(text)}
    low = float(found[1]) * UNITS_MS[found[2] or found[4]]
    high = float(found[3]) * UNITS_MS[found[4]]
    return {"ms": [_number(low), _number(high)]}


def parse_latency(text: str) -> dict[str, Any]:
    """``--latency``: ``80ms``, ``40-400ms`` or ``lognormal:median=80ms,sigma=0.5``."""
    kind, colon, rest = text.strip().partition(":")
    if not colon:
        return parse_delay(text)
    if kind != "lognormal":
        raise SpecError(f"{kind!r} is not a distribution: use lognormal:median=80ms,sigma=0.5")
    items = _items(rest)
    unknown = sorted(set(items) - {"median", "sigma"})
    if unknown or set(items) != {"median", "sigma"}:
        raise SpecError("lognormal takes median and sigma, e.g. lognormal:median=80ms,sigma=0.5")
    return {"median": parse_duration_ms(items["median"]), "sigma": _float("sigma", items["sigma"])}


def parse_rate(text: str) -> dict[str, Any]:
    """``100/min`` as a ``RateLimit`` document: ``{"requests": 100, "seconds": 60}``.
    A bare number is per second."""
    number, _, unit = text.strip().partition("/")
    seconds = PERIODS.get(unit.strip().lower() or "s")
    requests = float(number) if re.fullmatch(_NUMBER, number.strip()) else 0.0
    if seconds is None or requests <= 0:
        raise SpecError(f"{text!r} is not a rate such as 10/s, 100/min or 1000/h")
    return {"requests": _number(requests), "seconds": seconds}


def parse_fault(text: str) -> dict[str, Any]:
    """A ``--fault`` spec as the document ``POST /__admin/faults`` takes."""
    fault: dict[str, Any] = {}
    match: dict[str, Any] = {}
    body: dict[str, Any] = {}
    action: dict[str, Any] | None = None
    options: dict[str, str] = {}
    for key, value in _pairs(text):
        if key.startswith("body.") and len(key) > 5:
            body[key[5:]] = _json_or_text(value or "")
        elif key in ACTION_KEYS or (value is None and key in ACTION_WORDS):
            if action is not None:
                raise SpecError(f"two actions, {action['type']} and {key}: give one")
            action = _action(key, value)
        elif value is None:
            raise SpecError(f"{key!r} is not an action ({', '.join(ACTION_WORDS)}) or key=value")
        elif key in MATCH_KEYS:
            match[key] = int(_integer(key, value)) if key == "userId" else value
        elif key in OPTION_KEYS:
            options[key] = value
        else:
            raise SpecError(f"unknown key {key!r}")
    if action is None:
        raise SpecError(
            "no action: give one of code=N, status=N, delay=..., timeout, reset, empty, malformed"
        )
    _lognormal(action, options)
    if body:
        match["body"] = body
    if match:
        fault["match"] = match
    fault["action"] = action
    if "phase" in options:
        fault["phase"] = options["phase"]
    if "probability" in options:
        fault["probability"] = _float("p", options["probability"])
    if "times" in options:
        fault["times"] = _integer("times", options["times"])
    if "ttl" in options:
        fault["ttl"] = parse_duration_ms(options["ttl"]) / 1000
    if "seed" in options:
        fault["seed"] = _integer("seed", options["seed"])
    return fault


def _pairs(text: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for item in text.split(","):
        key, equals, value = item.strip().partition("=")
        key = ALIASES.get(key.strip(), key.strip())
        if not key:
            raise SpecError("an empty item (two commas in a row, or a comma at an end)")
        if key in seen:
            raise SpecError(f"{key} is given twice")
        seen.add(key)
        pairs.append((key, value.strip() if equals else None))
    return pairs


def _items(text: str) -> dict[str, str]:
    return {key: value or "" for key, value in _pairs(text)}


def _action(key: str, value: str | None) -> dict[str, Any]:
    if key == "code":
        return {"type": "code", "code": _integer("code", value or "")}
    if key == "status":
        return {"type": "status", "status": _integer("status", value or "")}
    if key == "delay":
        return {"type": "delay"} if value is None else {"type": "delay", **parse_delay(value)}
    if key == "timeout":
        return (
            {"type": "timeout"}
            if value is None
            else {
                "type": "timeout",
                "ms": parse_duration_ms(value),
            }
        )
    if key == "malformed":
        return {"type": "malformed"} if value is None else {"type": "malformed", "kind": value}
    return {"type": key}


def _lognormal(action: dict[str, Any], options: dict[str, str]) -> None:
    """``delay,median=80ms,sigma=0.5``: the log-normal delay's two parameters."""
    given = [name for name in ("median", "sigma") if name in options]
    if not given:
        if action == {"type": "delay"}:
            raise SpecError("delay needs a time (delay=200ms, delay=40-400ms) or median and sigma")
        return
    if action["type"] != "delay" or "ms" in action or len(given) != 2:
        raise SpecError(
            "median and sigma go together, with a bare delay: delay,median=80ms,sigma=0.5"
        )
    action["median"] = parse_duration_ms(options.pop("median"))
    action["sigma"] = _float("sigma", options.pop("sigma"))


def _integer(name: str, text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text.strip()):
        raise SpecError(f"{name} must be a whole number, got {text!r}")
    return int(text)


def _float(name: str, text: str) -> float:
    if not re.fullmatch(rf"-?{_NUMBER}", text.strip()):
        raise SpecError(f"{name} must be a number, got {text!r}")
    return _number(float(text))


def _number(value: float) -> float:
    """Whole numbers as ints, so that documents read as they were written."""
    return int(value) if value.is_integer() else value


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def checked(document: dict[str, Any], schema: str) -> dict[str, Any]:
    """``document``, once the admin API's schema ``schema`` accepts it; else SpecError
    naming the first problem, as the admin API would."""
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import relevance

    from mock_server.contract import admin_schemas
    from mock_server.lanes.validation import problem

    errors = Draft4Validator(admin_schemas()[schema]).iter_errors(document)
    error = max(errors, key=relevance, default=None)
    if error is None:
        return document
    raise SpecError(problem(error))
