"""``layer-spec mutate``: mutation testing of a layer file with cosmic-ray, the spec as the test suite.

::

    layer-spec mutate layers/dense.py:MyDenseLayer
    layer-spec mutate path/to/my_layer.py:MyDense --report mutation.json --session mutation.sqlite

Cosmic-ray (the ``mutation`` extra) enumerates the mutations of the file: every place one of its operators
applies (``+`` -> ``-``, ``==`` -> ``!=``, ``True`` -> ``False``, a number replaced, ``not`` added, a decorator
removed, ...). Its ``init`` writes them into a session database, the one its own ``cr-report`` reads, so
``cr-report SESSION`` works on a session this command kept (``--session``).

Each mutant is then run the way the spec runs any class: the mutated source is written to a *new file in a
temporary folder* (``<stem>_mut0042.py``) and the spec runs against ``--impl <that file>:<Class>``. The user's
file is only read, never written, so an interrupted run (Ctrl-C, a crash, a killed worker) cannot leave it
mutated; the temporary folder is removed at the end. The file's own folder is importable, as with ``--impl
file.py:Class``, so the copy imports its neighbours as the original does.

To keep TensorFlow's import out of the per-mutant cost, the runs go to the spec's worker pool
(:mod:`spec_tests.harness.runs`: each worker imports TensorFlow once and runs many spec sessions), and each
run stops at its first failing MUST clause (pytest's ``-x``; a failed SHOULD clause is an advisory, not a
failure, so the run goes on past it). The ``distribution`` area, whose failures can leave TensorFlow's collective
state behind (the worker is then retired), runs last, and only for a mutant that every other area let through.

A mutant is

* **killed** when a MUST clause fails, or the mutated file does not import or its class is not a layer, or the
  run crashes or times out;
* **advisory** (advisory-only) when only SHOULD clauses fail that do not fail on the unmutated file: the mutant
  changes the form of a refusal only;
* **survived** when it conforms as the original does.

A survivor is either a gap in the spec (add a clause) or *equivalent*: it cannot change anything a caller can
observe. Equivalence cannot be computed; a file of reasons, one per mutant key (:attr:`Mutation.key`), says
which are (:func:`load_equivalents`), and the report shows them. The command itself: :mod:`.mutate_cli`.

Before the mutants, the unmutated copy runs once: it must conform (its advisories are remembered), else the
score would mean nothing. A child process also records which lines of the file the layer runs when it is made,
called, differentiated and rebuilt from its config with its defaults and under each configuration it declares
(``layer_spec_configurations``, :func:`reached_lines`): a survivor on a line none of them reaches is reported so
("not reached by its defaults or any declared configuration"), the sign that the layer's own option needs a
declared configuration.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import difflib
import json
import shutil
import tempfile
import time
from pathlib import Path

from spec_tests.harness.catalogue import spec_areas

#: Areas run last, and only for a mutant the others let through (see runs.ISOLATED_AREAS).
LATE_AREAS = ("distribution",)
#: The outcomes of a mutant, in the order the report lists them.
KILLED, ADVISORY, SURVIVED = "killed", "advisory", "survived"
OUTCOMES = (KILLED, ADVISORY, SURVIVED)


@dataclasses.dataclass
class Mutation:
    """One mutation of a file: cosmic-ray's operator and occurrence, and the line it changes."""

    file: str  # the user's file, as given
    cls: str  # the class under test
    operator: str  # cosmic-ray's operator name, e.g. core/ReplaceComparisonOperator_Eq_NotEq
    occurrence: int  # which of that operator's positions in the file
    line: int  # 1-based line of the change
    before: str  # the line before (stripped)
    after: str  # the line after (stripped)
    job_id: str = ""  # cosmic-ray's job id in the session database
    source: str = dataclasses.field(default="", repr=False)  # the whole mutated file
    nth: int = 0  # numbers mutations whose (operator, before, after) coincide, so each key is unique

    @property
    def key(self) -> str:
        """A name that survives edits elsewhere in the file: operator, the line before and after (and a count)."""
        base = f"{Path(self.file).name}|{self.operator}|{self.before}|{self.after}"
        return base if not self.nth else f"{base}|{self.nth}"

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("source")
        data["key"] = self.key
        return data


