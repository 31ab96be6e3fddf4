"""Mutation testing: the tooling (``layer-spec mutate``) and a fixed sample of its mutants that must stay killed.

``tools/mutation/sample.json`` holds a few of cosmic-ray's mutants of the layers in ``layers/``, each as the
line it changes (before and after) and the clause that killed it when the sample was taken, chosen to
exercise different areas. The full-tier test applies each to a temporary copy of its file and runs the spec
on it (first failing MUST clause wins, as ``layer-spec mutate`` does): a clause that loses its power lets one
through. The sample is data, not a fresh cosmic-ray run, so the test is deterministic and needs no cosmic-ray;
the fast tier checks that every sample line still matches its file (else: retake the sample, docs/mutation.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layers._compat import GENERATION
from spec_tests.backend import BACKEND
from spec_tests.harness import mutate
from spec_tests.harness.records import ClauseResult, RunResult

REPO = Path(__file__).resolve().parent.parent
SAMPLE = json.loads((REPO / "tools" / "mutation" / "sample.json").read_text(encoding="utf-8"))["mutants"]
EQUIVALENTS = REPO / "tools" / "mutation" / "equivalents.json"


def _id(entry) -> str:
    return f"{Path(entry['file']).stem}:L{entry['line']}:{entry['operator'].rsplit('/', 1)[-1]}"


def _mutated_source(entry) -> str:
    """The file with the sample's line replaced (its indentation kept); fails when the line no longer matches."""
    lines = (REPO / entry["file"]).read_text(encoding="utf-8").splitlines(keepends=True)
    index = entry["line"] - 1
    seen = lines[index].strip() if index < len(lines) else "(past the end of the file)"
    assert seen == entry["before"], (
        f"{entry['file']}:{entry['line']}: the sample expects {entry['before']!r}, the file has {seen!r}; "
        "the file changed since the sample was taken: retake it (docs/mutation.md, 'The CI sample')"
    )
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = indent + entry["after"] + "\n"
    return "".join(lines)


def test_sample_is_varied_and_matches_the_files():
    """The sample has 5 to 10 mutants over several areas, and each one's line is still in its file."""
    assert 5 <= len(SAMPLE) <= 10, len(SAMPLE)
    areas = {entry["clause"].split("::")[0] for entry in SAMPLE}
    assert len(areas) >= 4, f"the sample's mutants are killed in too few areas: {sorted(areas)}"
    for entry in SAMPLE:
        assert _mutated_source(entry) != (REPO / entry["file"]).read_text(encoding="utf-8")


def test_equivalents_give_a_reason_each():
    """Every recorded equivalent mutant has a key and a reason (why no caller can observe it)."""
    entries = json.loads(EQUIVALENTS.read_text(encoding="utf-8"))["equivalent"]
    keys = [entry["key"] for entry in entries]
    assert len(keys) == len(set(keys)), "an equivalent mutant is recorded twice"
    for entry in entries:
        assert entry["key"].count("|") >= 3 and len(entry["reason"]) > 20, entry


def _run(outcomes: dict[str, str], error: str | None = None) -> RunResult:
    clauses = [ClauseResult(id=clause_id, area=clause_id.split("::")[0], rule="", outcome=outcome)
               for clause_id, outcome in outcomes.items()]
    return RunResult(implementation={}, profile={}, versions={}, clauses=clauses, error=error)


def test_classify_killed_advisory_survived():
    """A MUST failure or a failed import kills; only new SHOULD failures are advisory-only; else it survived."""
    baseline = {"bad_input::known_advisory"}
    assert mutate.classify(_run({"bias::a": "passed", "bias::b": "failed"}), baseline)[0] == mutate.KILLED
    assert mutate.classify(_run({}, error="bad --impl: importing failed"), baseline)[0] == mutate.KILLED
    assert mutate.classify(_run({"bad_input::x": "advisory"}), baseline)[0] == mutate.ADVISORY
    assert mutate.classify(_run({"bad_input::known_advisory": "advisory"}), baseline)[0] == mutate.SURVIVED
    assert mutate.classify(_run({"bias::a": "passed"}), baseline)[0] == mutate.SURVIVED


def test_mutations_leave_the_file_alone(tmp_path):
    """cosmic-ray's mutants of a file come with their changed line; the file itself is only read."""
    pytest.importorskip("cosmic_ray", reason="the mutation extra (cosmic-ray) is not installed")
    layer = tmp_path / "tiny.py"
    text = "def f(x):\n    return x + 1 if x == 2 else -x\n"
    layer.write_text(text)
    found = mutate.mutations(layer, "Tiny", tmp_path / "session.sqlite")
    assert layer.read_text() == text
    assert len(found) > 5 and {m.line for m in found} == {2}
    assert len({m.key for m in found}) == len(found), "mutant keys must be unique"
    assert any(m.after == "return x - 1 if x == 2 else -x" for m in found), [m.after for m in found]


@pytest.fixture(scope="module")
def session():
    """One session (two spec workers, TensorFlow imported once each) for every sampled mutant of layers/."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))  # the session extends it; put it back after
        session = mutate.Session(REPO / "layers" / "dense.py", "MyDenseLayer")
        try:
            yield session
        finally:
            session.close()


@pytest.mark.full
@pytest.mark.skipif(GENERATION != 3 or BACKEND != "tensorflow",
                    reason="the sample was taken on Keras 3 with the TensorFlow backend")
@pytest.mark.parametrize("entry", SAMPLE, ids=_id)
def test_sample_mutant_is_still_killed(entry, session):
    """A sampled cosmic-ray mutant of a layer in layers/ still fails a MUST clause of the spec."""
    result = session.submit(_mutated_source(entry), "ci", cls=entry["class"]).result()
    outcome, why = mutate.classify(result, set())
    assert outcome == mutate.KILLED, (
        f"{entry['file']}:{entry['line']} {entry['before']!r} -> {entry['after']!r} is no longer killed "
        f"({outcome}: {why}); it was killed by {entry['clause']} when the sample was taken"
    )


def test_declarations_are_left_out_and_hooks_are_mutated():
    """The values of ``layer_spec_*`` declarations are the spec's inputs, not code: never mutated; hooks are."""
    source = (REPO / "tests" / "correct_layers" / "scaled_kernel.py").read_text(encoding="utf-8")
    lines = mutate.declaration_lines(source)
    text = source.splitlines()
    assert any('"scaled": {"kernel_scale": 2.5}' in text[n - 1] for n in lines)
    assert any('"boolean_scale"' in text[n - 1] for n in lines)
    assert not any("def layer_spec_" in text[n - 1] or "return" in text[n - 1] for n in lines)


def test_the_summary_says_when_own_options_have_no_configuration():
    """A layer with options of its own and no declared configuration is told that its options ran with their
    defaults only; a survivor on a line no configuration reaches is marked."""
    from spec_tests.harness.mutate_cli import UNREACHED, render_summary

    summary = {"target": "x.py:X", "mutants": 1, "killed": 0, "advisory": 0, "survived": 1, "equivalent": 0,
               "non_equivalent": 1, "score": 0.0, "seconds": 1.0, "date": "today", "unreached_survivors": 1,
               "own_options": ["kernel_scale"], "declared_configurations": 0,
               "results": [{"outcome": "survived", "equivalent": "", "line": 3, "operator": "op", "before": "a",
                            "after": "b", "why": "conforms", "key": "k", "reached": False}]}
    text = render_summary(summary)
    assert "options of its own (kernel_scale) and no declared configuration" in text
    assert UNREACHED in text
