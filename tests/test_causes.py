"""Tests of the causes: failed clauses grouped by the mistake behind them (``spec_tests/harness/hints.py``; their text:
``spec_tests/harness/reporter.py``).

Unit tests on hand-made :class:`ClauseResult`s pin down the normalisation and the
grouping rule; two end-to-end runs of ``layer-spec check`` in a fresh process pin
down what a reader sees: the tutorial's layer as published (one cause, its fix,
a short output) and a mutant with two independent mistakes (two causes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from spec_tests.generation import LEGACY
from spec_tests.harness import cli, hints, reporter
from spec_tests.harness.hints import Cause, cause_key, group, normalise
from spec_tests.harness.render import render_markdown
from spec_tests.harness.records import ClauseResult, RunResult
from tests.support import REPO, run_spec, tail
from tests.tiers import FULL

ADD_VARIABLE = hints.find_hint("TypeError", "Layer.add_variable() got multiple values for argument 'shape'")


def _clause(name, area="build", message="SpecFailure: x: expected 1, seen 2", outcome="failed", **fields):
    return ClauseResult(f"spec_tests/test_{area}.py::{name}", area, f"rule of {name}", outcome, message=message,
                        exc_type=message.split(":", 1)[0], **fields)


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("text, expected", [
    ("expected np.float64(4.02) at index (0, 0) (rtol=1e-05, atol=1e-05), seen np.float64(0.0)",
     "expected … at index … (rtol=…, atol=…), seen …"),
    ("Matrix size-incompatible: In[0]: [2,4], In[1]: [3,4]", "Matrix size-incompatible: In…: …, In…: …"),
    ("Layer 'my_dense_layer_3' expected 1 variables", "Layer '…' expected … variables"),
    ("variable my_dense_layer_3/kernel of shape (4, 3)", "variable …/kernel of shape …"),
    ("<tf.Variable 'kernel:0' shape=(4, 3) dtype=float32> at 0x7f4860cecb50", "<…> at …"),
    ("expected a float32 tensor, seen a float16 tensor", "expected a … tensor, seen a … tensor"),
    ("seen ['float32', None] and [(1, 2), (3, 4)]", "seen … and …"),
])
def test_normalise_takes_out_numbers_shapes_names_and_addresses(text, expected):
    assert normalise(text) == expected


def test_the_same_check_on_other_values_reads_the_same():
    one = "expected np.float64(10.0) at index (0, 0) (rtol=1e-05, atol=1e-06), seen np.float64(5.0)"
    other = "expected np.float64(-2.7) at index (1, 2, 0) (rtol=0, atol=0.001), seen np.float64(3e-07)"
    assert normalise(one) == normalise(other)


# --------------------------------------------------------------------------- the grouping rule


def test_a_known_pitfall_is_one_cause_however_the_clauses_word_it():
    direct = _clause("test_a", message=f"TypeError: {'Layer.add_variable() got multiple values for argument'}",
                     hint=ADD_VARIABLE.text(), pitfall_name=ADD_VARIABLE.name)
    quoted = _clause("test_b", area="dtypes", message="SpecFailure: call under mixed_float16: expected a result, seen "
                     "TypeError: Layer.add_variable() got multiple values", hint="compute in self.compute_dtype",
                     pitfall=ADD_VARIABLE.text(), pitfall_name=ADD_VARIABLE.name)
    assert cause_key(direct) == cause_key(quoted) == ("pitfall", ADD_VARIABLE.name)
    (cause,) = group([quoted, direct])
    assert cause.slug == ADD_VARIABLE.name and cause.fix == ADD_VARIABLE.fix and 'add_weight(name="kernel"' in cause.fix
    assert cause.representative is direct  # reading order: build before dtypes
    assert list(cause.areas()) == ["build", "dtypes"]


def test_a_report_saved_without_pitfall_names_still_groups_by_pitfall():
    old = _clause("test_a", hint=ADD_VARIABLE.text())
    assert hints.pitfall_name(old) == ADD_VARIABLE.name


def test_an_error_raised_in_the_implementation_groups_by_type_and_line():
    one = _clause("test_a", message="InvalidArgumentError: In[0]: [2,4], In[1]: [3,4]", origin="my.py:12 in call",
                  origin_type="InvalidArgumentError")
    two = _clause("test_b", area="shapes", message="SpecFailure: call on a (0, 4) input: expected an output, seen "
                  "InvalidArgumentError: something else", origin="my.py:12 in call", origin_type="InvalidArgumentError")
    three = _clause("test_c", message="InvalidArgumentError: In[0]: [2,4]", origin="my.py:30 in build",
                    origin_type="InvalidArgumentError")
    assert cause_key(one) == cause_key(two) == ("raised", "InvalidArgumentError at my.py:12 in call")
    assert cause_key(three) != cause_key(one)
    assert [len(cause.clauses) for cause in group([one, two, three])] == [2, 1]


def test_a_spec_check_groups_by_what_it_expected_and_saw_not_by_what_it_measured():
    bias = _clause("test_bias_added", area="bias", message="SpecFailure: relu([[-1, 2]] @ W + b): expected "
                   "np.float64(10.0) at index (0, 0) (rtol=1e-05, atol=1e-06), seen np.float64(5.0)",
                   hint="add the bias")
    diff = _clause("test_outputs_match_dense", area="differential", message="SpecFailure: output versus Dense: "
                   "expected np.float64(-2.7) at index (0, 0) (rtol=1e-05, atol=1e-05), seen np.float64(-3.1)")
    other = _clause("test_units", area="construction", message="SpecFailure: layer.units: expected an int, seen a str")
    assert cause_key(bias) == cause_key(diff) != cause_key(other)
    first = group([diff, other, bias])[0]
    assert first.clauses == [bias, diff] and first.fix == "add the bias"  # the representative's own hint


def test_a_bare_expected_and_seen_keeps_what_was_measured():
    """``expected (4, 2), seen (2, 4)`` alone says nothing: two such checks of different things are two causes."""
    kernel = _clause("test_a", message="SpecFailure: kernel shape: expected (4, 2), seen (2, 4)")
    units = _clause("test_b", message="SpecFailure: layer.units: expected 3, seen 4")
    kernel_again = _clause("test_c", message="SpecFailure: kernel shape: expected (5, 1), seen (1, 5)")
    assert cause_key(kernel) == cause_key(kernel_again) != cause_key(units)


def test_causes_are_ordered_by_size_and_failures_apart_from_advisories():
    small = [_clause(f"test_s{i}", message="ValueError: no") for i in range(2)]
    big = [_clause(f"test_b{i}", area="serialization", message="KeyError: 'units'") for i in range(3)]
    advisory = [_clause("test_w", message="SpecFailure: error class: expected ValueError, seen TypeError",
                        outcome="advisory", level="SHOULD")]
    result = RunResult({"spec": "m:C", "class": "m.C", "file": "m.py"}, {"name": "dense"}, {},
                       clauses=small + big + advisory, rerun="layer-spec check m:C --cause")
    assert [len(cause.clauses) for cause in result.causes()] == [3, 2]
    assert [cause.clauses for cause in result.causes("advisory")] == [advisory]
    data = result.to_dict()
    assert list(data).index("causes") < list(data).index("areas") < list(data).index("failed")
    assert data["causes"][0]["count"] == 3 and data["causes"][0]["areas"] == {"serialization": 3}
    assert data["causes"][0]["rerun"] == f"layer-spec check m:C --cause {result.causes()[0].slug}"
    assert data["advisory_causes"][0]["ids"] == [advisory[0].id]
    again = RunResult.from_dict(json.loads(json.dumps(data)))
    assert again.clauses == result.clauses and [c.slug for c in again.causes()] == [c.slug for c in result.causes()]


def test_markdown_report_opens_with_the_causes():
    clauses = [_clause("test_a", message="TypeError: Layer.add_variable() got multiple values",
                       hint=ADD_VARIABLE.text(), pitfall_name=ADD_VARIABLE.name, origin="layer.py:9 in build"),
               _clause("test_w", message="SpecFailure: error class: expected ValueError, seen TypeError",
                       outcome="advisory", level="SHOULD")]
    result = RunResult({"spec": "m:C", "class": "m.C", "file": "m.py"}, {"name": "seed", "contract": "c"},
                       {"runtime": "r", "python": "3", "pytest": "9", "layer_spec": "0"}, clauses=clauses)
    markdown = render_markdown(result.to_dict())
    order = [markdown.index(title) for title in ("## Causes of the failures", "## Causes of the advisories",
                                                 "## Areas", "## Failed clauses")]
    assert order == sorted(order)
    for expected in (f"- cause: known pitfall {ADD_VARIABLE.name}", "- raised at: `layer.py:9 in build`",
                     f"- fix: {ADD_VARIABLE.fix}", "- example: `spec_tests/test_build.py::test_a`"):
        assert expected in markdown, expected


def test_terminal_lines_show_the_biggest_causes_in_full_and_the_rest_in_one_line():
    many = [Cause("message", f"ValueError: problem {i}", [_clause(f"test_{i}", message=f"ValueError: problem {i}")])
            for i in range(7)]
    lines = reporter.cause_lines(many, "layer-spec check m:C --cause", full=5)
    assert sum(line.startswith(("1. ", "2. ", "3. ", "4. ", "5. ")) for line in lines) == 5
    assert f"   rerun: layer-spec check m:C --cause {many[0].slug}" in lines
    assert lines[-3].startswith("6. 1 clause in build: ValueError: problem 5 (cause valueerror-")
    assert "   e.g. build::test_0" in lines


def test_no_gradient_checks_are_the_no_gradients_pitfall():
    """The spec's own words for a weight the tape never saw are the table's ``no_gradients``."""
    for message in ("gradient of the loss with respect to bias: expected a tensor, seen None",
                    "dL/dbias (activation=None, x(6, 4)): expected a gradient, like Dense's, seen None",
                    "gradients of the scaled loss under mixed_bfloat16: expected one per weight, seen ['float32', None]",
                    "trainable variables without a gradient: expected none (and at least the kernel), seen ['bias(3,)']"):
        assert hints.find_hint("SpecFailure", message).name == "no_gradients", message
    for message in ("layer.bias: expected None, seen a variable", "gradient of the kernel: expected 1.0, seen 2.0"):
        found = hints.find_hint("SpecFailure", message)
        assert found is None or found.name != "no_gradients", message


def test_origin_is_the_implementations_innermost_frame(tmp_path):
    path = tmp_path / "impl_under_test.py"
    path.write_text(textwrap.dedent("""
        def helper(x):
            return {}[x]

        class Impl:
            def call(self, x):
                return helper(x)
    """))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    try:
        try:
            namespace["Impl"]().call("units")
        except KeyError as inner:
            raise AssertionError("call: expected a result, seen KeyError") from inner
    except AssertionError as exc:
        assert reporter.origin_of(exc, frozenset({str(path.resolve())}), str(tmp_path)) == (
            "KeyError", "impl_under_test.py:3 in helper")
        assert reporter.origin_of(exc, frozenset(), str(tmp_path)) == ("", "")


def test_implementation_files_leave_keras_out():
    from layers.tutorial import MyDenseLayer

    files = reporter.implementation_files_of(MyDenseLayer)
    assert files == {os.path.realpath(REPO / "layers" / "tutorial.py")}


@pytest.mark.parametrize("line, dropped", [
    ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n", True),
    ("I0000 00:00:1795935603.958338    4021 port.cc:153] oneDNN custom operations are on.\n", True),
    ("E0000 00:00:1795935614.297592    4021 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n", True),
    ("To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate "
     "compiler flags.\n", True),
    ("ERROR: --impl 'nosuch:Layer': cannot import module 'nosuch'\n", False),
    ("spec_tests/test_build.py FsFFFFss                                        [ 24%]\n", False),
])
def test_tensorflow_log_lines_are_recognised(line, dropped):
    assert bool(cli.TF_LOG_LINE.match(line)) is dropped


# --------------------------------------------------------------------------- end to end: what a reader sees


def _check(tmp_path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """``layer-spec check ... --report`` in a fresh process from ``tmp_path``; (process with .output, report)."""
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "LAYER_SPEC_IMPL", "LAYER_SPEC_PROFILE"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "spec_tests.harness.cli", "check", *args, "--report", str(report),
                           "--", "-p", "no:randomly"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    proc.output = proc.stdout + proc.stderr
    return proc, json.loads(report.read_text())


def test_tutorial_as_published_reads_in_ten_seconds(tmp_path):
    """The tutorial's layer: on Keras 3 one cause, the add_weight(name=...) fix, under 150 lines; on Keras 2 it conforms."""
    proc, data = _check(tmp_path, "layers.tutorial:MyDenseLayer", "--profile", "seed")
    lines = proc.output.splitlines()
    assert len(lines) < 150, f"expected under 150 lines, seen {len(lines)}:\n{proc.output}"
    assert not [line for line in lines if cli.TF_LOG_LINE.match(line)], proc.output
    if LEGACY:
        assert proc.returncode == 0 and data["verdict"] == "CONFORMS" and not data["causes"], proc.output
        return
    assert proc.returncode == 1, proc.output
    first, failed = data["causes"][0], data["totals"]["failed"]
    assert len(data["causes"]) <= 3 and first["count"] >= 0.9 * failed, data["causes"]
    assert 'add_weight(name="kernel"' in first["fix"] and "layers/tutorial.py:" in first["origin"]
    assert first["rerun"] == "layer-spec check layers.tutorial:MyDenseLayer@seed --cause add_variable_positional_name"
    text = proc.stdout
    assert text.index("= layer-spec causes =") < text.index("   fix: create weights with keyword arguments only") \
        < text.index("= layer-spec conformance =") < text.index("DOES NOT CONFORM")
    assert "Traceback" not in text and "_ _ _" not in text  # no tracebacks by default