@dataclasses.dataclass
class MutantResult:
    mutation: Mutation
    outcome: str  # killed, advisory, survived
    why: str  # the first failing MUST clause, the new advisories, or the error
    seconds: float = 0.0
    equivalent: str = ""  # the recorded reason, for a survivor (or an advisory-only mutant) known to be equivalent
    reached: bool | None = None  # whether its line runs with the defaults or a declared configuration (None: unknown)

    def as_dict(self) -> dict:
        return {**self.mutation.as_dict(), "outcome": self.outcome, "why": self.why, "seconds": round(self.seconds, 2),
                "equivalent": self.equivalent, "reached": self.reached}


def _cosmic_ray():
    try:
        import cosmic_ray  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            "layer-spec mutate needs cosmic-ray: pip install 'keras-dense-layer-spec[mutation]' "
            f"(or pip install cosmic-ray==8.7.0) ({exc})"
        ) from None


def mutations(path: Path, cls: str, session: Path, operators=None) -> list[Mutation]:
    """Every mutation cosmic-ray makes of ``path`` (its ``init`` into ``session``), in file order."""
    _cosmic_ray()
    import cosmic_ray.commands
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.work_db import WorkDB, use_db

    source = path.read_text(encoding="utf-8")
    original_lines = source.splitlines()
    declared = declaration_lines(source)
    found: list[Mutation] = []
    with use_db(str(session), WorkDB.Mode.create) as db:
        cosmic_ray.commands.init([path], db, {})
        items = sorted(db.work_items, key=lambda item: (item.mutations[0].start_pos, item.mutations[0].operator_name,
                                                         item.mutations[0].occurrence))
    for item in items:
        spec = item.mutations[0]
        if operators and not any(op in spec.operator_name for op in operators):
            continue
        operator = cosmic_ray.plugins.get_operator(spec.operator_name)(**(spec.operator_args or {}))
        mutated = mutate_code(source, operator, spec.occurrence)
        if mutated is None:
            continue
        line, before, after = _changed_line(original_lines, mutated.splitlines(), spec.start_pos[0])
        if line in declared:
            continue  # the spec's inputs (an example configuration), not the layer's code
        found.append(Mutation(file=str(path), cls=cls, operator=spec.operator_name, occurrence=spec.occurrence,
                              line=line, before=before, after=after, job_id=item.job_id, source=mutated))
    seen: dict[str, int] = {}
    for mutation in found:
        base = mutation.key
        mutation.nth = seen.get(base, 0)
        seen[base] = mutation.nth + 1
    return found


