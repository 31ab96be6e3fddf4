"""Records: what one run of the spec on one implementation found, as plain data, and the words it ends with.

One type, :class:`RunResult`, serves every reader: the end-of-run summary and
the Markdown/JSON report (:mod:`~spec_tests.harness.reporter`), ``layer-spec``,
the in-process run (:func:`spec_tests.harness.runs.run`), the mutant meta test
and the kill matrix. It holds one :class:`ClauseResult` per clause case, and
derives from them the per-area table, the verdict and the causes
(:func:`~spec_tests.harness.hints.group`). It round-trips through
JSON (:meth:`RunResult.to_dict`, :meth:`RunResult.from_dict`): that is the
``--spec-report x.json`` format and the worker protocol of the pool (:mod:`~spec_tests.harness.runs`).
"""

from __future__ import annotations

import dataclasses

from spec_tests.harness import hints
from spec_tests.harness.catalogue import MUST, area_sort_key

#: How a clause case can end. ``advisory``: a SHOULD clause failed (it does not decide the verdict, unless strict).
#: ``platform``: a MUST clause failed on this machine and passed when rerun under the platform's reference
#: configuration (harness/attribution.py): a defect of the platform's kernels, not of the layer (it does not decide
#: the verdict, unless strict).
OUTCOMES = ("passed", "failed", "advisory", "platform", "xfailed", "skipped")
#: Outcomes a table shows only when some clause has them.
OPTIONAL_COLUMNS = ("platform",)
#: The words a verdict can be.
CONFORMS, DOES_NOT_CONFORM, INCOMPLETE, NO_VERDICT = "CONFORMS", "DOES NOT CONFORM", "INCOMPLETE", "NO VERDICT"


@dataclasses.dataclass
class ClauseResult:
    """One clause case: its id, area and rule, how it ended, and for a failure its message and hint."""

    id: str  # canonical: spec_tests/test_<area>.py::test_<rule>[case]
    area: str
    rule: str
    outcome: str = ""  # passed, failed, advisory, xfailed, xpassed, skipped ("" until the case reported)
    hint: str | None = None
    pitfall: str | None = None
    message: str = ""
    when: str = ""  # the phase of a failure: setup, call or teardown
    reason: str = ""  # why it was skipped or xfailed
    level: str = MUST  # MUST or SHOULD
    exc_type: str = ""  # the type of the exception the clause failed with (SpecFailure for a spec check)
    pitfall_name: str | None = None  # the hint table's entry recognised in the failure (hints.HINTS)
    origin: str = ""  # "path:line in func": the innermost frame of the implementation's code the error passed
    origin_type: str = ""  # the type of the exception raised there
    repro: str = ""  # a failure's standalone reproduction, as Python source (spec_tests/harness/repro.py)
    platform: str = ""  # what the rerun under the platform's reference configuration showed (attribution.py)
    capability: str = ""  # the capability the clause checks ("" for the core contract: harness/capabilities.py)

    @property
    def name(self) -> str:
        return self.id.split("::", 1)[-1]

    @property
    def first_line(self) -> str:
        return next((line for line in self.message.splitlines() if line.strip()), "")

    def as_dict(self) -> dict:
        return {"id": self.id, "area": self.area, "clause": self.name, "rule": self.rule, "level": self.level,
                "outcome": self.outcome, "hint": self.hint, "pitfall": self.pitfall, "message": self.message,
                "phase": self.when, "reason": self.reason, "exception": self.exc_type,
                "pitfall_name": self.pitfall_name, "origin": self.origin, "origin_exception": self.origin_type,
                "repro": self.repro, "platform": self.platform, "capability": self.capability}

    @classmethod
    def from_dict(cls, data: dict) -> "ClauseResult":
        return cls(id=data["id"], area=data["area"], rule=data.get("rule", ""), outcome=data.get("outcome", ""),
                   hint=data.get("hint"), pitfall=data.get("pitfall"), message=data.get("message", ""),
                   when=data.get("phase", ""), reason=data.get("reason", ""), level=data.get("level", MUST),
                   exc_type=data.get("exception", ""), pitfall_name=data.get("pitfall_name"),
                   origin=data.get("origin", ""), origin_type=data.get("origin_exception", ""),
                   repro=data.get("repro", ""), platform=data.get("platform", ""),
                   capability=data.get("capability") or "")


