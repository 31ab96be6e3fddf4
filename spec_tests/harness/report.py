"""The report: every clause's outcome gathered into a :class:`RunResult`, the end-of-run summary, the file.

Every spec run ends, after pytest's own summary, with the causes of its
failures (:mod:`~spec_tests.harness.causes`: the failed clauses grouped by the
mistake behind them, biggest first, each with an example, the fix where one is
known and a command that reruns just its clauses), then a table, one row per
spec area in reading order (passed, failed, advisory, xfailed, skipped), and a
verdict naming the implementation and the profile. ``--spec-report PATH``
writes the same as Markdown, or JSON when PATH ends in ``.json``
(:mod:`~spec_tests.harness.render`).

At the end of a run each cause's clause ids go into pytest's cache, for
``--spec-cause`` (:mod:`~spec_tests.harness.rerun`).

Levels: a failing SHOULD clause is an **advisory**. Its report becomes a
non-failure (shown as ``A``/``ADVISORY``, counted as ``advisory``), so the exit
status is 0 for a layer that conforms with advisories. ``--spec-strict`` (or
``LAYER_SPEC_STRICT=1``) leaves SHOULD failures as failures.

Works with pytest-xdist: workers tag each clause's report with its area, id,
rule and message in ``pytest_runtest_makereport`` (the hints part adds the
hint); the controller, which has no items, gathers the tagged reports in
``pytest_runtest_logreport``. Dormant unless the run involves the spec.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
from pathlib import Path

import pytest

from spec_tests import environment
from spec_tests.harness import (
    attribution,
    capabilities,
    catalogue,
    causes,
    options,
    render,
    repro,
    rerun,
    selection,
    summary,
    xfail,
)
from spec_tests.harness.catalogue import SHOULD
from spec_tests.harness.results import ClauseResult, RunResult
from spec_tests.harness.text import HINT_LINE, exception_text, strip_ansi

#: The plugin name under which the reporter is registered (the runner looks it up).
REPORTER = "layer-spec-conformance"
_MESSAGE_LINES = 6
_FILES_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser):
    selection.add_option(parser, "--spec-report", dest="layer_spec_report", metavar="PATH",
                         help="write the conformance report (implementation, versions, profile, per-area table, "
                         "failed clauses with rule and hint) as Markdown, or JSON when PATH ends in .json")

    selection.add_option(parser, "--spec-strict", dest="layer_spec_strict", action="store_true", default=False,
                         ini=environment.INI_KEYS[environment.STRICT], ini_type="bool",
                         help="count advisories (failed SHOULD clauses) and platform outcomes (clauses that pass "
                         "only without this machine's defective kernels) as failures: they then decide the verdict "
                         "and the exit status (default: $LAYER_SPEC_STRICT, else off)")


def strict(config) -> bool:
    """Whether advisories count as failures: ``--spec-strict``, else ``LAYER_SPEC_STRICT``, else the ini key."""
    if config.getoption("layer_spec_strict", False):
        return True
    env = os.environ.get(environment.STRICT, "").strip()
    if env:
        return environment.truthy(env)
    try:
        return bool(config.getini(environment.INI_KEYS[environment.STRICT]))
    except ValueError:  # the ini key is not registered (a config without this plugin)
        return False


def pytest_configure(config):
    config.addinivalue_line("markers", f"{catalogue.SHOULD_MARKER}: a SHOULD clause (form of a refusal, good "
                            "practice): its failure is an advisory, not a failure, unless --spec-strict")
    if not hasattr(config, "workerinput"):  # the xdist controller, or a run without xdist
        config.pluginmanager.register(ConformanceReporter(config), REPORTER)


def failure_message(exc: BaseException) -> str:
    """The first lines of a failure, without hint lines: ``Type: message``."""
    lines = [line.rstrip() for line in f"{type(exc).__name__}: {strip_ansi(exception_text(exc))}".splitlines()]
    lines = [line for line in lines if line.strip() and not HINT_LINE.match(line)]
    if len(lines) > _MESSAGE_LINES:
        lines = lines[:_MESSAGE_LINES] + ["..."]
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Tag a clause's report with its area, id, rule and level, and on failure its message (read on the controller).

    tryfirst: the outermost wrapper, after the hints part and pytest's xfail handling. A failed SHOULD clause
    becomes an advisory here, unless strict.
    """
    report = yield
    if selection.active(item.config) is None or not catalogue.is_clause(item):
        return report
    state = selection.state_of(item)
    report.spec_impl = state.id
    report.spec_area = catalogue.area_of(item)
    report.spec_id = selection.base_id(catalogue.item_ids(item)[1], state)
    report.spec_rule = catalogue.clause_rule(getattr(item, "function", None))
    report.spec_level = catalogue.level_of(item)
    report.spec_capability = catalogue.capability_of(item)  # capabilities: which one the clause checks, if any
    report.spec_not_claimed = report.spec_capability not in (None, *state.capabilities)
    if call.excinfo is not None and report.failed and isinstance(call.excinfo.value, Exception):
        exc = call.excinfo.value
        report.spec_message = failure_message(exc)
        report.spec_exc_type = type(exc).__name__
        report.spec_origin_type, report.spec_origin = causes.origin_of(
            exc, implementation_files(item.config, state), str(item.config.invocation_params.dir))
    if report.failed and report.spec_level == SHOULD and not strict(item.config):
        first = (getattr(report, "spec_message", "") or "").splitlines()[:1]
        report.outcome = "skipped"  # neither passed nor failed, like an xfail: pytest's exit status ignores it
        report.wasxfail = f"advisory (SHOULD clause failed): {first[0] if first else report.when}"
        report.spec_advisory = True
    return report