def declaration_lines(source: str) -> set[int]:
    """The lines of the values assigned to ``layer_spec_*`` names that are data, not code: example and invalid
    configurations, options, defaults, capabilities. Mutating them changes what the spec is asked, not the layer,
    so :func:`mutations` leaves them out; the hooks (``def layer_spec_...``) are code and are mutated."""
    import ast

    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names = [getattr(target, "id", getattr(target, "attr", "")) for target in targets]
        if node.__class__ in (ast.Assign, ast.AnnAssign) and any(name.startswith("layer_spec_") for name in names) \
                and not isinstance(node.value, (ast.Lambda, ast.Name, ast.Attribute)):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _changed_line(old: list[str], new: list[str], hint: int) -> tuple[int, str, str]:
    """The first line that differs (1-based), before and after, stripped; a removed decorator shows as removed."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            before = " / ".join(line.strip() for line in old[i1:i2]) or "(nothing)"
            after = " / ".join(line.strip() for line in new[j1:j2]) or "(removed)"
            return i1 + 1, before, after
    return hint, "", ""


def load_equivalents(path: Path | None) -> dict[str, str]:
    if path is None or not Path(path).is_file():
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {entry["key"]: entry["reason"] for entry in data.get("equivalent", [])}


# --------------------------------------------------------------------------- one run, classified

def _must_failures(result) -> list:
    return [clause for clause in result.clauses if clause.outcome == "failed"]


def _advisories(result) -> set[str]:
    return {clause.id for clause in result.clauses if clause.outcome == "advisory"}


def classify(result, baseline_advisories: set[str]) -> tuple[str, str]:
    """(outcome, why) of one spec run on a mutant."""
    if result.error:
        return KILLED, f"error: {result.error.splitlines()[0][:200]}"
    failed = _must_failures(result)
    if failed:
        first = failed[0]
        message = (first.message or "").splitlines()[0][:160] if first.message else ""
        return KILLED, f"{first.id}: {message}"
    new = sorted(_advisories(result) - baseline_advisories)
    if new:
        return ADVISORY, "advisory only: " + ", ".join(new[:3]) + (" ..." if len(new) > 3 else "")
    return SURVIVED, "conforms"


class Session:
    """Runs the spec on the unmutated copy and on every mutant, in a pool of workers, in a temporary folder."""

    def __init__(self, path: Path, cls: str, workers: int | None = None, timeout: float = 300.0, areas=()):
        from spec_tests.harness.runs import WorkerPool

        self.path = path.resolve()
        self.cls = cls
        self.areas = tuple(areas) or tuple(spec_areas())
        self.tmp = Path(tempfile.mkdtemp(prefix="layer-spec-mutate-"))
        # The copies live in the temporary folder; the original's folder stays importable for its neighbours
        # (appended to the workers' import path, as the launcher does for every child).
        self.pool = WorkerPool(size=workers, timeout=timeout, paths=[self.tmp, self.path.parent])
        self.counter = 0
        self.pending: list[concurrent.futures.Future] = []

    def _submit(self, job):
        future = self.pool.submit(job)
        self.pending.append(future)
        return future

    def close(self, interrupted: bool = False):
        """Stop the workers and remove the temporary folder; ``interrupted``: drop the queued jobs, kill the workers."""
        try:
            if interrupted:
                for future in self.pending:
                    future.cancel()
                self.pool.terminate()
                shutil.rmtree(self.tmp, ignore_errors=True)
            self.pool.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _write(self, source: str, label: str, cls: str | None = None) -> str:
        self.counter += 1
        copy = self.tmp / f"{self.path.stem}_{label}{self.counter:04d}.py"
        copy.write_text(source, encoding="utf-8")
        return f"{copy}:{cls or self.cls}"

    def _jobs(self, spec: str, stop_early: bool):
        from spec_tests.harness.runs import Job

        early = tuple(area for area in self.areas if area not in LATE_AREAS)
        late = tuple(area for area in self.areas if area in LATE_AREAS)
        args = ("-x",) if stop_early else ()
        return Job(spec, early, extra_args=args), (Job(spec, late, extra_args=args) if late else None)

    def submit(self, source: str, label: str, stop_early: bool = True, cls: str | None = None):
        """A future of the merged RunResult of every area (the late ones only when the early ones found nothing);
        ``cls``: another class than the session's (a file of the same folder)."""
        spec = self._write(source, label, cls)
        early, late = self._jobs(spec, stop_early)
        outer: concurrent.futures.Future = concurrent.futures.Future()

        def after_early(future):
            try:
                result = future.result()
            except BaseException as exc:  # noqa: BLE001 - a dead worker: handed on
                outer.set_exception(exc)
                return
            if late is None or result.error or _must_failures(result):
                outer.set_result(result)
                return

            def after_late(late_future):
                try:
                    other = late_future.result()
                except BaseException as exc:  # noqa: BLE001
                    outer.set_exception(exc)
                    return
                result.clauses.extend(other.clauses)
                result.error = result.error or other.error
                result.seconds += other.seconds
                outer.set_result(result)

            self._submit(late).add_done_callback(after_late)

        self._submit(early).add_done_callback(after_early)
        return outer


