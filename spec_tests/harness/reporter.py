"""The reporter: one record per clause, built in one hook; the spec's summary and its report, built from the records.

One clause failure, from the assertion to the printed cause, passes through three modules:

1. :mod:`spec_tests.helpers` raises it (``expect_that``/``fail``: ``<what>: expected <x>, seen <y>``, an optional
   ``hint:`` line; ``__tracebackhide__`` keeps the helpers' own frames out of the traceback);
2. this module's :func:`pytest_runtest_makereport` (the spec's only makereport hook) looks the exception chain up
   in the table of known pitfalls (:mod:`~spec_tests.harness.hints`), attaches the rule, the hint and the layer's
   own frames to the exception as notes (``BaseException.add_note``: pytest prints them under the error) before
   pytest builds the failure's text, then builds the clause's record (:class:`~spec_tests.harness.records.ClauseResult`)
   and puts it on the report's ``user_properties`` (it travels with the report through pytest-xdist);
3. :class:`ConformanceReporter` (on the xdist controller too) gathers the records; at the end of the run the causes
   (:func:`~spec_tests.harness.hints.group`), the per-area table and the verdict are printed from them after pytest's own
   summary, and written by ``--spec-report`` (:mod:`~spec_tests.harness.render`).

pytest's conventions stay: the short test summary names failures (``FAILED``), ``--lf``/``--ff``/``-x``/``-k``
work on clauses, ``--junitxml`` writes one testcase per clause with its level, area, rule and hint as properties.
Unless the user gave ``--tb``, a spec run uses ``--tb=short``: the clause's line and the error with its notes.

Levels: a failing SHOULD clause is an **advisory**. Like an xfail (pytest's own skipping plugin does the same in
its makereport wrapper), its report becomes a non-failure here, before any reader sees it (shown as
``A``/``ADVISORY`` through ``pytest_report_teststatus``, counted as ``advisory``), so the exit status is 0 for a
layer that conforms with advisories. ``--spec-strict`` (or ``LAYER_SPEC_STRICT=1``) leaves SHOULD failures as
failures.

Time limit: every clause runs under pytest-timeout's limit (``--clause-timeout``, ``LAYER_SPEC_CLAUSE_TIMEOUT``, ini
``layer_spec_clause_timeout``; default :data:`DEFAULT_CLAUSE_TIMEOUT` s), with the ``signal`` method where the
platform has it, so a clause that hangs fails ("did not finish in N s", with the layer's call it was in) and the
run goes on.

Platform outcomes: failed MUST clauses a defect of this machine's kernels could explain are rerun under the
platform's reference configuration (:mod:`~spec_tests.harness.attribution`); those that pass there are ``platform``
outcomes in the records. pytest's own counts keep them as failed (they failed in this process); the exit status
is 0 when they were the only failures (``session.exitstatus`` in ``pytest_sessionfinish``), unless strict.

Dormant unless the run involves the spec.
"""

from __future__ import annotations

import datetime
import inspect
import json
import os
import platform
import re
import signal
import threading
import traceback
from pathlib import Path

import pytest

from spec_tests import environment
from spec_tests.harness import (
    attribution,
    capabilities,
    catalogue,
    hints,
    options,
    render,
    repro,
    rerun,
    selection,
    xfail,
)
from spec_tests.harness.catalogue import SHOULD
from spec_tests.harness.records import CONFORMS, DOES_NOT_CONFORM, OUTCOMES, ClauseResult, RunResult
from spec_tests.harness.text import HINT_LINE, exception_chain, exception_text, own_hint, strip_ansi

#: The plugin name under which the reporter is registered (the runner looks it up).
REPORTER = "layer-spec-conformance"
#: The ``user_properties`` entry that carries a clause's record on its reports.
RECORD = "layer_spec_record"
#: A clause's time limit, in seconds, when neither the spec's setting nor pytest-timeout's is given. The slowest
#: clause on the reference layer takes 2.2 s (`pytest --durations=5`, 2 cores shared with other sessions).
DEFAULT_CLAUSE_TIMEOUT = 300.0
#: At most this many frames of the layer's own code per failure.
MAX_FRAMES = 3
_MESSAGE_LINES = 6
_FILES_KEY = pytest.StashKey[dict]()
_TIMEOUT_KEY = pytest.StashKey[float]()
_MORE = "(--tb=long shows the spec's and Keras's frames too)"


