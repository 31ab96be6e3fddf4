"""Spec runs in worker processes for the project's tests that run the whole spec on many classes.

Both the mutant zoo (``tests/test_mutants.py``) and the correct layers (``tests/test_correct_layers.py``) run
one spec job per parametrized case. Outside xdist, every collected case is submitted at once, so two workers
(``spec_tests/harness/pool.py``) work through them in the order pytest asks; under xdist each xdist worker
keeps one worker process and submits only the cases the scheduler gives it.
"""

from __future__ import annotations

import contextlib
import os

from spec_tests.harness.pool import WorkerPool


@contextlib.contextmanager
def pool_runs(request, test_name: str, param: str, job_of, wanted=lambda value: True):
    """Yield ``run(value) -> RunResult`` for the ``param`` values of ``test_name``; ``job_of(value)`` is its Job."""
    in_xdist = "PYTEST_XDIST_WORKER" in os.environ
    pool = WorkerPool(1 if in_xdist else None)
    futures = {}

    def submit(value):
        job = job_of(value)
        if job.spec not in futures:
            futures[job.spec] = pool.submit(job)
        return futures[job.spec]

    if not in_xdist:  # under xdist the scheduler decides which cases this process gets: no prefetch
        for item in request.session.items:
            value = getattr(getattr(item, "callspec", None), "params", {}).get(param)
            if getattr(item, "originalname", None) == test_name and value is not None and wanted(value):
                submit(value)
    try:
        yield lambda value: submit(value).result()
    finally:
        for future in futures.values():
            future.cancel()  # an interrupted session (-x, Ctrl-C) does not wait for the rest
        pool.close()