def run(target: str, *, workers: int | None = None, timeout: float = 300.0, operators=None, areas=(),
        session_path: Path | None = None, equivalents: Path | None = None, only=None, progress=print) -> dict:
    """Mutate ``target`` (``path/to/file.py:Class``) and run the spec on every mutant; the summary as a dict."""
    file_part, sep, cls = target.rpartition(":")
    if not sep or not file_part.endswith(".py"):
        raise SystemExit(f"layer-spec mutate: expected path/to/file.py:Class, got {target!r}")
    path = Path(file_part)
    if not path.is_file():
        raise SystemExit(f"layer-spec mutate: no such file {file_part!r}")
    started = time.perf_counter()
    reach = None
    keep_session = session_path is not None
    session_file = Path(session_path) if keep_session else Path(tempfile.mkdtemp(prefix="layer-spec-cr-")) / "s.sqlite"
    try:
        found = mutations(path, cls, session_file, operators)
        if only:
            found = [m for m in found if m.key in only or str(found.index(m)) in only]
        known = load_equivalents(equivalents)
        progress(f"layer-spec mutate: {len(found)} mutants of {path} ({cls}), cosmic-ray "
                 f"{_version('cosmic-ray')}; spec areas: {len(areas) or len(spec_areas())}")
        session = Session(path, cls, workers=workers, timeout=timeout, areas=areas)
        interrupted = True
        try:
            base = session.submit(path.read_text(encoding="utf-8"), "orig", stop_early=False).result()
            if base.error or _must_failures(base):
                why = base.error or ", ".join(c.id for c in _must_failures(base)[:5])
                raise SystemExit(f"layer-spec mutate: the unmutated {target} does not conform ({why}); "
                                 "fix it first: a mutation score needs a conforming original")
            baseline_advisories = _advisories(base)
            progress(f"  unmutated: conforms ({len(baseline_advisories)} advisories), {base.seconds:.1f} s")
            reach = reached_lines(path, cls)
            reached = None if reach is None else set(reach["lines"])
            futures = {session.submit(m.source, "mut"): (index, m) for index, m in enumerate(found)}
            results: list = [None] * len(found)
            for done, future in enumerate(concurrent.futures.as_completed(futures)):
                index, mutation = futures[future]
                try:
                    outcome = future.result()
                    verdict, why = classify(outcome, baseline_advisories)
                    if verdict != KILLED and any(c.outcome == "platform" for c in outcome.clauses):
                        # -x stopped at a failure later attributed to the platform: run the whole spec instead
                        outcome = session.submit(mutation.source, "full", stop_early=False).result()
                        verdict, why = classify(outcome, baseline_advisories)
                    seconds = outcome.seconds
                except Exception as exc:  # noqa: BLE001 - a worker died on this mutant: it crashed the layer
                    verdict, why, seconds = KILLED, f"crash: {type(exc).__name__}: {exc}", 0.0
                result = MutantResult(mutation, verdict, why, seconds,
                                      known.get(mutation.key, "") if verdict != KILLED else "",
                                      None if reached is None else mutation.line in reached)
                results[index] = result
                _record(session_file, result)
                mark = {KILLED: "killed  ", ADVISORY: "ADVISORY", SURVIVED: "SURVIVED"}[verdict]
                progress(f"  [{done + 1:3d}/{len(found)}] #{index:<3d} {mark} L{mutation.line:<4d} "
                         f"{mutation.operator:<46s} {mutation.before[:40]!r} -> {mutation.after[:40]!r}  "
                         f"({seconds:.1f} s)" + (f"\n      {why}" if verdict != KILLED else ""))
            interrupted = False
        finally:
            session.close(interrupted)
    finally:
        if not keep_session:
            shutil.rmtree(session_file.parent, ignore_errors=True)
    summary = summarize(target, results, time.perf_counter() - started)
    if reach is not None:
        summary.update(own_options=reach["own_options"], declared_configurations=reach["configurations"])
    return summary


def reached_lines(path: Path, cls: str) -> dict | None:
    """``{"lines": [...], "own_options": [...], "configurations": N}``: the lines of ``path`` that run while ``cls``
    is made, called, differentiated and rebuilt from its config with its defaults and under each of its ``N``
    declared configurations, and the options of its own (not Dense's); measured in a child process; None when that
    failed."""
    from spec_tests.harness import launcher

    child = launcher.run_child(launcher.python_command("module", "spec_tests.harness.mutate", f"{path}:{cls}"),
                               launcher.child_environment({"TF_CPP_MIN_LOG_LEVEL": "2"}), timeout=600)
    for line in reversed(child.output.splitlines()) if not child.unknown and child.returncode == 0 else ():
        if line.startswith(_REACHED):
            return json.loads(line[len(_REACHED):])
    return None


