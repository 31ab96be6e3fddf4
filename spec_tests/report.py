"""pytest plugin part: fix hints, expected-failure files and the conformance report.

Three features, all dormant unless the run involves the spec (``plugin.active``):

* **Fix hints.** A failing clause whose exception matches a known pitfall
  (:mod:`spec_tests.hints`) gets a ``hint: <what went wrong>. Usual fix: ...``
  section appended to its failure text, unless the clause gave its own ``hint:``;
  then the table's line is added as ``known pitfall: ...`` (the clause's hint
  is generic, the table's names the cause the clause quoted).
* **Expected failures.** ``--xfail-file PATH`` lists clauses an implementation
  knowingly breaks; they are marked ``xfail`` (non-strict). Syntax, one entry a line::

      # a comment line; blank lines are ignored
      spec_tests/test_build.py::test_build_runs_once            # reason (optional)
      spec_tests/test_construction.py::test_invalid_units_raise_value_error_naming_units
      spec_tests/test_serialization.py                          # a whole area

  An entry is a test id or a prefix of one that ends at a boundary (``/``, ``::``
  or ``[``), so a function name covers all its parametrized cases. Ids are
  written from the package (``spec_tests/...``), as the lines above, from inside
  it (``test_build.py::...``), or exactly as pytest prints them. The reason starts at the first ``#`` that follows
  whitespace. Entries that match no collected clause are reported (a
  ``XfailFileWarning`` and a line in the terminal summary).
* **Conformance report.** Every spec run ends with a table, one row per spec
  area (passed, failed, xfailed, skipped), and a verdict naming the
  implementation and the profile. ``--spec-report PATH`` writes it as Markdown,
  or JSON when PATH ends in ``.json``, with every failed clause, its rule (the
  first sentence of its docstring) and its hint.

Works with pytest-xdist: workers tag each clause's report with its area, rule,
hint and message in ``pytest_runtest_makereport``; the controller, which has no
items, counts the tagged reports in ``pytest_runtest_logreport``.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import json
import platform
import re
from pathlib import Path

import pytest

from spec_tests import plugin
from spec_tests.hints import hint_for_exception

OUTCOMES = ("passed", "failed", "xfailed", "skipped")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HINT_LINE = re.compile(r"^\s*hint:\s*(.+?)\s*$", re.MULTILINE)
_MESSAGE_LINES = 6
#: Markers of spec items that are not clauses (the benchmarks): left out of the conformance report.
NOT_CLAUSE_MARKERS = ("spec_benchmark",)


class XfailFileWarning(pytest.PytestWarning):
    """An ``--xfail-file`` entry matches no collected clause (a typo, or a clause that was renamed)."""


# --------------------------------------------------------------------------- options


def pytest_addoption(parser):
    group = parser.getgroup("layer-spec", "executable spec for custom Keras dense layers")
    group.addoption(
        "--xfail-file",
        dest="layer_spec_xfail_file",
        default=None,
        metavar="PATH",
        help="clauses expected to fail: one test id or id prefix per line, optional '# reason' after it, "
        "'#' comment lines; entries that match no clause are warned about",
    )
    group.addoption(
        "--spec-report",
        dest="layer_spec_report",
        default=None,
        metavar="PATH",
        help="write the conformance report (implementation, versions, profile, per-area table, failed clauses "
        "with rule and hint) as Markdown, or JSON when PATH ends in .json",
    )


# --------------------------------------------------------------------------- clause facts


def clause_rule(function) -> str:
    """The clause's rule: the first paragraph of its docstring, on one line ('' without a docstring)."""
    doc = inspect.getdoc(function) if function is not None else None
    if not doc:
        return ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def canonical_id(nodeid: str, module_name: str | None = None) -> str:
    """A clause's id written from the package, ``spec_tests/test_build.py::test_x``, whatever the rootdir."""
    path, sep, rest = nodeid.replace("\\", "/").partition("::")
    if module_name:
        path = module_name.replace(".", "/") + ".py"
    else:
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if "spec_tests" in parts:
            parts = parts[len(parts) - 1 - parts[::-1].index("spec_tests"):]
        elif parts:
            parts = ["spec_tests", parts[-1]]
        path = "/".join(parts)
    return path + sep + rest


def is_clause(item) -> bool:
    """A spec item that is a clause (not a benchmark)."""
    return plugin.is_spec_item(item) and not any(item.get_closest_marker(name) for name in NOT_CLAUSE_MARKERS)