def implementation_files(config, state) -> frozenset:
    known = config.stash.setdefault(_FILES_KEY, {})
    if state.id not in known:
        known[state.id] = causes.implementation_files(state.cls)
    return known[state.id]


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report, config):
    if getattr(report, "spec_advisory", False):
        return "advisory", "A", ("ADVISORY", {"yellow": True})
    return None


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    path = getattr(collector, "path", None)
    if report.failed and isinstance(collector, pytest.Module) and path is not None and path.parent.name == "spec_tests":
        report.spec_module = f"spec_tests/{path.name}"  # a spec module that failed to import
    return report


def _probe_dict() -> dict:
    from spec_tests import platform_probe

    return platform_probe.probe().as_dict()


def _spec_version() -> str:
    try:
        from importlib.metadata import version

        return version("keras-dense-layer-spec")
    except Exception:  # noqa: BLE001 - a checkout that is not installed
        return "unknown"


class ConformanceReporter:
    """Gathers every clause's outcome (on the xdist controller too) and writes the summary and the report."""

    def __init__(self, config):
        self.config = config
        self.clauses: dict[tuple, ClauseResult] = {}  # (implementation id, clause id) -> its result
        self.capability_of: dict[tuple, str] = {}  # capabilities: (implementation id, clause id) -> its capability
        self.collect_errors: list[dict] = []
        self.written: Path | None = None
        self.write_error: str | None = None
        self.baseline: str | None = None  # what --xfail-write wrote
        self.interrupted = False
        self.attributed: dict[str, dict] = {}  # implementation id -> what the platform rerun did (attribution.py)

    # ---- gathering

    def pytest_runtest_logreport(self, report):
        area = getattr(report, "spec_area", None)
        if area is None:
            return
        clause_id = getattr(report, "spec_id", None) or catalogue.canonical_id(report.nodeid)
        key = (getattr(report, "spec_impl", ""), clause_id)
        clause = self.clauses.get(key)
        if clause is None:
            clause = self.clauses[key] = ClauseResult(clause_id, area, getattr(report, "spec_rule", ""))
        if getattr(report, "spec_capability", None):
            self.capability_of[key] = report.spec_capability
        if clause.outcome == "failed":
            return
        clause.level = getattr(report, "spec_level", clause.level)
        if report.failed or getattr(report, "spec_advisory", False):
            clause.outcome = "advisory" if getattr(report, "spec_advisory", False) else "failed"
            clause.when = report.when
            clause.hint = getattr(report, "spec_hint", None)
            clause.pitfall = getattr(report, "spec_pitfall", None)
            clause.pitfall_name = getattr(report, "spec_pitfall_name", None)
            clause.exc_type = getattr(report, "spec_exc_type", "")
            clause.origin = getattr(report, "spec_origin", "")
            clause.origin_type = getattr(report, "spec_origin_type", "")
            clause.message = getattr(report, "spec_message", "") or strip_ansi(str(report.longreprtext)).strip()[:2000]
            if report.when != "call":
                clause.message = f"(error in {report.when}) {clause.message}"
        elif report.skipped and getattr(report, "spec_not_claimed", False):
            clause.outcome, clause.reason = capabilities.NOT_CLAIMED, f"not claimed: {report.spec_capability}"
        elif report.skipped:
            if hasattr(report, "wasxfail"):
                clause.outcome, clause.reason = "xfailed", report.wasxfail
            else:
                longrepr = report.longrepr
                clause.reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
                offered = clause.reason.removeprefix("Skipped: ").startswith(options.SKIP_REASON)
                clause.outcome = options.NOT_OFFERED if offered else "skipped"
        elif report.when == "call":
            clause.outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
            clause.reason = getattr(report, "wasxfail", "")

    def pytest_collectreport(self, report):
        module = getattr(report, "spec_module", None)
        if module is not None and report.failed:
            lines = strip_ansi(str(report.longreprtext)).strip().splitlines()
            last = re.sub(r"^E\s+", "", lines[-1]) if lines else "collection failed"
            self.collect_errors.append({"id": module, "message": last})

    def pytest_keyboard_interrupt(self, excinfo):
        self.interrupted = True

    # ---- summarising

    def involved(self) -> bool:
        return bool(self.clauses or self.collect_errors)

    def result(self, state=None) -> RunResult:
        """What this run found so far about one implementation (default: the run's first)."""
        from spec_tests import generation

        state = state or selection.resolve(self.config)
        clauses = [clause for (impl, _), clause in self.clauses.items() if impl == state.id]
        outcomes: dict[str, list[str]] = {}
        for (impl, clause_id), name in self.capability_of.items():
            if impl == state.id:
                outcomes.setdefault(name, []).append(self.clauses[(impl, clause_id)].outcome)
        result = RunResult(
            implementation={"spec": state.spec, "class": state.label, "file": state.source, "id": state.id},
            profile={"name": state.profile, "contract": catalogue.PROFILES[state.profile]},
            versions={"runtime": generation.describe(), "python": platform.python_version(),
                      "pytest": pytest.__version__, "layer_spec": _spec_version()},
            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            clauses=clauses,
            collection_errors=list(self.collect_errors),
            unmatched_xfail_entries=[vars(entry) for entry in xfail.unmatched_entries(self.config) or []],
            interrupted=self.interrupted,
            strict=strict(self.config),
            rerun=rerun.rerun_prefix(self.config, state),
            capabilities=capabilities.rows(state.capabilities, outcomes, *capabilities.runtime()),
            probe=_probe_dict(),
            drop_in=dict(zip(("drop_in", "reasons"), options.offer(state.cls, state.options).drop_in())),
            attribution=dict(self.attributed.get(state.id, {})),
        )
        repro.attach(result, state, generation.LEGACY)
        return result

    def results(self) -> list[RunResult]:
        """One result per implementation of the run, in the order they were named."""
        return [self.result(state) for state in selection.implementations(self.config)]

    # ---- writing

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            self.interrupted = True
        if not self.involved():
            return
        self._attribute(session)
        results = self.results()
        for result in results:
            rerun.remember_causes(self.config, result)
        self.baseline = xfail.write_baseline(self.config, results)
        target = self.config.getoption("layer_spec_report", None)
        if not target:
            return
        path = Path(self.config.invocation_params.dir, target)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix.lower() == ".json":
                data = results[0].to_dict() if len(results) == 1 else render.combined_dict(results)
                path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            else:
                path.write_text(render.render_runs(results), encoding="utf-8")
            self.written = path
        except OSError as exc:
            self.write_error = f"could not write --spec-report {str(path)!r}: {exc}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _attribute(self, session) -> None:
        """Rerun the failures a platform defect could explain under the platform's reference configuration; a clause
        that passes there becomes a ``platform`` outcome, in the terminal's counts and the exit status too."""
        if self.interrupted or not any(clause.outcome == "failed" for clause in self.clauses.values()):
            return
        from spec_tests import platform_probe

        probe = platform_probe.probe()
        if not probe.can_attribute():
            return
        moved = set()
        for state in selection.implementations(self.config):
            clauses = [clause for (impl, _), clause in self.clauses.items() if impl == state.id]
            done = attribution.attribute(clauses, state, probe, str(self.config.invocation_params.dir))
            if done["rerun"]:
                self.attributed[state.id] = done
            moved |= {(state.id, clause.id) for clause in clauses if clause.outcome == attribution.PLATFORM}
        if moved and not strict(self.config):
            self._excuse(session, moved)

    def _excuse(self, session, moved: set) -> None:
        """pytest's own counts and exit status no longer count the platform outcomes as failures."""
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        failed = terminal.stats.get("failed", []) if terminal is not None else []
        keep, excused = [], []
        for report in failed:
            key = (getattr(report, "spec_impl", None), getattr(report, "spec_id", None))
            (excused if key in moved else keep).append(report)
        if terminal is not None and excused:
            terminal.stats["failed"] = keep
            terminal.stats.setdefault(attribution.PLATFORM, []).extend(excused)
        session.testsfailed = max(0, session.testsfailed - (len(excused) if terminal is not None else len(moved)))
        if session.exitstatus == pytest.ExitCode.TESTS_FAILED and not session.testsfailed and not (
                terminal is not None and terminal.stats.get("error")):
            session.exitstatus = pytest.ExitCode.OK

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        """After pytest's own summary (tracebacks, the short test summary): the run ends with the causes, the
        table and the verdict, so its last screen says what is wrong and how to fix it."""
        outcome = yield
        self._summarise(terminalreporter)
        return outcome

    def _summarise(self, tr) -> None:
        if not self.involved():
            summary.write_unmatched(tr, xfail.unmatched_entries(self.config))
            return
        summary.write(tr, self.results(), selection.refused(self.config), xfail.unmatched_entries(self.config))
        if self.baseline is not None:
            tr.write_line(self.baseline)
        if self.written is not None:
            tr.write_line(f"conformance report written to {self.written}")
        if self.write_error:
            tr.write_line(self.write_error, red=True)


__all__ = ["REPORTER", "ConformanceReporter", "failure_message", "implementation_files"]