def pytest_addoption(parser):
    selection.add_option(parser, "--spec-report", dest="layer_spec_report", metavar="PATH",
                         help="write the conformance report (implementation, versions, profile, per-area table, "
                         "failed clauses with rule and hint) as Markdown, or JSON when PATH ends in .json")

    selection.add_option(parser, "--spec-strict", dest="layer_spec_strict", action="store_true", default=False,
                         ini=environment.INI_KEYS[environment.STRICT], ini_type="bool",
                         help="count advisories (failed SHOULD clauses) and platform outcomes (clauses that pass "
                         "only without this machine's defective kernels) as failures: they then decide the verdict "
                         "and the exit status (default: $LAYER_SPEC_STRICT, else off)")
    selection.add_option(parser, "--clause-timeout", metavar="SECONDS",
                         ini=environment.INI_KEYS[environment.CLAUSE_TIMEOUT], ini_type="string",
                         help="fail a clause that runs longer than this (pytest-timeout; 0: no limit; default: "
                         f"${environment.CLAUSE_TIMEOUT}, else pytest-timeout's own --timeout, else "
                         f"{DEFAULT_CLAUSE_TIMEOUT:g})")


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


# --------------------------------------------------------------------------- the time limit


def clause_timeout(config) -> float | None:
    """The spec's time limit per clause in seconds (None: leave it to pytest-timeout's own setting; 0: none)."""
    value, where = selection.setting(config, "layer_spec_clause_timeout", environment.CLAUSE_TIMEOUT)
    if value is None:
        timeout_given = config.getoption("timeout", None) is not None or os.environ.get("PYTEST_TIMEOUT")
        try:
            timeout_given = timeout_given or config.getini("timeout") not in (None, "", "0")
        except ValueError:
            pass
        return None if timeout_given else DEFAULT_CLAUSE_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise pytest.UsageError(f"{where}: the clause time limit must be a number of seconds, seen {value!r}")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """A spec run: every clause gets its time limit, and pytest's tracebacks are short unless the user chose."""
    clauses = [item for item in items if catalogue.is_clause(item)]
    if not clauses or selection.active(config) is None:
        return
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "short"
    if not config.pluginmanager.hasplugin("timeout") or threading.current_thread() is not threading.main_thread():
        return  # off the main thread (a host's in-process run) only the thread method works, which ends the host
    limit = clause_timeout(config)
    if limit is None:
        return
    config.stash[_TIMEOUT_KEY] = limit
    method = "signal" if hasattr(signal, "SIGALRM") else "thread"  # thread: pytest-timeout ends the whole run
    for item in clauses:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(limit, method=method))


def timed_out(exc: BaseException | None) -> bool:
    """Whether ``exc`` is pytest-timeout's failure of a test that ran past its limit."""
    return isinstance(exc, pytest.fail.Exception) and str(exc).startswith("Timeout (>")


# --------------------------------------------------------------------------- one record per clause


def failure_message(exc: BaseException) -> str:
    """The first lines of a failure, without hint lines: ``Type: message``."""
    lines = [line.rstrip() for line in f"{type(exc).__name__}: {strip_ansi(exception_text(exc))}".splitlines()]
    lines = [line for line in lines if line.strip() and not HINT_LINE.match(line)]
    if len(lines) > _MESSAGE_LINES:
        lines = lines[:_MESSAGE_LINES] + ["..."]
    return "\n".join(lines)


def implementation_files(config, state) -> frozenset:
    known = config.stash.setdefault(_FILES_KEY, {})
    if state.id not in known:
        known[state.id] = implementation_files_of(state.cls)
    return known[state.id]