@FULL  # the whole spec against the mutant in a new process
def test_two_independent_mistakes_are_two_causes(tmp_path):
    """A bias never added and a get_config without units: each mistake is its own cause, both among the first three."""
    proc, data = _check(tmp_path, "mutants.bias:BiasNeverAddedConfigDropsUnits")
    assert proc.returncode == 1, proc.output
    failed = {clause["id"]: clause for clause in data["failed"]}
    of_area = {area: {i for i, clause in failed.items() if clause["area"] == area} for area in ("bias", "serialization")}
    assert of_area["bias"] and of_area["serialization"]
    config = next(cause for cause in data["causes"] if of_area["serialization"] <= set(cause["ids"]))
    bias = next(cause for cause in data["causes"] if of_area["bias"] <= set(cause["ids"]))
    assert config is not bias and data["causes"].index(config) < 3 and data["causes"].index(bias) < 3
    assert config["cause"] == "get_config_missing_argument" and "get_config" in config["fix"]
    assert "bias" in bias["fix"] and not set(bias["ids"]) & of_area["serialization"]
    assert f"--cause {config['cause']}" in proc.stdout and f"--cause {bias['cause']}" in proc.stdout


def test_clauses_naming_the_same_fix_are_one_cause_whatever_their_messages():
    """A dropped mask fails clauses with different messages and one fix: one cause; a chain of shared fixes too."""
    fix = "set self.supports_masking = True in __init__"
    eager = _clause("test_eager", area="masking", message="SpecFailure: mask: expected a boolean mask, seen no mask",
                    hint=fix)
    warning = _clause("test_warn", area="masking", message="SpecFailure: warnings about masks: expected none, seen 1",
                      hint=fix)
    values = _clause("test_lstm", area="masking", message="SpecFailure: output: expected 1.0 at index (0,), seen 2.0",
                     hint=fix)
    other = _clause("test_units", area="construction", message="SpecFailure: units: expected int, seen str",
                    hint="validate units")
    causes = group([eager, warning, values, other])
    assert [len(cause.clauses) for cause in causes] == [3, 1] and causes[0].fix == fix
    a = _clause("test_a", message="SpecFailure: a: expected 1, seen 2", hint="fix one")
    b = _clause("test_b", message="SpecFailure: b: expected x, seen y", hint="fix one")
    c = _clause("test_c", message="SpecFailure: b: expected x, seen y", hint="fix two")  # same message as b
    d = _clause("test_d", message="SpecFailure: d: expected p, seen q", hint="fix two")
    assert [len(cause.clauses) for cause in group([a, b, c, d])] == [4]


