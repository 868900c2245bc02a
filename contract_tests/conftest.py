"""Makes ``pytest contract_tests`` load the contract-test plugin (options, target, report)."""

from contract_tests.plugin import *  # noqa: F403