def _shown(path: str) -> str:
    """A path relative to the current folder when it lies below it, else as it is."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def own_frames(exc: BaseException, files: frozenset) -> list[str]:
    """The frames of the implementation's files that the exception (or one it was raised from) passed through,
    innermost last, as ``path:line in func`` and the source line."""
    lines, seen = [], set()
    for link in reversed(list(exception_chain(exc))):  # the original error first: its frames are the user's
        for frame in traceback.extract_tb(link.__traceback__):
            if os.path.realpath(frame.filename) not in files or (frame.filename, frame.lineno) in seen:
                continue
            seen.add((frame.filename, frame.lineno))
            lines.append(f"{_shown(frame.filename)}:{frame.lineno} in {frame.name}"
                         + (f"\n    {frame.line.strip()}" if frame.line else ""))
    return lines[-MAX_FRAMES:]


def implementation_files_of(cls) -> frozenset[str]:
    """The files that define ``cls`` and its bases, Keras's and Python's own left out: the implementation's code."""
    files = set()
    for klass in getattr(cls, "__mro__", ()):
        if klass.__module__.split(".")[0] in ("builtins", "abc", "keras", "tf_keras", "tensorflow", "typing"):
            continue
        try:
            source = inspect.getsourcefile(klass)
        except (TypeError, OSError):
            continue
        if source:
            files.add(os.path.realpath(source))
    return frozenset(files)


def origin_of(exc: BaseException, files: frozenset[str], base: str = "") -> tuple[str, str]:
    """``(type, "path:line in func")`` of the innermost frame in ``files`` where the chain of ``exc`` passed.

    The first exception of the chain (outermost first) whose traceback runs through the implementation wins;
    ``path`` is relative to ``base`` when inside it. ``("", "")`` when the implementation raised nothing.
    """
    for link in exception_chain(exc):
        frames = [(frame.f_code, line) for frame, line in traceback.walk_tb(link.__traceback__)
                  if os.path.realpath(frame.f_code.co_filename) in files]
        if frames:
            code, line = frames[-1]
            path = os.path.realpath(code.co_filename)
            if base:
                relative = os.path.relpath(path, os.path.realpath(base))
                path = path if relative.startswith("..") else relative
            return type(link).__name__, f"{path}:{line} in {code.co_name}"
    return "", ""


def _failing(call) -> BaseException | None:
    """The exception a phase failed with: an error, or pytest-timeout's limit (not a skip, xfail or exit)."""
    exc = call.excinfo.value if call.excinfo is not None else None
    return exc if isinstance(exc, Exception) or timed_out(exc) else None


def explain(exc: BaseException) -> tuple[str | None, str | None, str | None]:
    """``(hint, pitfall, pitfall_name)``: the clause's own hint, else the table's; the table's line apart when the
    clause gave its own hint and the table names another cause; the table entry's name."""
    own, known = own_hint(exc), hints.find_hint_for_exception(exc)
    text = known.text() if known is not None else None
    return own or text, text if own and text and text != own else None, known.name if known is not None else None


def notes(exc: BaseException, rule: str, files: frozenset, limit: float | None) -> list[str]:
    """What the failure text adds under the error: the rule, the hint (unless the message has it), the known
    pitfall, the layer's own frames, and how to see everything."""
    hint, pitfall, _ = explain(exc)
    out = [f"rule: {rule}"] if rule else []
    if timed_out(exc):
        out.append(f"did not finish in {limit:g} s" if limit else "did not finish in time")
    if hint and own_hint(exc) is None:
        out.append(f"hint: {hint}")
    if pitfall:
        out.append(f"known pitfall: {pitfall}")
    frames = own_frames(exc, files)
    if frames:
        out += ["your code: " + frames[-1]] if len(frames) == 1 else \
            ["your code, innermost last:", *(f"  {frame}" for frame in frames)]
    return out + [_MORE]