def test_an_inner_dense_is_one_cause_under_every_layer_name():
    """Paths that read my_layer/dense/kernel, whatever the layer's name, the weight and the container: one pitfall."""
    messages = [
        "SpecFailure: layer.kernel.path: expected inner_dense/kernel, seen inner_dense/dense/kernel",
        "SpecFailure: scoped name of the kernel: expected head/kernel, seen head/dense/kernel",
        "SpecFailure: backing variable name of the bias: expected inner_dense/bias:0, seen inner_dense/dense/bias:0",
        "SpecFailure: backing variable name of the fourth layer's kernel: expected inner_dense_3/kernel:0, "
        "seen inner_dense_3/dense_3/kernel:0",
        "SpecFailure: paths of the weights in Sequential 'outer': expected ['outer/inner_dense/kernel', "
        "'outer/inner_dense/bias'], seen ['outer/inner_dense/dense/kernel', 'outer/inner_dense/dense/bias']",
    ]
    clauses = [_clause(f"test_{i}", area="naming", message=message,
                       pitfall_name=hints.find_hint("SpecFailure", message.split(": ", 1)[1]).name)
               for i, message in enumerate(messages)]
    (cause,) = group(clauses)
    assert cause.text == "weights_of_an_inner_layer" and "add_weight" in cause.fix
    # a weight of the wrong name is another mistake, not this one
    assert hints.find_hint("SpecFailure", "layer.kernel.path: expected my_dense/kernel, seen my_dense/w") is None


@FULL  # the whole spec against the layer in a new process
def test_a_layer_delegating_to_an_inner_dense_shows_one_cause(tmp_path):
    """tests/inner_dense_layer.py, otherwise written with care: the whole spec finds one mistake, so one cause,
    whose failures (every naming and tutorial one) sit under as many layer names."""
    if LEGACY:
        pytest.skip("tests/inner_dense_layer.py is a Keras 3 layer; the pitfall is recognised from the paths' text")
    report = tmp_path / "report.json"
    proc = run_spec("--impl", f"{REPO / 'tests' / 'inner_dense_layer.py'}:InnerDense", "--spec-report", str(report))
    assert report.exists(), tail(proc.output)
    data = json.loads(report.read_text())
    assert proc.returncode == 1 and data["totals"]["failed"] >= 10, tail(proc.output)
    assert [cause["cause"] for cause in data["causes"]] == ["weights_of_an_inner_layer"], data["causes"]
    assert {clause["area"] for clause in data["clauses"] if clause["outcome"] == "failed"} == {"naming", "tutorial"}