@dataclasses.dataclass
class RunResult:
    """Everything one run of the spec found about one implementation."""

    implementation: dict  # {"spec", "class", "file"}
    profile: dict  # {"name", "contract"}
    versions: dict  # {"runtime", "python", "pytest", "layer_spec"}
    date: str = ""
    clauses: list = dataclasses.field(default_factory=list)  # ClauseResult, in the order they ran
    collection_errors: list = dataclasses.field(default_factory=list)  # {"id", "message"}
    unmatched_xfail_entries: list = dataclasses.field(default_factory=list)  # {"pattern", "reason", "where"}
    interrupted: bool = False
    strict: bool = False  # advisories counted as failures (--spec-strict): SHOULD failures are then "failed"
    exit_code: int | None = None  # pytest's exit status, when the runner ran it
    error: str | None = None  # the harness itself failed (bad --impl, dead worker, timeout)
    seconds: float = 0.0
    rerun: str = ""  # the command that reruns one cause's clauses, less the cause's name ("" when none can)
    capabilities: list = dataclasses.field(default_factory=list)  # capability table rows (harness/capabilities.py)
    probe: dict = dataclasses.field(default_factory=dict)  # the platform probe's findings (spec_tests/platform_probe.py)
    drop_in: dict = dataclasses.field(default_factory=dict)  # {"drop_in": bool, "reasons": [...]} (harness/options.py)
    attribution: dict = dataclasses.field(default_factory=dict)  # the platform rerun: {"rerun", "platform", "seconds"}

    # ---- per area and in total

    def areas(self) -> dict[str, dict[str, int]]:
        """Area -> counts of each outcome (an xpassed case counts as passed), in reading order."""
        table: dict[str, dict[str, int]] = {}
        for clause in self.clauses:
            row = table.setdefault(clause.area, dict.fromkeys(OUTCOMES, 0))
            outcome = "passed" if clause.outcome == "xpassed" else clause.outcome
            if outcome in row:
                row[outcome] += 1
        return {area: table[area] for area in sorted(table, key=area_sort_key)}

    def area_counts(self, area: str) -> dict[str, int]:
        return self.areas().get(area, dict.fromkeys(OUTCOMES, 0))

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(OUTCOMES, 0)
        for row in self.areas().values():
            for key in OUTCOMES:
                totals[key] += row[key]
        return totals

    def of(self, outcome: str) -> list[ClauseResult]:
        """The clause cases with this outcome, in reading order."""
        return sorted((c for c in self.clauses if c.outcome == outcome), key=lambda c: (area_sort_key(c.area), c.id))

    def failed_in(self, area: str) -> list[ClauseResult]:
        return [clause for clause in self.of("failed") if clause.area == area]

    def advisories_in(self, area: str) -> list[ClauseResult]:
        return [clause for clause in self.of("advisory") if clause.area == area]

    def columns(self) -> list[str]:
        """The outcomes a table of this run shows: every outcome, less the optional ones no clause has."""
        totals = self.totals()
        return [key for key in OUTCOMES if key not in OPTIONAL_COLUMNS or totals[key]]

    def killed_by(self, area: str) -> bool:
        """Whether ``area`` rejected the implementation: at least one of its clauses failed (advisories do not)."""
        return bool(self.failed_in(area))

    def causes(self, outcome: str = "failed") -> list[hints.Cause]:
        """The failed clauses (or, with ``"advisory"``, the advisories) grouped by cause, biggest first."""
        return hints.group(self.of(outcome))

    def ran(self, area: str) -> int:
        return sum(self.area_counts(area).values())

    # ---- the verdict

    def verdict(self) -> tuple[str, str]:
        """(``CONFORMS`` | ``DOES NOT CONFORM`` | ``INCOMPLETE`` | ``NO VERDICT``, details).

        Only failed clauses (MUST clauses, and SHOULD clauses under ``--spec-strict``) and spec modules that
        failed to import decide against conformance; advisories are counted in the details.
        """
        totals = self.totals()
        counts = ", ".join(f"{totals[key]} {key}" for key in self.columns())
        platform = totals["platform"]
        if totals["failed"] or self.collection_errors or (platform and self.strict):
            problems = [f"{totals['failed']} clause(s) failed"] if totals["failed"] else []
            if platform and self.strict:
                problems.append(f"{platform} clause(s) fail on this machine because of a platform defect "
                                f"(counted by --spec-strict)")
            if self.collection_errors:
                problems.append(f"{len(self.collection_errors)} spec module(s) failed to import")
            return DOES_NOT_CONFORM, f"{', '.join(problems)} ({counts})"
        if self.interrupted or self.error:
            return INCOMPLETE, f"the run stopped early ({counts})" + (f": {self.error}" if self.error else "")
        if not totals["passed"] and not totals["platform"]:  # a platform outcome passed under the reference setup
            return NO_VERDICT, f"no clause ran ({counts})"
        details = counts
        if totals["xfailed"]:
            details += f"; {totals['xfailed']} known failure(s) excused by --xfail-file"
        return CONFORMS, details

    def drop_in_line(self) -> str:
        """``drop-in keras.layers.Dense: yes`` or ``...: no: <why>``, and the clause cases not run as not offered."""
        if not self.drop_in:
            return ""
        skipped = sum(clause.outcome == "not_offered" for clause in self.clauses)
        line = "drop-in keras.layers.Dense: " + ("yes" if self.drop_in.get("drop_in") else
                                                 "no: " + "; ".join(self.drop_in.get("reasons", [])))
        return line + (f" ({skipped} clause case(s) not offered: not run)" if skipped else "")

    def platform_note(self) -> str:
        """``2 clauses fail on this machine because of a TensorFlow defect: see "platform"`` ('' when none do)."""
        count = self.totals()["platform"]
        if not count:
            return ""
        backend = (self.probe or {}).get("backend", "")
        who = {"tensorflow": "TensorFlow"}.get(backend, backend or "platform")
        return (f"{count} {'clause fails' if count == 1 else 'clauses fail'} on this machine because of a {who} "
                f"defect: see \"platform\"")

    def render_markdown(self) -> str:
        """This result as the Markdown conformance report (what ``--spec-report report.md`` writes)."""
        from spec_tests.harness.render import render_markdown

        return render_markdown(self.to_dict())

    @property
    def conforms(self) -> bool:
        return self.verdict()[0] == CONFORMS

    def headline(self) -> str:
        """The verdict as a user reads it: ``CONFORMS``, ``CONFORMS with N advisories``, ``DOES NOT CONFORM``..."""
        verdict, advisories = self.verdict()[0], self.totals()["advisory"]
        headline = verdict
        if verdict == CONFORMS and advisories:
            headline = f"{CONFORMS} with {advisories} {'advisory' if advisories == 1 else 'advisories'}"
        note = self.platform_note()
        return f"{headline} ({note})" if note else headline

    # ---- as data

    def to_dict(self) -> dict:
        """The JSON report: the verdict, the causes (failures', then advisories'), the table, and every clause case."""
        verdict, details = self.verdict()
        return {
            "implementation": dict(self.implementation),
            "profile": dict(self.profile),
            "versions": dict(self.versions),
            "date": self.date,
            "verdict": self.headline(),
            "details": details,
            "conforms": verdict == CONFORMS,
            "strict": self.strict,
            "causes": [cause.as_dict(self.rerun) for cause in self.causes()],
            "advisory_causes": [cause.as_dict(self.rerun) for cause in self.causes("advisory")],
            "totals": self.totals(),
            "columns": self.columns(),
            "areas": [{"area": area, **row} for area, row in self.areas().items()],
            "failed": [clause.as_dict() for clause in self.of("failed")],
            "advisories": [clause.as_dict() for clause in self.of("advisory")],
            "platform": [clause.as_dict() for clause in self.of("platform")],
            "platform_probe": dict(self.probe),
            "drop_in": dict(self.drop_in),
            "attribution": dict(self.attribution),
            "not_offered": sum(clause.outcome == "not_offered" for clause in self.clauses),
            "xfailed": [clause.as_dict() for clause in self.of("xfailed")],
            "xpassed": [clause.as_dict() for clause in self.of("xpassed")],
            "collection_errors": [dict(error) for error in self.collection_errors],
            "unmatched_xfail_entries": [dict(entry) for entry in self.unmatched_xfail_entries],
            "interrupted": self.interrupted,
            "exit_code": self.exit_code,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "rerun": self.rerun,
            "capabilities": [dict(row) for row in self.capabilities],
            "clauses": [clause.as_dict() for clause in self.clauses],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "RunResult":
        return cls(
            implementation=dict(data.get("implementation") or {}),
            profile=dict(data.get("profile") or {}),
            versions=dict(data.get("versions") or {}),
            date=data.get("date", ""),
            clauses=[ClauseResult.from_dict(clause) for clause in data.get("clauses", [])],
            collection_errors=[dict(error) for error in data.get("collection_errors", [])],
            unmatched_xfail_entries=[dict(entry) for entry in data.get("unmatched_xfail_entries", [])],
            interrupted=bool(data.get("interrupted", False)),
            strict=bool(data.get("strict", False)),
            exit_code=data.get("exit_code"),
            error=data.get("error"),
            seconds=float(data.get("seconds", 0.0)),
            rerun=data.get("rerun", ""),
            capabilities=[dict(row) for row in data.get("capabilities", [])],
            probe=dict(data.get("platform_probe") or {}),
            drop_in=dict(data.get("drop_in") or {}),
            attribution=dict(data.get("attribution") or {}),
        )


__all__ = ["CONFORMS", "ClauseResult", "DOES_NOT_CONFORM", "INCOMPLETE", "NO_VERDICT", "OPTIONAL_COLUMNS", "OUTCOMES",
           "RunResult"]