def _clause_record(item, report, exc: BaseException | None) -> ClauseResult:
    """The record of one phase of a clause: what it is, how the phase ended and, for a failure, why."""
    state = selection.state_of(item)
    capability = catalogue.capability_of(item)
    record = ClauseResult(selection.base_id(catalogue.item_ids(item)[1], state), catalogue.area_of(item),
                          catalogue.clause_rule(getattr(item, "function", None)), level=catalogue.level_of(item),
                          capability=capability or "")
    if report.failed and exc is not None:
        record.outcome, record.when = "failed", report.when
        record.hint, record.pitfall, record.pitfall_name = explain(exc)
        record.exc_type = type(exc).__name__
        record.origin_type, record.origin = origin_of(
            exc, implementation_files(item.config, state), str(item.config.invocation_params.dir))
        record.message = failure_message(exc)
        if timed_out(exc):
            limit = item.config.stash.get(_TIMEOUT_KEY, None)
            record.exc_type = "Timeout"
            record.message = (f"Timeout: {record.id} did not finish in {limit:g} s" if limit else
                              f"Timeout: {record.id} did not finish in time") + (
                f", in {record.origin}" if record.origin else "")
        if report.when != "call":
            record.message = f"(error in {report.when}) {record.message}"
    elif report.failed:
        record.outcome, record.when = "failed", report.when
        record.message = strip_ansi(str(report.longreprtext)).strip()[:2000]
    elif report.skipped and capability not in (None, *state.capabilities):
        record.outcome, record.reason = capabilities.NOT_CLAIMED, f"not claimed: {capability}"
    elif report.skipped and hasattr(report, "wasxfail"):
        record.outcome, record.reason = "xfailed", report.wasxfail
    elif report.skipped:
        longrepr = report.longrepr
        record.reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        offered = record.reason.removeprefix("Skipped: ").startswith(options.SKIP_REASON)
        record.outcome = options.NOT_OFFERED if offered else "skipped"
    elif report.when == "call":
        record.outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
        record.reason = getattr(report, "wasxfail", "")
    return record


def record_of(report) -> tuple[str, ClauseResult] | None:
    """``(implementation id, record)`` carried by a clause's report (also after pytest-xdist sent it), else None."""
    for entry in getattr(report, "user_properties", ()):
        name, value = entry
        if name == RECORD:
            return value["impl"], ClauseResult.from_dict(value["clause"])
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """The spec's one makereport hook: notes on a failure, then the clause's record on its report.

    tryfirst makes it the outermost wrapper: its first half runs before pytest builds the failure's text (so the
    notes are in it), its second half after every other wrapper (an xfail already applied).
    """
    if selection.active(item.config) is None or not catalogue.is_clause(item):
        return (yield)
    exc = _failing(call)
    rule = catalogue.clause_rule(getattr(item, "function", None))
    if call.when == "setup":  # junitxml writes the properties of a test's last report
        item.user_properties += [("level", catalogue.level_of(item)), ("area", catalogue.area_of(item)),
                                 ("rule", rule)]
    if exc is not None:
        files = implementation_files(item.config, selection.state_of(item))
        for note in notes(exc, rule, files, item.config.stash.get(_TIMEOUT_KEY, None)):
            exc.add_note(note)
        if own_frames(exc, files):  # the note names the layer's frames: the chain's tracebacks need not repeat them
            exc.__suppress_context__ = True
    report = yield
    record = _clause_record(item, report, exc)
    if record.outcome == "failed" and record.level == SHOULD and not strict(item.config):
        record.outcome = "advisory"
        report.outcome = "skipped"  # neither passed nor failed, as pytest's own xfail: the exit status ignores it
        report.wasxfail = f"advisory (SHOULD clause failed): {record.first_line or report.when}"
    if record.outcome in ("failed", "advisory"):
        item.user_properties += [("hint", record.hint or ""), *([("pitfall", record.pitfall)] if record.pitfall else [])]
    if record.outcome:
        report.user_properties.append((RECORD, {"impl": selection.state_of(item).id, "clause": record.as_dict()}))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report, config):
    found = record_of(report)
    if found is not None and found[1].outcome == "advisory":
        return "advisory", "A", ("ADVISORY", {"yellow": True})
    return None


def _probe_dict() -> dict:
    from spec_tests import platform_probe

    return platform_probe.probe().as_dict()


def _spec_version() -> str:
    try:
        from importlib.metadata import version

        return version("keras-dense-layer-spec")
    except Exception:  # noqa: BLE001 - a checkout that is not installed
        return "unknown"


_SPEC_MODULE = re.compile(r"(?:^|/)spec_tests/(test_\w+\.py)$")


