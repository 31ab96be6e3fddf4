"""The harness: everything that runs, reports on and times the spec, kept apart from the clauses.

The clauses (``spec_tests/test_<area>.py``) and what they use (``conftest.py``,
``helpers.py``, ``generation.py``, ``devices.py``) never import from here,
except the fixtures, which ask :mod:`~spec_tests.harness.selection` for the
class under test. How one run flows through these modules: ``docs/architecture.md``.

=================  ===============================================================================
module             its one job
=================  ===============================================================================
``plugin``         the ``pytest11`` entry point: registers the plugin parts below
``selection``      choose the implementations, their profiles and claims (flags, environment, ini)
``impls``          load a class from ``module:Class`` / ``file.py:Class``; one implementation's state
``portable``       which backends a layer runs on; one message where it cannot
``catalogue``      the profiles, the areas in reading order, levels, capabilities, the clauses
``capabilities``   claimed x what Keras's Dense has here: which capability clauses run; their table
``hints``          what mistake a failure shows: the known pitfalls, and failures grouped by cause
``xfail``          ``--xfail-file`` (known failures) and ``--xfail-write`` (a baseline)
``reporter``       one record per clause (notes on a failure), a time limit per clause, the records into one
                   result per implementation, the end of a run in the terminal, the report file
``rerun``          ``--spec-cause``: rerun the clauses of one cause of the last run
``records``        the record types (one clause case, one run) and the outcome and verdict words
``render``         records as the Markdown (and combined JSON) report
``repro``          a failed clause's standalone reproduction, and running it outside pytest
``diff``           ``layer-spec diff``: regressions and fixes between two saved reports
``launcher``       every child process and in-process pytest run: one import rule; crashes; ``check``'s child
``runs``           a run of the spec as a result: in this process, or as a job of the worker pool
``crashes``        a clause that crashes a pytest-xdist worker, tagged as the spec's failure
``api``            ``spec_tests.check`` and ``spec_tests.parametrize_with_clauses``
``cli``            ``layer-spec check``, ``list``, ``diff``, ``bench``
``parity``         ``layer-spec check --backends``: a run per backend, then parity
``text``           clean exception text; the exception chain
``bench/``         the benchmarks' catalogue, contenders, table, plot, hooks, commands
=================  ===============================================================================
"""
