"""The harness: everything that runs, reports on and times the spec, kept apart from the clauses.

The clauses (``spec_tests/test_<area>.py``) and what they use (``conftest.py``,
``helpers.py``, ``generation.py``, ``devices.py``) never import from here,
except the fixtures, which ask :mod:`~spec_tests.harness.selection` for the
class under test. How one run flows through these modules: ``docs/architecture.md``.

=============  ==================================================================
module         its one job
=============  ==================================================================
``plugin``     the ``pytest11`` entry point: registers the plugin parts below
``selection``  choose the implementation and profile (``--impl``, ``--profile``)
``portable``   which backends a layer runs on; one message where it cannot
``catalogue``  the profiles, the areas in reading order, the clauses
``hints``      recognise known pitfalls and append their fix to a failure
``xfail``      ``--xfail-file``: mark known failures
``report``     gather outcomes into a result; print the summary; write the report
``causes``     group failed clauses by the mistake behind them
``rerun``      ``--spec-cause``: rerun the clauses of one cause of the last run
``results``    the result types: one clause case, one run
``render``     a result as the Markdown report
``runner``     one in-process run of the spec, returned as a result
``pool``       runs in worker processes (the mutant zoo)
``cli``        ``layer-spec check`` and ``layer-spec list``
``parity``     ``layer-spec check --backends``: a run per backend, then parity
``text``       clean exception text; the exception chain
``bench/``     the benchmarks' catalogue, contenders, table, plot, hooks, commands
=============  ==================================================================
"""
