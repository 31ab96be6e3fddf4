"""The project's tests in two tiers (``docs/testing.md``): ``pytest tests`` runs the default tier, ``pytest tests --full`` everything.

A test of the full tier carries the ``full`` mark (``tests.tiers.FULL``). A run without ``--full`` deselects
those tests and ends with one line saying how many it left out and how to run them; ``--full`` deselects
nothing, so ``pytest tests --full`` runs every test, the default tier's included (``--full -m full``: only the
full tier's).
"""

from __future__ import annotations

import pytest

from tests.pool_runs import SessionRuns, in_xdist
from tests.tiers import DESELECTED, FULL_MARK, FULL_OPTION, deselected_line, longest_first, split_tiers


@pytest.fixture(scope="session")
def spec_pool(request):
    """The session's pool of spec runners (``tests/pool_runs.py``), shared by the mutant zoo, the correct layers
    and the alternatives. A default run gives it one worker process: its jobs (a sample) fit on one core beside
    the tests that run the spec in new processes one after another, which a second worker would slow down
    (102 s against 114 s for ``pytest tests``, docs/testing.md). ``--full`` gives it two: the whole zoo is more
    than the rest of the session."""
    runs = SessionRuns(None if request.config.getoption(FULL_OPTION) else 1)
    yield runs
    runs.close()


@pytest.fixture(scope="session", autouse=True)
def _spec_jobs_from_the_start(request, spec_pool):
    """In a default run, the pool starts on the session's spec jobs with its first test, so its worker runs
    beside the tests that wait on one process each. ``--full`` keeps the start at the first pool test: the
    benchmark calibration's timings should not share the machine with the zoo."""
    if not request.config.getoption(FULL_OPTION):
        spec_pool.prefetch(request.session.items)


def pytest_addoption(parser):
    parser.addoption(FULL_OPTION, action="store_true", default=False,
                     help="run the full tier too (the whole mutant zoo, every correct layer, the wheel workflow, "
                          f"the benchmark calibration...): every test; without it the '{FULL_MARK}' tests are "
                          "deselected")


def pytest_configure(config):
    """Under pytest-xdist, tests go out two at a time (``--maxschedchunk 1`` unless given): its default first hands
    each worker a quarter of its share in one block, so the longest tests, first in the order, all went to one."""
    if getattr(config.option, "maxschedchunk", False) is None:
        config.option.maxschedchunk = 1


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle and the -m/-k deselection
def pytest_collection_modifyitems(config, items):
    if in_xdist():  # every worker computes the same order; the longest tests are handed out first
        items[:] = longest_first(items)
    if config.getoption(FULL_OPTION):
        config.stash[DESELECTED] = 0
        return
    default, full = split_tiers(items)
    config.stash[DESELECTED] = len(full)
    if full:
        config.hook.pytest_deselected(items=full)
        items[:] = default
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller prints the line
        config.workeroutput["full_tier_deselected"] = len(full)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist's controller: every worker collects the same items, so each reports the same count."""
    count = getattr(node, "workeroutput", {}).get("full_tier_deselected")
    if count is not None:
        node.config.stash[DESELECTED] = count


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, config):
    """The outermost wrapper: the line comes after pytest's short test summary, just above its final line."""
    yield
    line = deselected_line(config.stash.get(DESELECTED, 0))
    if line:
        terminalreporter.write_line(line, yellow=True)