class ConformanceReporter:
    """Gathers every clause's record (on the xdist controller too) and writes the summary and the report."""

    def __init__(self, config):
        self.config = config
        self.clauses: dict[tuple, ClauseResult] = {}  # (implementation id, clause id) -> its record
        self.collect_errors: list[dict] = []
        self.failed_reports: set[tuple] = set()  # (implementation id, clause id) of every failed report
        self.written: Path | None = None
        self.write_error: str | None = None
        self.baseline: str | None = None  # what --xfail-write wrote
        self.interrupted = False
        self.attributed: dict[str, dict] = {}  # implementation id -> what the platform rerun did (attribution.py)

    # ---- gathering

    def pytest_runtest_logreport(self, report):
        found = record_of(report)
        if found is None:
            return
        impl, record = found
        key = (impl, record.id)
        if report.failed:
            self.failed_reports.add(key)
        known = self.clauses.get(key)
        if known is None or (known.outcome != "failed" and record.outcome):
            self.clauses[key] = record  # a clause's first failure stands; else its last phase that ended it

    def pytest_collectreport(self, report):
        module = _SPEC_MODULE.search(report.nodeid or "")
        if module is not None and report.failed:
            lines = strip_ansi(str(report.longreprtext)).strip().splitlines()
            last = re.sub(r"^E\s+", "", lines[-1]) if lines else "collection failed"
            self.collect_errors.append({"id": f"spec_tests/{module.group(1)}", "message": last})

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
        for clause in clauses:
            if clause.capability:
                outcomes.setdefault(clause.capability, []).append(clause.outcome)
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
            drop_in=dict(zip(("drop_in", "reasons"), options.offer(state.make, state.options, state.cls).drop_in())),
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
        that passes there becomes a ``platform`` outcome, and the exit status is 0 when nothing else failed."""
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
        if (moved and not strict(self.config) and session.exitstatus == pytest.ExitCode.TESTS_FAILED
                and self.failed_reports <= moved):
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
            write_unmatched(tr, xfail.unmatched_entries(self.config))
            return
        write(tr, self.results(), selection.refused(self.config), xfail.unmatched_entries(self.config))
        if self.baseline is not None:
            tr.write_line(self.baseline)
        if self.written is not None:
            tr.write_line(f"conformance report written to {self.written}")
        if self.write_error:
            tr.write_line(self.write_error, red=True)


# --------------------------------------------------------------------------- the summary in the terminal
# For each implementation: the causes of its failures, then of its advisories. Then, for one implementation, its
# per-area table, its capability table and its verdict; for several, one comparison table (area x implementation),
# one capability table, and one verdict line each. So the last screen of a run answers "what is wrong, and how do I
# fix it".

#: How many causes the terminal shows in full; the others get one line each.
SHOWN_IN_FULL = 5


def _clip(text: str, width: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def describe(causes: list, one: str = "failed clause", many: str = "failed clauses") -> str:
    """``67 failed clauses, 1 cause (most clauses first)``."""
    total = sum(len(cause.clauses) for cause in causes)
    return (f"{total} {one if total == 1 else many}, {len(causes)} cause{'s' if len(causes) != 1 else ''}"
            " (most clauses first)")


def cause_lines(causes: list, rerun_prefix: str = "", full: int = SHOWN_IN_FULL) -> list[str]:
    """The causes as terminal lines: the first ``full`` in detail, then one line each."""
    out: list[str] = []
    for number, cause in enumerate(causes, 1):
        areas = ", ".join(cause.areas())
        count = f"{len(cause.clauses)} clause{'s' if len(cause.clauses) != 1 else ''}"
        if number > full:
            out.append(f"{number}. {count} in {areas}: {_clip(cause.title, 160)} (cause {cause.slug})")
            continue
        rep = cause.representative
        out.append(f"{number}. {count} in {areas}")
        out.append(f"   cause: {_clip(cause.title)}")
        if cause.origin and cause.kind != "raised":
            out.append(f"   raised at {cause.origin}")
        out.append(f"   e.g. {rep.area}::{rep.name}")
        out.append(f"        {_clip(rep.first_line)}")
        if cause.fix:
            out.append(f"   fix: {_clip(cause.fix, 400)}")
        if rerun_prefix:
            out.append(f"   rerun: {cause.rerun(rerun_prefix)}")
    if len(causes) > full:
        out.append(f"(the last {len(causes) - full} in short: the report, --spec-report, has each in full)")
    return out


_ADVISORY_NOTE = ("; advisories are failed SHOULD clauses: they do not decide the verdict (--spec-strict makes "
                  "them count)")


def write(tr, results: list, refused=(), unmatched=None) -> None:
    """Write the summary of ``results`` (one RunResult per implementation) on pytest's terminal reporter."""
    several = len(results) > 1
    for result in results:
        _write_causes(tr, result, f" [{result.implementation.get('id')}]" if several else "")
    for result in results:
        _write_platform(tr, result, f" [{result.implementation.get('id')}]" if several else "")
    if several:
        _write_comparison(tr, results)
    else:
        _write_single(tr, results[0])
    for spec, why in refused:
        tr.write_line(f"{spec}: NOT RUN - {why}", yellow=True)
    write_unmatched(tr, unmatched)
    for result in results:
        _write_verdict(tr, result)