def _clean(text: str) -> str:
    return _ANSI.sub("", text or "")


def _exception_texts(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield _clean(str(exc))
        exc = exc.__cause__ or exc.__context__


def own_hint(exc: BaseException) -> str | None:
    """The ``hint:`` line a clause (or the implementation) already put in the exception's message."""
    for text in _exception_texts(exc):
        found = _HINT_LINE.search(text)
        if found:
            return found.group(1)
    return None


def _message(exc: BaseException) -> str:
    """The first lines of the failure, without hint lines: ``Type: message``."""
    lines = [line.rstrip() for line in f"{type(exc).__name__}: {_clean(str(exc))}".splitlines()]
    lines = [line for line in lines if line.strip() and not _HINT_LINE.match(line)]
    if len(lines) > _MESSAGE_LINES:
        lines = lines[:_MESSAGE_LINES] + ["..."]
    return "\n".join(lines)


def _append_section(report, title: str, text: str) -> None:
    longrepr = report.longrepr
    if hasattr(longrepr, "addsection"):
        longrepr.addsection(title, text)
    elif isinstance(longrepr, str):
        report.longrepr = f"{longrepr}\n{text}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Tag a clause's report with its area, id and rule; on failure add its message and hint.

    A failure without a ``hint:`` line of its own gets the hints table's line appended
    (``hint: ...``). A clause's own hint is kept; when the table also recognises the
    exception (often an implementation error the clause quotes), that line is appended as
    ``known pitfall: ...``, because it names the cause more precisely than a clause can.
    """
    # tryfirst makes this the outermost wrapper: it sees the final outcome (xfail already applied).
    report = yield
    if plugin.active(item.config) is None or not is_clause(item):
        return report
    report.spec_area = plugin.area_of(item)
    report.spec_id = _item_ids(item)[1]
    report.spec_rule = clause_rule(getattr(item, "function", None))
    if call.excinfo is not None and report.failed and isinstance(call.excinfo.value, Exception):
        exc = call.excinfo.value
        report.spec_message = _message(exc)
        own, known = own_hint(exc), hint_for_exception(exc)
        report.spec_hint = own or known
        report.spec_pitfall = known if own and known and known != own else None
        if own is None and known is not None:
            _append_section(report, "layer-spec hint", f"hint: {known}")
        elif report.spec_pitfall:
            _append_section(report, "layer-spec known pitfall", f"known pitfall: {known}")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    path = getattr(collector, "path", None)
    if report.failed and isinstance(collector, pytest.Module) and path is not None and path.parent.name == "spec_tests":
        report.spec_module = f"spec_tests/{path.name}"  # a spec module that failed to import
    return report


# --------------------------------------------------------------------------- --xfail-file


@dataclasses.dataclass(frozen=True)
class XfailEntry:
    pattern: str
    reason: str
    where: str  # path:line

    def matches(self, ids) -> bool:
        pattern = self.pattern
        for nodeid in ids:
            if nodeid == pattern:
                return True
            if nodeid.startswith(pattern) and (pattern[-1] in "/:[" or nodeid[len(pattern)] in "/:["):
                return True
        return False


def parse_xfail_file(path) -> list[XfailEntry]:
    """Read an ``--xfail-file`` (syntax in this module's docstring)."""
    path = Path(path)
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = re.search(r"\s#", line)
        pattern, reason = (line[: found.start()], line[found.end():]) if found else (line, "")
        pattern = pattern.strip().replace("\\", "/").removeprefix("./")
        reason = reason.strip() or f"listed in {path.name}:{number}"
        entries.append(XfailEntry(pattern=pattern, reason=reason, where=f"{path}:{number}"))
    return entries


_XFAIL_KEY = pytest.StashKey[list]()


def pytest_configure(config):
    path = config.getoption("layer_spec_xfail_file", None)
    if path:
        path = Path(config.invocation_params.dir, path)
        try:
            config.stash[_XFAIL_KEY] = parse_xfail_file(path)
        except OSError as exc:
            raise pytest.UsageError(f"--xfail-file {str(path)!r}: {exc.strerror or exc}") from None
    if not hasattr(config, "workerinput"):  # the xdist controller, or a run without xdist
        config.pluginmanager.register(ConformanceReporter(config), "layer-spec-conformance")


def _item_ids(item) -> tuple[str, str, str]:
    """How an --xfail-file may name the item: pytest's node id, from the package, from inside the package."""
    module = getattr(item, "module", None)
    canonical = canonical_id(item.nodeid, module.__name__ if module is not None else None)
    return item.nodeid, canonical, canonical.removeprefix("spec_tests/")


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection: an entry for a deselected clause is not a typo
def pytest_collection_modifyitems(config, items):
    entries = config.stash.get(_XFAIL_KEY, None)
    if not entries or not any(is_clause(item) for item in items):
        return
    matched: set[XfailEntry] = set()
    for item in items:
        if not is_clause(item):
            continue
        ids = _item_ids(item)
        hits = [entry for entry in entries if entry.matches(ids)]
        if hits:
            matched.update(hits)
            item.add_marker(pytest.mark.xfail(reason=f"{hits[0].reason} [{hits[0].where}]", strict=False))
    if not hasattr(config, "workerinput"):
        _report_unmatched(config, [entry for entry in entries if entry not in matched])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """On the xdist controller: check the entries against the first worker's collection."""
    config = node.config
    reporter = config.pluginmanager.get_plugin("layer-spec-conformance")
    entries = config.stash.get(_XFAIL_KEY, None)
    if not entries or reporter is None or reporter.xfail_checked:
        return
    all_ids = []
    for nodeid in ids:
        canonical = canonical_id(nodeid)
        all_ids += [nodeid, canonical, canonical.removeprefix("spec_tests/")]
    _report_unmatched(config, [entry for entry in entries if not entry.matches(all_ids)])


def _report_unmatched(config, unmatched: list[XfailEntry]) -> None:
    reporter = config.pluginmanager.get_plugin("layer-spec-conformance")
    if reporter is not None:
        reporter.xfail_checked = True
        reporter.unmatched = list(unmatched)
    for entry in unmatched:
        config.issue_config_time_warning(
            XfailFileWarning(f"--xfail-file entry {entry.pattern!r} ({entry.where}) matches no collected clause"),
            stacklevel=2,
        )


# --------------------------------------------------------------------------- the conformance report


@dataclasses.dataclass
class ClauseResult:
    id: str  # canonical: spec_tests/test_<area>.py::test_<rule>[case]
    area: str
    rule: str
    outcome: str = ""
    hint: str | None = None
    pitfall: str | None = None
    message: str = ""
    when: str = ""
    reason: str = ""

    @property
    def name(self) -> str:
        return self.id.split("::", 1)[-1]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "area": self.area,
            "clause": self.name,
            "rule": self.rule,
            "outcome": self.outcome,
            "hint": self.hint,
            "pitfall": self.pitfall,
            "message": self.message,
            "phase": self.when,
            "reason": self.reason,
        }


class ConformanceReporter:
    """Collects every clause's outcome (on the xdist controller too) and writes the report."""

    def __init__(self, config):
        self.config = config
        self.clauses: dict[str, ClauseResult] = {}
        self.collect_errors: list[tuple[str, str]] = []
        self.unmatched: list[XfailEntry] = []
        self.xfail_checked = False
        self.written: Path | None = None
        self.write_error: str | None = None
        self.interrupted = False

    # ---- gathering

    def pytest_runtest_logreport(self, report):
        area = getattr(report, "spec_area", None)
        if area is None:
            return
        key = getattr(report, "spec_id", None) or canonical_id(report.nodeid)
        clause = self.clauses.get(key)
        if clause is None:
            clause = self.clauses[key] = ClauseResult(key, area, getattr(report, "spec_rule", ""))
        if clause.outcome == "failed":
            return
        if report.failed:
            clause.outcome, clause.when = "failed", report.when
            clause.hint = getattr(report, "spec_hint", None)
            clause.pitfall = getattr(report, "spec_pitfall", None)
            clause.message = getattr(report, "spec_message", "") or _clean(str(report.longreprtext)).strip()[:2000]
            if report.when != "call":
                clause.message = f"(error in {report.when}) {clause.message}"
        elif report.skipped:
            if hasattr(report, "wasxfail"):
                clause.outcome, clause.reason = "xfailed", report.wasxfail
            else:
                clause.outcome = "skipped"
                longrepr = report.longrepr
                clause.reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        elif report.when == "call":
            clause.outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
            clause.reason = getattr(report, "wasxfail", "")

    def pytest_collectreport(self, report):
        module = getattr(report, "spec_module", None)
        if module is not None and report.failed:
            lines = _clean(str(report.longreprtext)).strip().splitlines()
            last = re.sub(r"^E\s+", "", lines[-1]) if lines else "collection failed"
            self.collect_errors.append((module, last))

    def pytest_keyboard_interrupt(self, excinfo):
        self.interrupted = True

    # ---- summarising

    def involved(self) -> bool:
        return bool(self.clauses or self.collect_errors)

    def state(self):
        state = plugin.active(self.config)
        if state is None and self.involved():
            state = plugin.resolve(self.config)  # xdist controller of a run that named no spec path
        return state

    def areas(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for clause in self.clauses.values():
            row = table.setdefault(clause.area, dict.fromkeys(OUTCOMES, 0))
            outcome = "passed" if clause.outcome == "xpassed" else clause.outcome
            if outcome in row:
                row[outcome] += 1
        return dict(sorted(table.items()))

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(OUTCOMES, 0)
        for row in self.areas().values():
            for key in OUTCOMES:
                totals[key] += row[key]
        return totals

    def of(self, outcome: str) -> list[ClauseResult]:
        return sorted((c for c in self.clauses.values() if c.outcome == outcome), key=lambda c: c.id)

    def verdict(self) -> tuple[str, str]:
        """(``CONFORMS`` | ``DOES NOT CONFORM`` | ``INCOMPLETE`` | ``NO VERDICT``, details)."""
        totals = self.totals()
        counts = ", ".join(f"{totals[key]} {key}" for key in OUTCOMES)
        if totals["failed"] or self.collect_errors:
            problems = [f"{totals['failed']} clause(s) failed"] if totals["failed"] else []
            if self.collect_errors:
                problems.append(f"{len(self.collect_errors)} spec module(s) failed to import")
            return "DOES NOT CONFORM", f"{', '.join(problems)} ({counts})"
        if self.interrupted:
            return "INCOMPLETE", f"the run stopped early ({counts})"
        if not totals["passed"]:
            return "NO VERDICT", f"no clause ran ({counts})"
        details = counts
        if totals["xfailed"]:
            details += f"; {totals['xfailed']} known failure(s) excused by --xfail-file"
        return "CONFORMS", details

    def data(self) -> dict:
        from spec_tests import generation

        state = self.state()
        verdict, details = self.verdict()
        try:
            from importlib.metadata import version

            spec_version = version("keras-dense-layer-spec")
        except Exception:  # noqa: BLE001 - a checkout that is not installed
            spec_version = "unknown"
        return {
            "implementation": {"spec": state.spec, "class": state.label, "file": state.source},
            "profile": {"name": state.profile, "contract": plugin.PROFILE_HELP[state.profile]},
            "versions": {
                "runtime": generation.describe(),
                "python": platform.python_version(),
                "pytest": pytest.__version__,
                "layer_spec": spec_version,
            },
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "verdict": verdict,
            "details": details,
            "conforms": verdict == "CONFORMS",
            "totals": self.totals(),
            "areas": [{"area": area, **row} for area, row in self.areas().items()],
            "failed": [clause.as_dict() for clause in self.of("failed")],
            "xfailed": [clause.as_dict() for clause in self.of("xfailed")],
            "xpassed": [clause.as_dict() for clause in self.of("xpassed")],
            "collection_errors": [{"id": nodeid, "message": message} for nodeid, message in self.collect_errors],
            "unmatched_xfail_entries": [dataclasses.asdict(entry) for entry in self.unmatched],
        }

    # ---- writing

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            self.interrupted = True
        target = self.config.getoption("layer_spec_report", None)
        if not target or not self.involved():
            return
        path = Path(self.config.invocation_params.dir, target)
        try:
            data = self.data()
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix.lower() == ".json":
                path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            else:
                path.write_text(render_markdown(data), encoding="utf-8")
            self.written = path
        except OSError as exc:
            self.write_error = f"could not write --spec-report {str(path)!r}: {exc}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        if not self.involved():
            if self.unmatched:
                self._write_unmatched(terminalreporter)
            return
        tr = terminalreporter
        state = self.state()
        from spec_tests import generation

        tr.write_sep("=", "layer-spec conformance")
        tr.write_line(f"implementation {state.spec} -> {state.label} ({state.source})")
        tr.write_line(f"profile {state.profile}; {generation.describe()}")
        width = max([len("area"), len("total")] + [len(area) for area in self.areas()]) + 2
        tr.write_line("area".ljust(width) + "".join(key.rjust(9) for key in OUTCOMES))
        for area, row in self.areas().items():
            tr.write_line(area.ljust(width) + "".join(str(row[key]).rjust(9) for key in OUTCOMES))
        totals = self.totals()
        tr.write_line("total".ljust(width) + "".join(str(totals[key]).rjust(9) for key in OUTCOMES))
        for nodeid, message in self.collect_errors:
            tr.write_line(f"import error: {nodeid}: {message}", red=True)
        xpassed = self.of("xpassed")
        if xpassed:
            tr.write_line(f"{len(xpassed)} clause(s) listed in --xfail-file now pass; remove them from the file:",
                          yellow=True)
            for clause in xpassed:
                tr.write_line(f"  {clause.id}")
        self._write_unmatched(tr)
        verdict, details = self.verdict()
        markup = {"green": True} if verdict == "CONFORMS" else {"red": True} if verdict == "DOES NOT CONFORM" else {
            "yellow": True}
        tr.write_line(f"{state.spec} ({state.label}), profile {state.profile}: {verdict} - {details}", bold=True,
                      **markup)
        if self.written is not None:
            tr.write_line(f"conformance report written to {self.written}")
        if self.write_error:
            tr.write_line(self.write_error, red=True)

    def _write_unmatched(self, tr) -> None:
        if not self.unmatched:
            return
        tr.write_line(f"{len(self.unmatched)} --xfail-file entry(ies) match no collected clause:", yellow=True)
        for entry in self.unmatched:
            tr.write_line(f"  {entry.where}: {entry.pattern}")


# --------------------------------------------------------------------------- Markdown


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(data: dict) -> str:
    impl, versions, profile = data["implementation"], data["versions"], data["profile"]
    out = [
        f"# Conformance report: `{impl['class']}`",
        "",
        f"**{data['verdict']}**: {data['details']}.",
        "",
        "| | |",
        "|---|---|",
        f"| implementation | `{_cell(impl['spec'])}` -> `{_cell(impl['class'])}` |",
        f"| file | `{_cell(impl['file'])}` |",
        f"| profile | {_cell(profile['name'])}: {_cell(profile['contract'])} |",
        f"| versions | {_cell(versions['runtime'])}; Python {versions['python']}; pytest {versions['pytest']}; "
        f"keras-dense-layer-spec {versions['layer_spec']} |",
        f"| date | {data['date']} |",
        "",
        "## Areas",
        "",
        "| area | " + " | ".join(OUTCOMES) + " |",
        "|---|" + "---:|" * len(OUTCOMES),
    ]
    for row in data["areas"]:
        out.append(f"| {_cell(row['area'])} | " + " | ".join(str(row[key]) for key in OUTCOMES) + " |")
    out.append("| **total** | " + " | ".join(f"**{data['totals'][key]}**" for key in OUTCOMES) + " |")
    out.append("")
    if data["collection_errors"]:
        out += ["## Spec modules that failed to import", ""]
        out += [f"- `{error['id']}`: {error['message']}" for error in data["collection_errors"]]
        out.append("")
    out += ["## Failed clauses", ""]
    if not data["failed"]:
        out += ["None.", ""]
    for clause in data["failed"]:
        out += [
            f"### {clause['area']}: `{clause['clause']}`",
            "",
            f"- rule: {clause['rule'] or '(no docstring)'}",
            f"- hint: {clause['hint'] or '(none known)'}",
            *([f"- known pitfall: {clause['pitfall']}"] if clause.get("pitfall") else []),
            f"- id: `{clause['id']}`",
            "",
            "```",
            clause["message"].replace("```", "'''"),
            "```",
            "",
        ]
    if data["xfailed"] or data["xpassed"]:
        out += ["## Expected failures (--xfail-file)", ""]
        out += [f"- `{c['id']}`: {c['rule']} (reason: {c['reason']})" for c in data["xfailed"]]
        out += [f"- `{c['id']}`: now passes; remove it from the file" for c in data["xpassed"]]
        out.append("")
    if data["unmatched_xfail_entries"]:
        out += ["## --xfail-file entries that match no clause", ""]
        out += [f"- `{e['pattern']}` ({e['where']})" for e in data["unmatched_xfail_entries"]]
        out.append("")
    return "\n".join(out)


__all__ = [
    "ConformanceReporter",
    "XfailEntry",
    "XfailFileWarning",
    "canonical_id",
    "clause_rule",
    "own_hint",
    "parse_xfail_file",
    "render_markdown",
]
