"""``capmock compat OLD NEW``: do clients of the OLD contract break under the NEW one?

One module per job: ``documents`` reads the two contracts, ``operations`` and
``schemas`` hold the structural rules, ``catalogue`` compares the error codes,
``crosscheck`` tries generated messages, ``compare`` merges it all into a ``Report``
of ``findings``, and ``render`` writes it out.
"""

from contract_tests.compat.compare import compare
from contract_tests.compat.crosscheck import Budget
from contract_tests.compat.documents import CompatError, Contract, load, load_pair
from contract_tests.compat.findings import Finding, Report, Severity

__all__ = [
    "Budget",
    "CompatError",
    "Contract",
    "Finding",
    "Report",
    "Severity",
    "compare",
    "load",
    "load_pair",
]