def _write_causes(tr, result, suffix: str) -> None:
    failed, advisory = result.causes(), result.causes("advisory")
    if failed or advisory:
        tr.write_sep("=", f"layer-spec causes{suffix}")
    if failed:
        tr.write_line(describe(failed), bold=True, red=True)
        for line in cause_lines(failed, result.rerun):
            tr.write_line(line)
    if advisory:
        tr.write_line(describe(advisory, "advisory", "advisories") + _ADVISORY_NOTE, yellow=True)
        for line in cause_lines(advisory, result.rerun):
            tr.write_line(line)


def _write_platform(tr, result, suffix: str) -> None:
    """The clauses that fail only because of the platform, and those a rerun showed to be the layer's own."""
    platform = result.of("platform")
    checked = [clause for clause in result.of("failed") if clause.platform]
    if not platform and not checked:
        return
    from spec_tests import platform_probe

    probe = platform_probe.probe()
    tr.write_sep("=", f"layer-spec platform{suffix}")
    done = result.attribution
    if done.get("rerun"):
        tr.write_line(f"rerun with {probe.switch()}: {done['rerun']} failed clause(s) in one child process, "
                      f"{done['seconds']:.1f} s" + (f" ({done['error']})" if done.get("error") else ""))
    if platform:
        tr.write_line(f"{len(platform)} clause(s) fail on this machine because of a defect of its kernels, not of "
                      f"the layer: they pass when rerun with {probe.switch()}"
                      + ("; --spec-strict counts them as failures" if result.strict else
                         "; they are not counted against the layer (--spec-strict counts them)"), bold=True,
                      yellow=True)
        tr.write_line(f"what is wrong here: {attribution.evidence(probe)} ({probe.cpu})")
        for line in attribution.workarounds(probe):
            tr.write_line(line)
        for clause in platform:
            tr.write_line(f"  platform: {clause.area}::{clause.name}")
            tr.write_line(f"    {clause.first_line}")
    unknown = [clause for clause in checked if attribution.not_attributed(clause)]
    own = [clause for clause in checked if not attribution.not_attributed(clause)]
    if own:
        tr.write_line(f"{len(own)} failed clause(s) were rerun with {probe.switch()} and failed there too: "
                      f"they are the layer's own failures", red=True)
        for clause in own:
            tr.write_line(f"  {clause.area}::{clause.name}: {clause.platform}")
    if unknown:
        tr.write_line(f"{len(unknown)} failed clause(s) {attribution.NOT_ATTRIBUTED}: the rerun with {probe.switch()} "
                      "gave no answer, so nothing says whether they are the layer's failures or the platform's; "
                      "they stay failures of this run", yellow=True, bold=True)
        for clause in unknown:
            tr.write_line(f"  {clause.area}::{clause.name}: {clause.platform}")


