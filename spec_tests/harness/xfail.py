"""The expected-failure file: ``--xfail-file PATH`` lists clauses an implementation knowingly breaks.

They are marked ``xfail`` (non-strict). Syntax, one entry a line::

    # a comment line; blank lines are ignored
    spec_tests/test_build.py::test_build_runs_once            # reason (optional)
    spec_tests/test_construction.py::test_invalid_units_raise_value_error_naming_units
    spec_tests/test_serialization.py                          # a whole area

An entry is a test id or a prefix of one that ends at a boundary (``/``, ``::``
or ``[``), so a function name covers all its parametrized cases. Ids are
written from the package (``spec_tests/...``), as the lines above, from inside
it (``test_build.py::...``), or exactly as pytest prints them. The reason
starts at the first ``#`` that follows whitespace. Entries that match no
collected clause are reported: an :class:`XfailFileWarning`, and a list the
report part prints (``unmatched_entries``); an entry whose clause passes is
reported with "remove this line from PATH:N".

The file comes from ``--xfail-file``, else ``LAYER_SPEC_XFAIL_FILE``, else the
ini key ``layer_spec_xfail_file`` (relative to the rootdir). When a run checks
several implementations, an entry without an implementation's id applies to
all of them, and one with it (``test_x[MyDense-relu]``, as pytest prints it) to
that one only.

``--xfail-write PATH`` writes a run's failures (failed clauses, advisories, and
those still failing under an xfail file) as such a file: adopt the spec on an
existing layer with it, then fail only on regressions.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from spec_tests import environment
from spec_tests.harness.catalogue import canonical_id, is_clause, item_ids
from spec_tests.harness.selection import add_option, base_id, implementations, setting, state_of


class XfailFileWarning(pytest.PytestWarning):
    """An ``--xfail-file`` entry matches no collected clause (a typo, or a clause that was renamed)."""


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


_ENTRIES = pytest.StashKey[list]()
_UNMATCHED = pytest.StashKey[list]()


def pytest_addoption(parser):
    add_option(parser, "--xfail-file", metavar="PATH", ini="layer_spec_xfail_file", ini_type="string",
               help="clauses expected to fail: one test id or id prefix per line, optional '# reason' after it, "
               "'#' comment lines; entries that match no clause are warned about (default: $LAYER_SPEC_XFAIL_FILE)")
    add_option(parser, "--xfail-write", metavar="PATH",
               help="after the run, write its failed clauses (and advisories) to PATH as an xfail file, one line per "
               "clause with a one-line reason: the baseline a later run passes with --xfail-file PATH")


def pytest_configure(config):
    path, where = setting(config, "layer_spec_xfail_file", environment.XFAIL_FILE)
    if not path:
        return
    base = config.rootpath if where and where.startswith("ini") else config.invocation_params.dir
    path = Path(base, path)
    try:
        config.stash[_ENTRIES] = parse_xfail_file(path)
    except OSError as exc:
        raise pytest.UsageError(f"{where} {str(path)!r}: {exc.strerror or exc}") from None


def write_baseline(config, results) -> str | None:
    """``--xfail-write PATH``: write every failed clause and advisory of ``results`` as an xfail file; return the
    line the summary prints (None without the option)."""
    target = config.getoption("layer_spec_xfail_write", None)
    if not target:
        return None
    several = len(results) > 1
    lines = ["# layer-spec baseline, written by --xfail-write: the clauses these implementations failed.",
             "# Run with --xfail-file to pass while they still fail; a line whose clause passes is reported.", ""]
    count = 0
    for result in results:
        ident = result.implementation.get("id", "")
        for clause in result.of("failed") + result.of("advisory") + result.of("xfailed"):
            clause_id = clause.id
            if several:  # name the implementation's own case: pytest's id with the implementation's id
                head, bracket, case = clause_id.partition("[")
                clause_id = f"{head}[{ident}-{case}" if bracket else f"{head}[{ident}]"
            reason = clause.reason if clause.outcome == "xfailed" else (clause.first_line or clause.outcome)
            reason = " ".join(reason.split())[:160]
            lines.append(f"{clause_id}  # {reason}")
            count += 1
    path = Path(config.invocation_params.dir, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"--xfail-write: {count} clause(s) written to {path}; pass --xfail-file {target} to fail only on new ones"


def unmatched_entries(config) -> list[XfailEntry] | None:
    """The entries that matched no collected clause; None until the collection was checked."""
    return config.stash.get(_UNMATCHED, None)


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselection: an entry for a deselected clause is not a typo
def pytest_collection_modifyitems(config, items):
    entries = config.stash.get(_ENTRIES, None)
    if not entries or not any(is_clause(item) for item in items):
        return
    matched: set[XfailEntry] = set()
    for item in items:
        if not is_clause(item):
            continue
        hits = [entry for entry in entries if entry.matches(_names(item))]
        if hits:
            matched.update(hits)
            item.add_marker(pytest.mark.xfail(reason=f"{hits[0].reason} [{hits[0].where}]", strict=False))
    if not hasattr(config, "workerinput"):
        _report_unmatched(config, [entry for entry in entries if entry not in matched])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """On the xdist controller: check the entries against the first worker's collection."""
    config = node.config
    entries = config.stash.get(_ENTRIES, None)
    if not entries or unmatched_entries(config) is not None:
        return
    states = implementations(config)
    all_ids = []
    for nodeid in ids:
        canonical = canonical_id(nodeid)
        for name in (nodeid, canonical):
            all_ids += [name, name.removeprefix("spec_tests/")]
            all_ids += [base_id(name, state) for state in states]
            all_ids += [base_id(name, state).removeprefix("spec_tests/") for state in states]
    _report_unmatched(config, [entry for entry in entries if not entry.matches(all_ids)])


def _names(item) -> list[str]:
    """How an entry may name an item: its ids, and, when the run checks several implementations, its ids without
    the implementation's (an entry without one applies to every implementation)."""
    state = state_of(item)
    names = list(item_ids(item))
    return names + [base_id(name, state) for name in names]


def _report_unmatched(config, unmatched: list[XfailEntry]) -> None:
    config.stash[_UNMATCHED] = list(unmatched)
    for entry in unmatched:
        config.issue_config_time_warning(
            XfailFileWarning(f"--xfail-file entry {entry.pattern!r} ({entry.where}) matches no collected clause"),
            stacklevel=2,
        )


__all__ = ["XfailEntry", "XfailFileWarning", "parse_xfail_file", "unmatched_entries", "write_baseline"]
