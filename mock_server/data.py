"""Where the shipped data lives: the OpenAPI documents and the fixtures.

An installed wheel carries them as package data under ``mock_server/_data/``, found with
``importlib.resources``. A source checkout (or an editable install) has no copy: there
they are the checkout's top-level ``openapi/`` and ``fixtures/`` folders, recognised by the
``pyproject.toml`` beside them, so that an unrelated ``fixtures`` package installed in
site-packages is never taken for ours.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _data_dir(name: str) -> Path:
    packaged = Path(str(files("mock_server") / "_data" / name))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    raise FileNotFoundError(f"capmock is missing its {name}/ folder (looked in {packaged})")


OPENAPI_DIR = _data_dir("openapi")
FIXTURES_DIR = _data_dir("fixtures")
CONTRACT = OPENAPI_DIR / "capillary.yaml"
ADMIN_CONTRACT = OPENAPI_DIR / "admin.yaml"
DEFAULT_FIXTURES = FIXTURES_DIR / "default.yaml"
FIXTURE_SCHEMA = FIXTURES_DIR / "fixture.schema.json"
