"""Outcomes and verdicts: the words a clause case and a run can end with (a leaf: it imports nothing).

:mod:`~spec_tests.harness.results` computes them, :mod:`~spec_tests.harness.render` and
:mod:`~spec_tests.harness.reporter` show them.
"""

#: How a clause case can end. ``advisory``: a SHOULD clause failed (it does not decide the verdict, unless strict).
#: ``platform``: a MUST clause failed on this machine and passed when rerun under the platform's reference
#: configuration (harness/attribution.py): a defect of the platform's kernels, not of the layer (it does not decide
#: the verdict, unless strict).
OUTCOMES = ("passed", "failed", "advisory", "platform", "xfailed", "skipped")
#: Outcomes a table shows only when some clause has them.
OPTIONAL_COLUMNS = ("platform",)
#: The words a verdict can be.
CONFORMS, DOES_NOT_CONFORM, INCOMPLETE, NO_VERDICT = "CONFORMS", "DOES NOT CONFORM", "INCOMPLETE", "NO VERDICT"


__all__ = ["CONFORMS", "DOES_NOT_CONFORM", "INCOMPLETE", "NO_VERDICT", "OPTIONAL_COLUMNS", "OUTCOMES"]
