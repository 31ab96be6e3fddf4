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
report part prints (``unmatched_entries``).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from spec_tests.harness.catalogue import canonical_id, is_clause, item_ids
from spec_tests.harness.selection import add_option


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
    add_option(parser, "--xfail-file", metavar="PATH",
               help="clauses expected to fail: one test id or id prefix per line, optional '# reason' after it, "
               "'#' comment lines; entries that match no clause are warned about")


def pytest_configure(config):
    path = config.getoption("layer_spec_xfail_file", None)
    if not path:
        return
    path = Path(config.invocation_params.dir, path)
    try:
        config.stash[_ENTRIES] = parse_xfail_file(path)
    except OSError as exc:
        raise pytest.UsageError(f"--xfail-file {str(path)!r}: {exc.strerror or exc}") from None


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
        hits = [entry for entry in entries if entry.matches(item_ids(item))]
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
    all_ids = []
    for nodeid in ids:
        canonical = canonical_id(nodeid)
        all_ids += [nodeid, canonical, canonical.removeprefix("spec_tests/")]
    _report_unmatched(config, [entry for entry in entries if not entry.matches(all_ids)])


def _report_unmatched(config, unmatched: list[XfailEntry]) -> None:
    config.stash[_UNMATCHED] = list(unmatched)
    for entry in unmatched:
        config.issue_config_time_warning(
            XfailFileWarning(f"--xfail-file entry {entry.pattern!r} ({entry.where}) matches no collected clause"),
            stacklevel=2,
        )


__all__ = ["XfailEntry", "XfailFileWarning", "parse_xfail_file", "unmatched_entries"]