def _table(tr, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        tr.write_line("  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                                for i, cell in enumerate(row)))


def _write_single(tr, result) -> None:
    impl = result.implementation
    tr.write_sep("=", "layer-spec conformance")
    tr.write_line(f"implementation {impl['spec']} -> {impl['class']} ({impl['file']})")
    tr.write_line(f"profile {result.profile['name']}; {result.versions['runtime']}")
    totals, columns = result.totals(), result.columns()
    _table(tr, ["area", *columns], [[area, *(str(row[key]) for key in columns)]
                                    for area, row in result.areas().items()]
           + [["total", *(str(totals[key]) for key in columns)]])
    for line in capabilities.terminal_lines(result.capabilities):
        tr.write_line(line)
    _write_problems(tr, result)


def _cell(row: dict) -> str:
    """passed/failed[/advisories] of one area for one implementation; '-' when none of its clauses ran."""
    if not any(row[key] for key in ("passed", "failed", "advisory", "platform", "xfailed")):
        return "-"
    text = f"{row['passed']}/{row['failed']}"
    return (text + (f" +{row['advisory']}a" if row["advisory"] else "") + (f" +{row['platform']}p" if row["platform"]
                                                                           else "")
            + (f" {row['xfailed']}x" if row["xfailed"] else ""))


def _write_comparison(tr, results: list) -> None:
    ids = [result.implementation.get("id") or result.implementation["spec"] for result in results]
    tr.write_sep("=", f"layer-spec conformance: {len(results)} implementations")
    for ident, result in zip(ids, results):
        impl = result.implementation
        tr.write_line(f"[{ident}] {impl['spec']} -> {impl['class']}, profile {result.profile['name']}")
    tr.write_line(f"{results[0].versions['runtime']}; cells: passed/failed, +Na advisories, +Np platform, Nx known failures")
    tables = [result.areas() for result in results]
    areas = list(dict.fromkeys(area for table in tables for area in table))
    empty = dict.fromkeys(OUTCOMES, 0)
    rows = [[area, *(_cell(table.get(area, empty)) for table in tables)] for area in areas]
    rows.append(["total", *(_cell(result.totals()) for result in results)])
    _table(tr, ["area", *ids], rows)
    capability_rows = [result.capabilities for result in results]
    if any(capability_rows):
        names = list(dict.fromkeys(row["capability"] for table in capability_rows for row in table))
        status = [{row["capability"]: row["status"].replace("_", " ") for row in table} for table in capability_rows]
        _table(tr, ["capability", *ids], [[name, *(table.get(name, "-") for table in status)] for name in names])
    for result in results:
        _write_problems(tr, result)


def _write_problems(tr, result) -> None:
    for error in result.collection_errors:
        tr.write_line(f"import error: {error['id']}: {error['message']}", red=True)
    xpassed = result.of("xpassed")
    if xpassed:
        tr.write_line(f"{len(xpassed)} clause(s) of {result.implementation['spec']} listed in --xfail-file now pass:",
                      yellow=True)
        for clause in xpassed:
            where = clause.reason.rsplit("[", 1)[-1].rstrip("]") if "[" in clause.reason else "the --xfail-file"
            tr.write_line(f"  {clause.id}: remove this line from {where}")


def _write_verdict(tr, result) -> None:
    impl, profile = result.implementation, result.profile["name"]
    if result.drop_in_line():
        tr.write_line(f"{impl['spec']}: {result.drop_in_line()}")
    verdict, details = result.verdict()
    markup = {CONFORMS: {"green": True}, DOES_NOT_CONFORM: {"red": True}}.get(verdict, {"yellow": True})
    tr.write_line(f"{impl['spec']} ({impl['class']}), profile {profile}: {result.headline()} - {details}",
                  bold=True, **markup)


def write_unmatched(tr, unmatched) -> None:
    if not unmatched:
        return
    tr.write_line(f"{len(unmatched)} --xfail-file entry(ies) match no collected clause:", yellow=True)
    for entry in unmatched:
        tr.write_line(f"  {entry.where}: {entry.pattern}")


__all__ = ["DEFAULT_CLAUSE_TIMEOUT", "RECORD", "REPORTER", "SHOWN_IN_FULL", "ConformanceReporter", "cause_lines",
           "clause_timeout", "describe", "failure_message", "implementation_files", "implementation_files_of", "notes",
           "origin_of", "own_frames", "record_of", "write", "write_unmatched"]