_REACHED = "layer-spec-reached: "


def _reach(target: str) -> dict:
    """In the child: what :func:`reached_lines` returns."""
    import sys

    import numpy as np

    from spec_tests import backend, forward, generation, helpers
    from spec_tests.harness import golden, impls, options as dense_options

    maker, _ = impls.load_impl(target)
    state = impls.SpecState(spec=target, cls=impls.made_class(maker, target), profile="custom", source="",
                            factory=maker if impls.is_factory(maker) else None)
    contract = forward.of(state)
    forward.use(contract)
    filename = str(Path(target.rpartition(":")[0]).resolve())
    lines: set[int] = set()

    def tracer(frame, event, arg):  # a call: follow it only into the layer's file
        if frame.f_code.co_filename != filename:
            return None
        lines.add(frame.f_lineno)
        return each_line

    def each_line(frame, event, arg):
        lines.add(frame.f_lineno)
        return each_line

    configurations = {"defaults": {}, **dict(state.declared(golden.CONFIGURATIONS_ATTRIBUTE, None) or {})}
    x = helpers.random_array((2, 4), seed=1)
    sys.settrace(tracer)
    try:
        for options in configurations.values():
            generation.clear_session()
            try:
                layer = state.make(3, **options)
                layer(x)
                backend.gradients(layer, x, np.ones((2, 3), "float32"), helpers.kernel_and_bias(layer))
                contract.weights(layer)
                contract.chain(layer, {"kernel": np.ones((4, 3))})
                state.cls.from_config(layer.get_config())(x)
            except Exception:  # noqa: BLE001 - a configuration that fails reaches what it reached
                continue
    finally:
        sys.settrace(None)
    own = sorted(set(dense_options._signature_defaults(maker, state.cls)) - set(dense_options.DENSE_OPTIONS)
                 - set(dense_options.BASE_OPTIONS))
    return {"lines": sorted(lines), "own_options": own, "configurations": len(configurations) - 1}


def _record(session_file: Path, result: MutantResult) -> None:
    """The result in cosmic-ray's session database too (``cr-report`` reads it): killed, or survived."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    if not result.mutation.job_id or not session_file.exists():
        return
    outcome = TestOutcome.KILLED if result.outcome == KILLED else TestOutcome.SURVIVED
    diff = f"--- {result.mutation.file}:{result.mutation.line}\n- {result.mutation.before}\n+ {result.mutation.after}"
    with use_db(str(session_file), WorkDB.Mode.open) as db:
        db.set_result(result.mutation.job_id, WorkResult(worker_outcome=WorkerOutcome.NORMAL, test_outcome=outcome,
                                                         output=f"{result.outcome}: {result.why}", diff=diff))


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def summarize(target: str, results: list[MutantResult], seconds: float) -> dict:
    from spec_tests import generation

    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in OUTCOMES}
    equivalent = sum(1 for r in results if r.outcome != KILLED and r.equivalent)
    non_equivalent = len(results) - equivalent
    unreached = sum(1 for r in results if r.outcome != KILLED and not r.equivalent and r.reached is False)
    return {
        "target": target,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "versions": generation.describe() if hasattr(generation, "describe") else "",
        "cosmic_ray": _version("cosmic-ray"),
        "seconds": round(seconds, 1),
        "mutants": len(results),
        **counts,
        "equivalent": equivalent,
        "non_equivalent": non_equivalent,
        "unreached_survivors": unreached,
        "score": round(counts[KILLED] / non_equivalent, 4) if non_equivalent else 1.0,
        "results": [r.as_dict() for r in results],
    }


__all__ = ["ADVISORY", "KILLED", "SURVIVED", "Mutation", "Session", "classify", "load_equivalents", "mutations",
           "reached_lines", "run"]


if __name__ == "__main__":
    import sys

    print(_REACHED + json.dumps(_reach(sys.argv[1])), flush=True)
