"""Rendering: a run's result (the dict of :meth:`RunResult.to_dict`) as the Markdown conformance report.

The report opens with the verdict and the causes of the failures (then of the
advisories), biggest first; the run's details, the per-area table and one
section per failed clause follow.

Pure functions of plain data: the report part writes what they return, and
``layer-spec`` can render a saved JSON report the same way.
"""

from __future__ import annotations

from spec_tests.harness.hints import RULE
from spec_tests.harness.capabilities import render_capabilities


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _clause_sections(title: str, clauses: list) -> list[str]:
    out = [f"## {title}", ""]
    if not clauses:
        out += ["None.", ""]
    for clause in clauses:
        out += [
            f"### {clause['area']}: `{clause['clause']}`",
            "",
            f"- rule: {clause['rule'] or '(no docstring)'}",
            f"- level: {clause.get('level', 'MUST')}",
            f"- hint: {clause['hint'] or '(none known)'}",
            *([f"- known pitfall: {clause['pitfall']}"] if clause.get("pitfall") else []),
            f"- id: `{clause['id']}`",
            "",
            "```",
            clause["message"].replace("```", "'''"),
            "```",
            "",
        ]
        if clause.get("repro"):
            out += ["<details><summary>reproduce it outside pytest (save as repro.py, run python repro.py)</summary>",
                    "", "```python", clause["repro"].rstrip(), "```", "", "</details>", ""]
    return out


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _cause_sections(title: str, causes: list, what: tuple[str, str]) -> list[str]:
    """One section per cause (the dicts of :meth:`hints.Cause.as_dict`), biggest first."""
    total = sum(cause["count"] for cause in causes)
    out = [f"## {title}", "", f"{_count(total, *what)}, {_count(len(causes), 'cause', 'causes')}, most clauses "
           f"first; {RULE}.", ""]
    for number, cause in enumerate(causes, 1):
        example = cause["example"]
        areas = ", ".join(f"{area} ({count})" for area, count in cause["areas"].items())
        out += [
            f"### {number}. {_count(cause['count'], 'clause', 'clauses')} in {', '.join(cause['areas'])}",
            "",
            f"- cause: {cause['title']}",
            f"- clauses per area: {areas}",
            *([f"- raised at: `{cause['origin']}`"] if cause.get("origin") else []),
            f"- example: `{example['id']}`",
            "",
            "  ```",
            "  " + example["message"].replace("```", "'''"),
            "  ```",
            "",
            f"- fix: {cause['fix'] or '(none known)'}",
            *([f"- rerun: `{cause['rerun']}`"] if cause.get("rerun") else []),
            "",
            f"<details><summary>the {_count(cause['count'], 'clause', 'clauses')}</summary>",
            "",
            *[f"- `{clause_id}`" for clause_id in cause["ids"]],
            "",
            "</details>",
            "",
        ]
    return out


def _platform_section(data: dict) -> list[str]:
    """The platform probe's findings, and the clauses that fail only because of them (or were shown not to)."""
    probe = data.get("platform_probe") or {}
    if not probe:
        return []
    defects = probe.get("defects", [])
    switch = " ".join(f"{key}={value}" for key, value in probe.get("reference", {}).items())
    out = ["## Platform", "",
           f"Probe: {len(probe.get('checks', []))} kernel checks on {_cell(probe.get('cpu', '?'))}, backend "
           f"{probe.get('backend', '?')}" + ("" if probe.get("onednn") is None else
                                             f", oneDNN {'on' if probe['onednn'] else 'off'}")
           + f": {len(defects)} wrong" + (f"; {switch} is the reference configuration" if switch else "") + ".", ""]
    if probe.get("error"):
        out += [f"The probe failed: {_cell(probe['error'])}", ""]
    for defect in defects:
        out.append(f"- WRONG: {defect['kernel']} {defect['dtype']} {defect['mode']}: max error {defect['error']:.3g}, "
                   f"rounding allows {defect['bound']:.2g}" + (" (simulated)" if defect.get("simulated") else ""))
    out += [f"- limitation: {limitation['what']}" for limitation in probe.get("limitations", [])]
    out.append("")
    platform = data.get("platform", [])
    if platform:
        out += [f"{len(platform)} clause(s) fail on this machine and pass with {switch}: outcome `platform`, not "
                "counted against the layer (unless --spec-strict).", ""]
        out += [f"- `{c['id']}`: {c['rule']}  \n  {_cell(c['message'].splitlines()[0] if c['message'] else '')}  "
                f"\n  {_cell(c.get('platform', ''))}" for c in platform]
        out.append("")
    checked = [c for c in data.get("failed", []) if c.get("platform")]
    if checked:
        out += ["Failed clauses rerun under the reference configuration, with what that showed:", ""]
        out += [f"- `{c['id']}`: {_cell(c['platform'])}" for c in checked]
        out.append("")
    rows = probe.get("checks", [])
    if rows:
        out += ["<details><summary>every kernel check</summary>", "", "| kernel | dtype | mode | max error | bound | "
                "result |", "|---|---|---|---:|---:|---|"]
        out += [f"| {r['kernel']} | {r['dtype']} | {r['mode']} | {r['error']:.3g} | {r['bound']:.2g} | "
                f"{'ok' if r['ok'] else 'WRONG'} |" for r in rows]
        out += ["", "</details>", ""]
    return out


