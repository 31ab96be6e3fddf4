"""Spec runs in worker processes for the project's tests that run the whole spec on many classes.

The mutant zoo (``tests/test_mutants.py``), the correct layers (``tests/test_correct_layers.py``) and the
alternatives (``tests/test_alternatives.py``) run one spec job per parametrized case, in one pool for the whole
session (``tests/conftest.py``: ``spec_pool``), so its workers import TensorFlow once for all of them. Each module registers its test with :func:`register` when it is
imported. Outside xdist, the first case that asks submits every collected case of every registered test at
once, in the order pytest will ask, so the workers (``spec_tests/harness/runs.py``) go from one module's jobs to
the next without waiting; under xdist each xdist worker keeps one worker process and submits only the cases the
scheduler gives it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Callable

from spec_tests.harness.catalogue import spec_areas
from spec_tests.harness.runs import Job, WorkerPool


@dataclasses.dataclass(frozen=True)
class PoolTest:
    """A parametrized test whose cases are spec jobs: the job of each ``param`` value, and which values run here."""

    param: str
    job_of: Callable
    wanted: Callable = lambda value: True


#: test function name -> its PoolTest, filled as the test modules are imported.
REGISTERED: dict[str, PoolTest] = {}


def register(test_name: str, param: str, job_of, wanted=lambda value: True) -> None:
    REGISTERED[test_name] = PoolTest(param, job_of, wanted)


def whole_spec(spec: str, profile: str = "dense") -> Job:
    """The job of a conformance check: every area of the spec against ``spec`` under ``profile``."""
    return Job(spec, tuple(spec_areas()), profile)


def in_xdist() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


class SessionRuns:
    """The session's pool and its futures, one per (test, spec)."""

    def __init__(self, workers: int | None = None):
        """``workers`` processes (``None``: one per core, at most two); one per xdist worker under xdist."""
        self.pool = WorkerPool(1 if in_xdist() else workers)
        self.futures = {}
        self.prefetched = False

    def submit(self, test_name: str, value):
        job = REGISTERED[test_name].job_of(value)
        key = (test_name, job.spec)
        if key not in self.futures:
            self.futures[key] = self.pool.submit(job)
        return self.futures[key]

    def prefetch(self, items) -> None:
        """Submit every collected case of every registered test, in the session's order (not under xdist)."""
        if self.prefetched or in_xdist():
            return
        self.prefetched = True
        for item in items:
            name = getattr(item, "originalname", None)
            if name in REGISTERED:
                value = getattr(getattr(item, "callspec", None), "params", {}).get(REGISTERED[name].param)
                if value is not None and REGISTERED[name].wanted(value):
                    self.submit(name, value)

    def close(self) -> None:
        for future in self.futures.values():
            future.cancel()  # an interrupted session (-x, Ctrl-C) does not wait for the rest
        self.pool.close()


@contextlib.contextmanager
def pool_runs(request, test_name: str):
    """Yield ``run(value) -> RunResult`` for the cases of ``test_name`` (registered with :func:`register`)."""
    runs: SessionRuns = request.getfixturevalue("spec_pool")
    runs.prefetch(request.session.items)
    yield lambda value: runs.submit(test_name, value).result()
