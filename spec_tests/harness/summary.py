"""Summary: the end of a spec run in the terminal: causes first, then the table and the verdict.

For each implementation: the causes of its failures, then of its advisories
(:mod:`~spec_tests.harness.causes`). Then, for one implementation, its per-area
table, its capability table and its verdict; for several, one comparison table
(area x implementation), one capability table, and one verdict line each. So the
last screen of a run answers "what is wrong, and how do I fix it".
"""

from __future__ import annotations

from spec_tests.harness import attribution, capabilities, causes
from spec_tests.harness.outcomes import CONFORMS, DOES_NOT_CONFORM, OUTCOMES

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
        tr.write_line(causes.describe(failed), bold=True, red=True)
        for line in causes.lines(failed, result.rerun):
            tr.write_line(line)
    if advisory:
        tr.write_line(causes.describe(advisory, "advisory", "advisories") + _ADVISORY_NOTE, yellow=True)
        for line in causes.lines(advisory, result.rerun):
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


__all__ = ["write", "write_unmatched"]
