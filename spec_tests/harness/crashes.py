"""A clause that crashes a pytest-xdist worker (``pytest -n 1``): its report tagged as the spec's failure.

pytest-xdist replaces a worker that dies (a segfault in a custom op, ``os.abort()``) and reports the test it was
running as failed (``worker 'gw0' crashed while running ...``). That report is made on the controller, which has no
items, so the clause record of ``reporter.pytest_runtest_makereport`` is missing and the reporter would leave the
clause out: the verdict would read ``CONFORMS`` over a run pytest counts as failed. ``pytest_handlecrashitem``
(xdist's hook, on the controller) tags it from its node id: the implementation, the area, the clause id, its rule, the
message. A clause that kills the process fails at MUST level whatever its level: the layer's users' process dies
too. ``layer-spec check`` isolates crashes without xdist (:mod:`~spec_tests.harness.launcher`).
"""

from __future__ import annotations

import importlib

import pytest

from spec_tests.harness import catalogue, selection
from spec_tests.harness.records import ClauseResult
from spec_tests.harness.reporter import RECORD, record_of


def _state(config, nodeid: str):
    """The implementation whose id the node id carries (the run's only one when it checks one)."""
    states = selection.implementations(config)
    case = nodeid.partition("[")[2].removesuffix("]")
    for state in states:
        if state.id and state.id in case.split("-"):
            return state
    return states[0]


def _rule(nodeid: str) -> str:
    name = nodeid.split("::")[-1].partition("[")[0]
    try:
        function = getattr(importlib.import_module(catalogue.area_module(catalogue.area_of(nodeid))), name, None)
    except Exception:  # noqa: BLE001 - the rule is a courtesy; the failure stands without it
        return ""
    return catalogue.clause_rule(function)


class _CrashTags:
    def __init__(self, config):
        self.config = config

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched):
        config = self.config
        if selection.active(config) is None or record_of(report) is not None:
            return
        state = _state(config, crashitem)
        report.when = "call"  # it crashed while the clause ran; not an error in setup or teardown
        record = ClauseResult(selection.base_id(catalogue.canonical_id(crashitem), state), catalogue.area_of(crashitem),
                              _rule(crashitem), outcome="failed", when="call", level=catalogue.MUST,
                              exc_type="ProcessDied",
                              message=f"ProcessDied: {report.longrepr}: the process died in this clause")
        report.user_properties.append((RECORD, {"impl": state.id, "clause": record.as_dict()}))


def pytest_configure(config):
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):  # the controller
        config.pluginmanager.register(_CrashTags(config), "layer-spec-crash-tags")
