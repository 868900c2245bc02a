"""Contract tests: check that a server honours ``openapi/capillary.yaml``.

Runnable three ways: ``capmock test`` (see ``runner.py``), ``pytest contract_tests``
(see ``plugin.py``) and the ``contract`` tox environment. The checks themselves live in
plain modules with a programmatic API, so the project's own tests can point them at
deliberately broken servers.
"""