def render_markdown(data: dict) -> str:
    impl, versions, profile = data["implementation"], data["versions"], data["profile"]
    columns = data.get("columns") or list(data["totals"])  # a report saved before "columns": every outcome
    out = [
        f"# Conformance report: `{impl['class']}`",
        "",
        f"**{data['verdict']}**: {data['details']}.",
        "",
    ]
    if data.get("causes"):
        out += _cause_sections("Causes of the failures", data["causes"], ("failed clause", "failed clauses"))
    if data.get("advisory_causes"):
        out += _cause_sections("Causes of the advisories (SHOULD clauses that failed; they do not decide the "
                               "verdict)", data["advisory_causes"], ("advisory", "advisories"))
    out += _platform_section(data)
    out += [
        "## The run",
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
        "| area | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for row in data["areas"]:
        out.append(f"| {_cell(row['area'])} | " + " | ".join(str(row.get(key, 0)) for key in columns) + " |")
    out.append("| **total** | " + " | ".join(f"**{data['totals'].get(key, 0)}**" for key in columns) + " |")
    out.append("")
    out += render_capabilities(data.get("capabilities", []))
    if data["collection_errors"]:
        out += ["## Spec modules that failed to import", ""]
        out += [f"- `{error['id']}`: {error['message']}" for error in data["collection_errors"]]
        out.append("")
    sections = [("Failed clauses", data["failed"])]
    if data.get("advisories"):
        sections.append(("Advisories (SHOULD clauses that failed; they do not decide the verdict)", data["advisories"]))
    for title, clauses in sections:
        out += _clause_sections(title, clauses)
    if data["xfailed"] or data["xpassed"]:
        out += ["## Expected failures (--xfail-file)", ""]
        out += [f"- `{c['id']}`: {c['rule']} (reason: {c['reason']})" for c in data["xfailed"]]
        out += [f"- `{c['id']}`: now passes; remove this line from {_where(c['reason'])}" for c in data["xpassed"]]
        out.append("")
    if data["unmatched_xfail_entries"]:
        out += ["## --xfail-file entries that match no clause", ""]
        out += [f"- `{e['pattern']}` ({e['where']})" for e in data["unmatched_xfail_entries"]]
        out.append("")
    return "\n".join(out)


def _where(reason: str) -> str:
    """The ``path:line`` an xfail reason ends with (``reason [path:line]``)."""
    return f"`{reason.rsplit('[', 1)[-1].rstrip(']')}`" if "[" in reason else "the --xfail-file"


def combined_dict(results: list) -> dict:
    """The JSON report of a run that checked several implementations: a comparison, then each one's report."""
    return {
        "implementations": [result.to_dict() for result in results],
        "comparison": [{"implementation": result.implementation, "verdict": result.headline(),
                        "conforms": result.conforms, "areas": result.areas()} for result in results],
        "conforms": all(result.conforms for result in results),
    }


def render_runs(results: list) -> str:
    """The Markdown report of one implementation, or of several: a comparison table, then each one's report."""
    if len(results) == 1:
        return render_markdown(results[0].to_dict())
    ids = [result.implementation.get("id") or result.implementation["spec"] for result in results]
    out = [f"# Conformance report: {len(results)} implementations", "",
           "| implementation | class | profile | verdict |", "|---|---|---|---|"]
    out += [f"| {ident} | `{_cell(r.implementation['spec'])}` | {r.profile['name']} | **{r.headline()}** |"
            for ident, r in zip(ids, results)]
    tables = [result.areas() for result in results]
    areas = list(dict.fromkeys(area for table in tables for area in table))
    out += ["", "Clause cases per area: passed / failed / advisories.", "",
            "| area | " + " | ".join(ids) + " |", "|---|" + "---:|" * len(ids)]
    for area in areas:
        cells = [f"{t[area]['passed']} / {t[area]['failed']} / {t[area]['advisory']}" if area in t else "-"
                 for t in tables]
        out.append(f"| {area} | " + " | ".join(cells) + " |")
    out.append("")
    for ident, result in zip(ids, results):
        body = render_markdown(result.to_dict())
        body = body.replace("\n### ", "\n#### ").replace("\n## ", "\n### ")
        out += [body.replace("# Conformance report:", f"## [{ident}] Conformance report:", 1), ""]
    return "\n".join(out)


__all__ = ["combined_dict", "render_markdown", "render_runs"]
