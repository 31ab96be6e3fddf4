"""The spec's pytest entry point (``pytest11``): it registers the harness's plugin parts, one job each.

* :mod:`~spec_tests.harness.selection`: ``--impl`` and ``--profile``, the header, the profile's skips;
* :mod:`~spec_tests.harness.xfail`: ``--xfail-file``;
* :mod:`~spec_tests.harness.golden_options`: ``--spec-golden``, the golden set the compatibility clauses read;
* :mod:`~spec_tests.harness.reporter`: one record per clause (its failure's hint and notes), the time limit per
  clause, the causes, the per-area table, the verdict and ``--spec-report``;
* :mod:`~spec_tests.harness.rerun`: ``--spec-cause``, rerun the clauses of one cause of the last run;
* :mod:`~spec_tests.harness.crashes`: a clause that crashes a pytest-xdist worker, tagged as the spec's failure;
* :mod:`~spec_tests.harness.bench.plugin`: when the benchmarks run, and their ratio table.

Each part stays dormant in a pytest run that does not involve the spec.
"""

pytest_plugins = [
    "spec_tests.harness.selection",
    "spec_tests.harness.xfail",
    "spec_tests.harness.golden_options",  # --spec-golden, --spec-golden-update (the compatibility clauses' golden set)
    "spec_tests.harness.rerun",  # before reporter, which imports it: a plugin module must be imported first as one
    "spec_tests.harness.reporter",
    "spec_tests.harness.crashes",
    "spec_tests.harness.bench.plugin",
]
