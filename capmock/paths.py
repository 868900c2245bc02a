"""Where the shipped data lives: the OpenAPI documents and the fixtures.

In a source checkout (or an editable install) they are the top-level ``openapi/``
and ``fixtures/`` folders; a wheel carries copies under ``capmock/_data/``.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_HERE.parent / name, _HERE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"capmock is missing its {name}/ folder (looked beside {_HERE})")


OPENAPI_DIR = _data_dir("openapi")
FIXTURES_DIR = _data_dir("fixtures")
CONTRACT = OPENAPI_DIR / "capillary.yaml"
ADMIN_CONTRACT = OPENAPI_DIR / "admin.yaml"
DEFAULT_FIXTURES = FIXTURES_DIR / "default.yaml"
FIXTURE_SCHEMA = FIXTURES_DIR / "fixture.schema.json"
