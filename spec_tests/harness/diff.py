"""Diff: what changed between two saved reports (``--spec-report x.json``) of the same implementation.

``layer-spec diff OLD.json NEW.json`` lists the regressions (a clause case
that did not fail before and fails now), the fixes (failed before, passes now),
the advisories that appeared or went away, and the clause cases that are new in
the spec or gone from it. It exits with 1 when there is a regression, so a CI
job can ratchet on it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from spec_tests.harness.records import ClauseResult, RunResult

_BAD = ("failed",)


@dataclasses.dataclass
class Diff:
    regressions: list  # (old outcome, new ClauseResult)
    fixes: list  # (old ClauseResult, new outcome)
    new_advisories: list  # ClauseResult
    gone_advisories: list  # ClauseResult
    added: list  # ClauseResult: cases new in the spec
    removed: list  # ClauseResult: cases no longer in the spec
    old: RunResult
    new: RunResult

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def load(path) -> dict[str, RunResult]:
    """The results in a report written by ``--spec-report PATH.json``, by implementation spec (one per
    implementation when the run checked several)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    runs = data.get("implementations", [data])
    if not runs or any("clauses" not in run for run in runs):
        raise ValueError(f"{path}: not a layer-spec JSON report with every clause (write it with --spec-report x.json)")
    results = [RunResult.from_dict(run) for run in runs]
    return {result.implementation.get("spec", "?"): result for result in results}


def diff(old: RunResult, new: RunResult) -> Diff:
    before = {clause.id: clause for clause in old.clauses}
    after = {clause.id: clause for clause in new.clauses}
    common = sorted(key for key in after if key in before)
    return Diff(
        regressions=[(before[k].outcome, after[k]) for k in common
                     if after[k].outcome in _BAD and before[k].outcome not in _BAD],
        fixes=[(before[k], after[k].outcome) for k in common
               if before[k].outcome in _BAD and after[k].outcome not in _BAD],
        new_advisories=[after[k] for k in common if after[k].outcome == "advisory" != before[k].outcome],
        gone_advisories=[before[k] for k in common if before[k].outcome == "advisory" != after[k].outcome],
        added=[after[k] for k in after if k not in before],
        removed=[before[k] for k in before if k not in after],
        old=old,
        new=new,
    )


def _line(clause: ClauseResult) -> str:
    first = clause.first_line
    return f"  {clause.id}" + (f"\n      {first}" if first else "")


def format_diff(change: Diff, old_name: str = "OLD", new_name: str = "NEW") -> str:
    old_impl, new_impl = change.old.implementation.get("spec", "?"), change.new.implementation.get("spec", "?")
    out = [f"layer-spec diff: {old_name} ({old_impl}, {change.old.headline()}) -> "
           f"{new_name} ({new_impl}, {change.new.headline()})"]
    if old_impl != new_impl:
        out.append(f"note: the two reports are of different implementations ({old_impl} and {new_impl})")
    sections = [
        ("regressions (did not fail before, fail now)", [_line(c) + f"  [was {was}]" for was, c in change.regressions]),
        ("fixes (failed before, do not fail now)", [_line(c) + f"  [now {now}]" for c, now in change.fixes]),
        ("new advisories (SHOULD clauses that now fail)", [_line(c) for c in change.new_advisories]),
        ("advisories gone", [f"  {c.id}" for c in change.gone_advisories]),
        ("clause cases new in the spec", [f"  {c.id}: {c.outcome}" for c in change.added]),
        ("clause cases no longer in the spec", [f"  {c.id}" for c in change.removed]),
    ]
    for title, lines in sections:
        out += ["", f"{len(lines)} {title}" + (":" if lines else "")] + lines
    out += ["", "REGRESSED" if change.regressed else "no regression"]
    return "\n".join(out)


def main(old_path: str, new_path: str) -> int:
    """Print the diff of every implementation the two reports share (or of their only ones); 1 on a regression."""
    old, new = load(old_path), load(new_path)
    pairs = [(old[spec], new[spec]) for spec in new if spec in old]
    if not pairs and len(old) == 1 and len(new) == 1:
        pairs = [(next(iter(old.values())), next(iter(new.values())))]
    if not pairs:
        raise ValueError(f"the reports share no implementation ({', '.join(old)} vs {', '.join(new)})")
    changes = [diff(before, after) for before, after in pairs]
    print("\n\n".join(format_diff(change, old_path, new_path) for change in changes))
    return 1 if any(change.regressed for change in changes) else 0


__all__ = ["Diff", "diff", "format_diff", "load", "main"]
