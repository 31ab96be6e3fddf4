"""Tests of the plugin parts that make failures teach: fix hints, --xfail-file, the conformance report, the CLI.

The plugin runs happen in-process through ``pytester`` on three clauses of
``spec_tests/test_build.py`` against a broken layer written to ``tmp_path``; one
of them goes through ``layer-spec check`` with pytest-xdist (``-n 2``, two
worker processes).
"""

from __future__ import annotations

import importlib.util
import json
import os
import textwrap
from pathlib import Path

import pytest

# Import TensorFlow, Keras, the registered reference layers and hypothesis before any in-process run:
# pytester forgets the modules first imported during a run; TensorFlow and registered Keras classes cannot be
# imported twice, and re-importing hypothesis (assertion-rewritten) would cost seconds per run.
import hypothesis  # noqa: F401
import layers  # noqa: F401
import spec_tests
import spec_tests.conftest  # noqa: F401
from spec_tests import generation
from spec_tests.harness import cli, hints, launcher
from spec_tests.harness.catalogue import canonical_id, clause_rule
from spec_tests.harness.text import own_hint
from spec_tests.harness.xfail import XfailEntry, parse_xfail_file
from tests.support import MECHANICS
from tests.tiers import FULL

pytest_plugins = ["pytester"]

PACKAGE_PARENT = str(Path(spec_tests.__file__).resolve().parent.parent)

# Realistic messages, as Keras 3.15 / tf-keras 2.21 / TensorFlow 2.21 raise them (measured), one per table entry.
EXAMPLES = {
    "add_variable_positional_name": ("TypeError", "Layer.add_variable() got multiple values for argument 'shape'"),
    "add_weight_positional_name": (
        "ValueError",
        "`name` must be passed as a keyword argument. Received: add_weight('kernel', ...). "
        "Use: add_weight(shape=..., name='kernel').",
    ),
    "forgot_super_init": (
        "RuntimeError",
        "In layer 'NoSuper', you forgot to call `super().__init__()` as the first statement in the `__init__()` "
        "method. Go add it!",
    ),
    "weights_created_in_call": (
        "ValueError",
        "Exception encountered when calling LateW.call().\n\n\x1b[1mYou cannot add new elements of state (variables "
        "or sub-layers) to a layer that is already built. All state must be created in the `__init__()` method or "
        "in the `build()` method.\x1b[0m\n\nArguments received by LateW.call():\n  • x=tf.Tensor(shape=(2, 4))",
    ),
    "variables_created_per_call": (
        "ValueError",
        "in user code:\n\n    ValueError: tf.function only supports singleton tf.Variables created on the first "
        "call. Make sure the tf.Variable is only created once or created outside tf.function.",
    ),
    "custom_gradient_closes_over_variables": (
        "TypeError",
        "@tf.custom_gradient grad_fn must accept keyword argument 'variables', since function uses variables: "
        "[<tf.Variable 'kernel:0' shape=(4, 3) dtype=float32>]",
    ),
    "never_built_on_load": (
        "ValueError",
        "Layer 'my_dense' was never built and thus it doesn't have any variables. However the weights file lists "
        "2 variables for this layer.",
    ),
    "variable_count_on_load": (
        "ValueError",
        "Layer 'my_dense' expected 1 variables, but received 2 variables during loading. Expected: ['kernel']",
    ),
    "class_not_registered": (
        "TypeError",
        "Could not locate class 'Base'. Make sure custom classes and functions are decorated with "
        "`@keras.saving.register_keras_serializable()`.",
    ),
    "get_config_missing_argument": (
        "TypeError",
        "Error when deserializing class 'NoCfgArg' using config={'name': 'no_cfg_arg'}.\n\nException encountered: "
        "NoCfgArg.__init__() missing 2 required positional arguments: 'units' and 'scale'",
    ),
    "get_config_not_overridden": (
        "NotImplementedError",
        "Layer MyDense has arguments ['units'] in `__init__` and therefore must override `get_config()`.",
    ),
    "constructor_rejects_keyword": ("TypeError", "NoKw.__init__() got an unexpected keyword argument 'name'"),
    "config_not_json": ("TypeError", "Object of type Ones is not JSON serializable"),
    "numpy_in_call": (
        "NotImplementedError",
        "Exception encountered when calling NumpyCall.call().\n\nCannot convert a symbolic tf.Tensor (data:0) to a "
        "numpy array. This error may indicate that you're trying to pass a Tensor to a NumPy call.",
    ),
    "python_bool_on_tensor": (
        "OperatorNotAllowedInGraphError",
        "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed. You can attempt the following resolutions",
    ),
    "keras_tensor_in_tf_function": (
        "ValueError",
        "A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a symbolic placeholder",
    ),
    "output_shape_not_inferred": (
        "ValueError",
        "Could not automatically infer the output shape / dtype of 'lazy' (of type Lazy). Either the `Lazy.call()` "
        "method is incorrect, or you need to implement the `Lazy.compute_output_spec() / compute_output_shape()`",
    ),
    "no_gradients": ("ValueError", "No gradients provided for any variable."),
    "mixed_precision_uncast_weight": (
        "InvalidArgumentError",
        "cannot compute MatMul as input #1(zero-based) was expected to be a half tensor but is a float tensor "
        "[Op:MatMul] name:",
    ),
    "dtype_mismatch": (
        "InvalidArgumentError",
        "Exception encountered when calling Base.call().\n\ncannot compute MatMul as input #1(zero-based) was "
        "expected to be a int32 tensor but is a float tensor [Op:MatMul] name:",
    ),
    "kernel_shape_mismatch": (
        "InvalidArgumentError",
        "{{function_node __wrapped__MatMul_device_/job:localhost/replica:0/task:0/device:CPU:0}} Matrix "
        "size-incompatible: In[0]: [2,4], In[1]: [3,4] [Op:MatMul] name:",
    ),
    "missing_weight_attribute": ("AttributeError", "'WeightsNamedWB' object has no attribute 'kernel'"),
    "weights_of_an_inner_layer": (  # tests/inner_dense_layer.py, measured
        "SpecFailure", "backing variable name of the fourth layer's kernel: expected inner_dense_3/kernel:0, seen "
        "inner_dense_3/dense_3/kernel:0",
    ),
    "did_not_finish": ("Failed", "Timeout (>2.0s) from pytest-timeout."),  # pytest-timeout 2.4, measured
    "outside_strategy_scope": (
        "ValueError",
        "Variable (<tf.Variable 'base_3/kernel:0' shape=(4, 3) dtype=float32>) was not created in the distribution "
        "strategy scope of (<MirroredStrategy object at 0x7f4860cecb50>).",
    ),
    "not_a_drop_in_dense": (
        "ValueError", "Unrecognized keyword arguments passed to SimpleDense: {'use_bias': False}",
    ),
    "default_differs_from_dense": (
        "SpecFailure", "not a drop-in keras.layers.Dense: default kernel_initializer is 'he_normal'; Dense's is "
        "'glorot_uniform'",
    ),
    "retracing": (
        "AssertionError",
        "5 out of the last 5 calls to <function f at 0x7f> triggered tf.function retracing.",
    ),
    "renamed_constructor_argument": (
        "SpecFailure",
        "configuration 'bias' of the golden set tests/golden/v1 (--spec-golden) (keras 3.15.1 on tensorflow): "
        "VersionedDense.from_config(saved config of layer 0): expected a rebuilt layer, seen TypeError: Error when "
        "deserializing class 'VersionedDense' using config={'units': 3, 'output_scale': 1.0}.\n\nException "
        "encountered: Unrecognized keyword arguments passed to VersionedDense: {'output_scale': 1.0}",
    ),
}


# --------------------------------------------------------------------------- the hints table


def test_every_table_entry_has_a_realistic_example():
    # an entry that also depends on this machine (its `when`) is tested where that is simulated: test_platform.py
    assert sorted(EXAMPLES) == sorted(hint.name for hint in hints.HINTS if hint.when is None)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_hint_recognises_its_realistic_message(name):
    exc_type, message = EXAMPLES[name]
    found = hints.find_hint(exc_type, message)
    assert found is not None and found.name == name, f"{name}: matched {found and found.name}"
    text = hints.hint_for(exc_type, message)
    assert text == found.text() and "Usual fix: " in text and "\n" not in text


def test_unknown_message_gets_no_hint():
    assert hints.hint_for("ValueError", "kernel shape after build((None, 6)): expected (6, 3), seen (3, 6)") is None


def test_hint_follows_the_exception_chain():
    try:
        try:
            raise TypeError("Layer.add_variable() got multiple values for argument 'shape'")
        except TypeError as inner:
            raise AssertionError("the layer could not be called") from inner
    except AssertionError as exc:
        assert hints.hint_for_exception(exc) == hints.find_hint("TypeError", EXAMPLES[
            "add_variable_positional_name"][1]).text()


def test_hint_lines_are_advice_not_the_error():
    exc = AssertionError("units: expected 3, seen 4\nhint: got multiple values for argument 'shape' is not it")
    assert hints.hint_for_exception(exc) is None


def test_own_hint_is_found_in_a_clause_message():
    exc = AssertionError("kernel shape: expected (4, 2), seen (2, 4)\nhint: index input_shape[-1]")
    assert own_hint(exc) == "index input_shape[-1]"
    assert own_hint(ValueError("no hint here")) is None


def test_clause_rule_is_the_docstrings_first_paragraph():
    def clause():
        """The first call builds
        the layer.

        Details that are not the rule.
        """

    assert clause_rule(clause) == "The first call builds the layer."
    assert clause_rule(lambda: None) == ""


# --------------------------------------------------------------------------- --xfail-file syntax


def test_xfail_file_syntax(tmp_path):
    path = tmp_path / "xfail.txt"
    path.write_text(
        "# a comment\n\n"
        "spec_tests/test_build.py::test_build_runs_once   # needs a fix upstream\n"
        "  spec_tests/test_construction.py::test_invalid_units_raise_value_error_naming_units[units=0]\n"
    )
    first, second = parse_xfail_file(path)
    assert (first.pattern, first.reason, first.where) == (
        "spec_tests/test_build.py::test_build_runs_once", "needs a fix upstream", f"{path}:3")
    assert second.pattern.endswith("[units=0]") and second.reason == "listed in xfail.txt:4"


@pytest.mark.parametrize(
    "pattern, matched",
    [
        ("spec_tests/test_build.py::test_build_runs_once", True),
        ("spec_tests/test_build.py", True),
        ("spec_tests/", True),
        ("spec_tests/test_build.py::test_build", False),  # a prefix must end at a boundary
        ("spec_tests/test_build.py::test_build_runs_once[units=0]", False),
    ],
)
def test_xfail_entry_matches_at_boundaries(pattern, matched):
    assert XfailEntry(pattern, "", "f:1").matches(["spec_tests/test_build.py::test_build_runs_once"]) is matched


def test_canonical_id_does_not_depend_on_rootdir():
    expected = "spec_tests/test_build.py::test_x[a]"
    assert canonical_id("::test_x[a]", "spec_tests.test_build") == expected
    assert canonical_id("../lib/site-packages/spec_tests/test_build.py::test_x[a]") == expected
    assert canonical_id("test_build.py::test_x[a]") == expected


# --------------------------------------------------------------------------- plugin runs

BROKEN = '''
"""A layer whose kernel is transposed: (units, input_dim) instead of (input_dim, units)."""
import tensorflow as tf
from spec_tests.generation import Layer


class TransposedKernel(Layer):
    def __init__(self, num_outputs):
        super().__init__()
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(self.num_outputs, int(input_shape[-1])))

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel)
'''

#: Clauses of spec_tests/test_build.py the runs below use, and how the broken layer fails them.
CALL_FAILS = "test_first_call_builds_from_input_shape"  # tf.matmul raises: the table's hint
SHAPE_CHECK = "test_explicit_build_creates_weights"  # a spec check without a hint
OWN_HINT = "test_build_accepts_tensorshape"  # a spec check with its own hint
SELECTION = f"{CALL_FAILS} or {SHAPE_CHECK} or {OWN_HINT}"


def _build_id(name: str) -> str:
    return f"spec_tests/test_build.py::{name}"


@pytest.fixture
def broken(tmp_path) -> str:
    path = tmp_path / "transposed.py"
    path.write_text(textwrap.dedent(BROKEN))
    return f"{path}:TransposedKernel"


def _run(pytester, *args):
    return pytester.runpytest_inprocess(
        "--pyargs", "spec_tests.test_build", "--rootdir", PACKAGE_PARENT,
        "-p", "no:randomly", "-p", "no:cacheprovider", *args,
    )


def _table_hint():
    return hints.hint_for("InvalidArgumentError", EXAMPLES["kernel_shape_mismatch"][1])


def test_json_report_and_hints(pytester, broken, tmp_path, monkeypatch):
    # as on CI, where pytest prints a failure's whole message in the short summary (the CI variable of GitHub
    # Actions, GitLab, ...): a short failure is named there by its expected/seen line alone
    monkeypatch.setenv("CI", "true")
    out = tmp_path / "report.json"
    result = _run(pytester, "--impl", broken, "-k", SELECTION, "--spec-report", str(out))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=3)
    stdout = result.stdout.str()
    # the hint is appended to the failure of the clause whose exception the table knows, and to no other
    # the failure's notes show it once (on CI pytest's short summary repeats a failure's whole text, notes included)
    assert stdout.count(f"E   hint: {_table_hint()}") == 1
    assert stdout.count(f"hint: {_table_hint()}") == 2
    # (which line depends on the generation: Keras 2 leaves this layer unbuilt, Keras 3 builds a transposed kernel)
    result.stdout.fnmatch_lines(["FAILED *::test_explicit_build_creates_weights - *SpecFailure: * after build*: "
                                 "expected *, seen *"])
    result.stdout.fnmatch_lines(["*= layer-spec conformance =*", "build * 0 * 3 * 0 * 0", "*DOES NOT CONFORM*"])

    data = json.loads(out.read_text())
    assert data["verdict"] == "DOES NOT CONFORM" and data["conforms"] is False
    assert data["implementation"] == {"spec": broken, "class": "transposed.TransposedKernel",
                                      "file": broken.rsplit(":", 1)[0], "id": "TransposedKernel"}
    assert data["profile"]["name"] == "dense" and data["versions"]["runtime"] == generation.describe()
    assert data["areas"] == [{"area": "build", "passed": 0, "failed": 3, "advisory": 0, "platform": 0,
                             "xfailed": 0, "skipped": 0}]
    failed = {clause["id"]: clause for clause in data["failed"]}
    assert sorted(failed) == sorted(_build_id(name) for name in (CALL_FAILS, SHAPE_CHECK, OWN_HINT))
    from spec_tests import test_build

    for name, clause in failed.items():
        assert clause["rule"] == clause_rule(getattr(test_build, clause["clause"])) and clause["rule"]
        assert clause["area"] == "build" and clause["message"]
    assert failed[_build_id(CALL_FAILS)]["hint"] == _table_hint()
    assert "Matrix size-incompatible" in failed[_build_id(CALL_FAILS)]["message"]
    assert failed[_build_id(SHAPE_CHECK)]["hint"] is None
    assert failed[_build_id(OWN_HINT)]["hint"].startswith("index input_shape[-1]")
    assert "hint:" not in failed[_build_id(OWN_HINT)]["message"]  # shown once, as the hint


def test_xfail_file_and_markdown_report(pytester, broken, tmp_path):
    xfail = tmp_path / "known.txt"
    xfail.write_text(
        "# known failures of the transposed kernel\n"
        f"{_build_id(CALL_FAILS)}  # transposed on purpose\n"
        f"{_build_id(SHAPE_CHECK)}\n"
        "spec_tests/test_build.py::test_no_such_clause  # a typo\n"
        "spec_tests/test_build.py::test_build  # not a boundary: matches nothing\n"
    )
    out = tmp_path / "sub" / "report.md"
    result = _run(pytester, "--impl", broken, "-k", SELECTION, "--xfail-file", str(xfail),
                  "--spec-report", str(out), "-rx")
    result.assert_outcomes(failed=1, xfailed=2, warnings=2)
    result.stdout.fnmatch_lines([  # pytest's summary first; the run ends with the causes, the table, the verdict
        "*XfailFileWarning*test_no_such_clause*matches no collected clause*",
        f"XFAIL *{CALL_FAILS} - transposed on purpose*",
        "*= layer-spec causes =*",
        "1 failed clause, 1 cause*",
        f"   e.g. build::{OWN_HINT}",
        "*= layer-spec conformance =*",
        "build * 0 * 1 * 2 * 0",
        "2 --xfail-file entry(ies) match no collected clause:",
        f"  {xfail}:4: spec_tests/test_build.py::test_no_such_clause",
        f"  {xfail}:5: spec_tests/test_build.py::test_build",
        "*DOES NOT CONFORM*",
    ])

    markdown = out.read_text()
    assert markdown.startswith("# Conformance report: `transposed.TransposedKernel`")
    assert "**DOES NOT CONFORM**" in markdown
    for expected in (
        f"| implementation | `{broken}` -> `transposed.TransposedKernel` |",
        "| profile | dense: ",
        generation.describe(),
        "| build | 0 | 1 | 0 | 2 | 0 |",
        f"### build: `{OWN_HINT}`",
        "- rule: ``build`` accepts a ``tf.TensorShape`` as well as a tuple.",
        "- hint: index input_shape[-1]",
        "## Expected failures (--xfail-file)",
        f"- `{_build_id(CALL_FAILS)}`: ",
        "- `spec_tests/test_build.py::test_no_such_clause`",
    ):
        assert expected in markdown, expected


def test_spec_cause_reruns_just_the_clauses_of_one_cause(pytester, broken, tmp_path):
    """Each cause names a command that reruns its clauses; the names live in pytest's cache between runs."""
    cache, out = tmp_path / "cache", tmp_path / "report.json"
    first = pytester.runpytest_inprocess("--pyargs", "spec_tests.test_build", "--rootdir", PACKAGE_PARENT, "-p",
                                         "no:randomly", "-o", f"cache_dir={cache}", "--impl", broken, "-k", SELECTION,
                                         "--spec-report", str(out))
    first.assert_outcomes(failed=3)
    causes = json.loads(out.read_text())["causes"]
    assert sum(cause["count"] for cause in causes) == 3 and len(causes) >= 2
    cause = causes[-1]
    legacy = "TF_USE_LEGACY_KERAS=1 " if generation.LEGACY else ""
    assert cause["rerun"] == f"{legacy}pytest --pyargs spec_tests --impl {broken} --spec-cause {cause['cause']}"
    assert f"   rerun: {cause['rerun']}" in first.stdout.lines

    again = pytester.runpytest_inprocess("--pyargs", "spec_tests.test_build", "--rootdir", PACKAGE_PARENT, "-p",
                                         "no:randomly", "-o", f"cache_dir={cache}", "--impl", broken,
                                         "--spec-cause", cause["cause"])
    again.assert_outcomes(failed=cause["count"])
    assert f"failed clause{'s' if cause['count'] > 1 else ''}, 1 cause" in again.stdout.str()

    unknown = pytester.runpytest_inprocess("--pyargs", "spec_tests.test_build", "--rootdir", PACKAGE_PARENT, "-p",
                                           "no:randomly", "-o", f"cache_dir={cache}", "--impl", broken,
                                           "--spec-cause", "no_such_cause")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    assert "no such cause" in unknown.stderr.str() and cause["cause"] in unknown.stderr.str()


def test_reference_conforms(pytester, tmp_path):
    out = tmp_path / "report.json"
    result = _run(pytester, "--impl", "layers:MyDenseLayer", "-k", SELECTION, "--spec-report", str(out))
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*layers:MyDenseLayer (layers.dense.MyDenseLayer), profile dense: CONFORMS*"])
    data = json.loads(out.read_text())
    assert (data["verdict"], data["totals"]["passed"], data["failed"]) == ("CONFORMS", 3, [])


def test_own_hint_is_kept_and_a_quoted_pitfall_is_named(pytester, tmp_path):
    quoted = EXAMPLES["add_variable_positional_name"][1]
    pytester.mkdir("spec_tests")
    pytester.path.joinpath("spec_tests", "test_fake.py").write_text(textwrap.dedent(f"""
        def test_quotes_a_known_error():
            \"\"\"A clause that quotes the implementation's error and gives a generic hint.\"\"\"
            raise AssertionError("call under mixed_float16: expected a result, seen TypeError: {quoted}\\n"
                                 "hint: compute in self.compute_dtype")

        def test_own_hint_only():
            \"\"\"A clause with its own hint and nothing the table knows.\"\"\"
            raise AssertionError("units: expected 3, seen 4\\nhint: store units as given")
    """))
    out = tmp_path / "report.json"
    result = pytester.runpytest_inprocess("spec_tests/test_fake.py", "-p", "no:randomly", "-p", "no:cacheprovider",
                                          "--spec-report", str(out))
    result.assert_outcomes(failed=2)
    pitfall = hints.hint_for("TypeError", quoted)
    stdout = result.stdout.str()
    # once under the failure (the short summary repeats a failure's message whole where CI is set: pytest's own)
    failures = stdout.partition("short test summary info")[0]
    assert failures.count(f"known pitfall: {pitfall}") == 1 and "layer-spec hint" not in stdout
    failed = {clause["clause"]: clause for clause in json.loads(out.read_text())["failed"]}
    assert failed["test_quotes_a_known_error"]["hint"] == "compute in self.compute_dtype"
    assert failed["test_quotes_a_known_error"]["pitfall"] == pitfall
    assert failed["test_own_hint_only"]["hint"] == "store units as given"
    assert failed["test_own_hint_only"]["pitfall"] is None
    assert failed["test_own_hint_only"]["rule"] == "A clause with its own hint and nothing the table knows."


def test_advisories_are_grouped_into_causes_after_the_failures(pytester, tmp_path):
    pytester.mkdir("spec_tests")
    pytester.path.joinpath("spec_tests", "test_fake.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.parametrize("case", [1, 2])
        def test_must(case):
            \"\"\"A MUST clause that fails twice for one reason.\"\"\"
            raise AssertionError(f"output of case {case}: expected a tensor of shape ({case}, 3), seen None")

        @pytest.mark.should
        @pytest.mark.parametrize("case", [1, 2, 3])
        def test_should(case):
            \"\"\"A SHOULD clause: the form of a refusal.\"\"\"
            raise AssertionError(f"error class for units={case}: expected ValueError naming 'units', seen TypeError")
    """))
    out = tmp_path / "report.json"
    result = pytester.runpytest_inprocess("spec_tests/test_fake.py", "-p", "no:randomly", "-p", "no:cacheprovider",
                                          "--spec-report", str(out))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*= layer-spec causes =*",
        "2 failed clauses, 1 cause (most clauses first)",
        "1. 2 clauses in fake",
        "3 advisories, 1 cause (most clauses first); advisories are failed SHOULD clauses*",
        "1. 3 clauses in fake",
        "   e.g. fake::test_should[[]1[]]",
        "*= layer-spec conformance =*",
    ])
    data = json.loads(out.read_text())
    assert [cause["count"] for cause in data["causes"]] == [2]
    assert [cause["count"] for cause in data["advisory_causes"]] == [3]


def test_dormant_outside_spec_runs(pytester, tmp_path):
    pytester.makepyfile(test_other="""
        def test_unrelated():
            raise TypeError("Layer.add_variable() got multiple values for argument 'shape'")
    """)
    out = tmp_path / "report.md"
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", "--spec-report", str(out))
    result.assert_outcomes(failed=1)
    assert "layer-spec conformance" not in result.stdout.str() and "hint:" not in result.stdout.str()
    assert not out.exists()


# --------------------------------------------------------------------------- the command line


def test_list_prints_every_clause_once_with_its_rule(capsys):
    from spec_tests import test_build, test_construction

    assert cli.main(["list"]) == 0
    text = capsys.readouterr().out
    assert "build::test_first_call_builds_from_input_shape [seed]" in text
    assert clause_rule(test_build.test_first_call_builds_from_input_shape) in text
    assert text.count("construction::test_invalid_units_raise_value_error_naming_units") == 1
    assert clause_rule(test_construction.test_invalid_units_raise_value_error_naming_units) in text
    assert "benchmarks::" not in text  # benchmarks are not clauses

    assert cli.main(["list", "--markdown", "--profile", "seed", "--area", "construction"]) == 0
    markdown = capsys.readouterr().out
    assert "## construction" in markdown and "## build" not in markdown
    assert "| `test_no_weights_before_build` |" in markdown
    assert "test_invalid_units_raise_value_error_naming_units" not in markdown  # not a seed clause


def test_check_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser_args = cli._parser().parse_args(["check", "pkg.mod:Dense", "--area", "build", "--report", "r.md"])
    command = launcher.check_args(parser_args, ["-x"])
    assert command[:2] == ["--pyargs", "spec_tests.test_build"]
    assert command[command.index("--rootdir") + 1] == PACKAGE_PARENT
    assert command[command.index("--impl") + 1] == "pkg.mod:Dense"
    assert command[command.index("--spec-report") + 1] == str(tmp_path / "r.md")
    assert command[-1] == "-x"
    assert set(launcher.QUIET) <= set(command)  # short by default: no tracebacks, no per-test summary

    verbose = cli._parser().parse_args(["check", "pkg.mod:Dense", "-v", "--cause", "no_gradients"])
    command = launcher.check_args(verbose, [])
    assert not set(launcher.QUIET) & set(command)
    assert command[command.index("--spec-cause") + 1] == "no_gradients"
    assert cli.rerun_prefix(verbose) == "layer-spec check {impl} --cause"  # the report names each implementation


def test_console_script_is_declared():
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("layer-spec") == "spec_tests.harness.cli:main"


@FULL  # two xdist workers, each importing TensorFlow
@MECHANICS
def test_check_runs_pytest_and_exits_with_its_status_under_xdist(pytester, broken, tmp_path, monkeypatch):
    """``layer-spec check`` runs the command it builds; here in-process (the workers are processes anyway)."""
    out = tmp_path / "report.json"
    xfail = tmp_path / "known.txt"
    xfail.write_text("spec_tests/test_build.py::test_no_such_clause\n")
    calls = []

    def run_in_process(args, env, stderr_filter=None):
        calls.append((args, env))
        assert args[0] == "--pyargs"
        assert env.get("TF_USE_LEGACY_KERAS") == os.environ.get("TF_USE_LEGACY_KERAS")  # without --legacy: unchanged
        return pytester.runpytest_inprocess(*args).ret

    monkeypatch.setattr(launcher, "check", run_in_process)
    status = cli.main(["check", broken, "--area", "build", "--report", str(out),
                       "--xfail-file", str(xfail), "--", "-n", "2", "-p", "no:randomly", "-p", "no:cacheprovider",
                       "-k", SELECTION])
    assert status == pytest.ExitCode.TESTS_FAILED and len(calls) == 1
    data = json.loads(out.read_text())
    assert data["verdict"] == "DOES NOT CONFORM"
    failed = {clause["id"]: clause for clause in data["failed"]}
    assert sorted(failed) == sorted(_build_id(name) for name in (CALL_FAILS, SHAPE_CHECK, OWN_HINT))
    # rule, hint and message travelled from the workers to the controller
    assert all(clause["rule"] and clause["message"] for clause in failed.values())
    assert failed[_build_id(CALL_FAILS)]["hint"] == _table_hint()
    # the controller checked the xfail file once
    assert [entry["pattern"] for entry in data["unmatched_xfail_entries"]] == [
        "spec_tests/test_build.py::test_no_such_clause"]


def test_check_legacy_sets_the_environment(monkeypatch):
    seen = {}
    monkeypatch.setattr(launcher, "check", lambda args, env, stderr_filter=None: seen.update(env) or 0)
    if importlib.util.find_spec("tf_keras") is None:
        assert cli.main(["check", "pkg:Layer", "--legacy"]) == 4  # a clear usage error instead of TF's vague one
        return
    assert cli.main(["check", "pkg:Layer", "--legacy"]) == 0
    assert seen["TF_USE_LEGACY_KERAS"] == "1"


# --------------------------------------------------------------------------- pytest's own conventions

CONVENTIONS = '''
import pytest


def test_passes():
    """A clause that passes."""


@pytest.mark.parametrize("case", [1, 2])
def test_fails(case):
    """A MUST clause that fails."""
    raise AssertionError(f"units: expected {case}, seen 0\\nhint: store units as given")


@pytest.mark.should
def test_advises():
    """A SHOULD clause that fails: an advisory."""
    raise AssertionError("error class: expected ValueError, seen TypeError")
'''


def _conventions(pytester, tmp_path, *args):
    pytester.path.joinpath("spec_tests").mkdir(exist_ok=True)
    pytester.path.joinpath("spec_tests", "test_fake.py").write_text(CONVENTIONS)
    return pytester.runpytest_inprocess("spec_tests/test_fake.py", "-p", "no:randomly",
                                        "-o", f"cache_dir={tmp_path / 'cache'}", *args)


def test_junitxml_has_one_testcase_per_clause_with_level_area_rule_and_hint(pytester, tmp_path):
    """--junitxml: each clause a testcase, its level, area, rule (and for a failure its hint) as properties."""
    import xml.etree.ElementTree as ET

    result = _conventions(pytester, tmp_path, f"--junitxml={tmp_path / 'junit.xml'}")
    result.assert_outcomes(passed=1, failed=2)
    cases = {case.get("name"): case for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    assert sorted(cases) == ["test_advises", "test_fails[1]", "test_fails[2]", "test_passes"]

    def properties(name):
        return {prop.get("name"): prop.get("value") for prop in cases[name].iter("property")}

    assert properties("test_passes") == {"level": "MUST", "area": "fake", "rule": "A clause that passes."}
    assert properties("test_fails[1]")["hint"] == "store units as given"
    assert cases["test_fails[1]"].find("failure") is not None
    assert properties("test_advises")["level"] == "SHOULD"  # an advisory: skipped there, as in pytest's counts
    assert cases["test_advises"].find("skipped") is not None


def test_short_summary_names_failures_and_last_failed_reruns_only_them(pytester, tmp_path):
    """pytest's FAILED lines are in the short summary; --lf reruns the failed clauses alone, advisories aside."""
    first = _conventions(pytester, tmp_path)
    first.stdout.fnmatch_lines(["*short test summary info*", "FAILED spec_tests/test_fake.py::test_fails[[]1[]] - *",
                                "FAILED spec_tests/test_fake.py::test_fails[[]2[]] - *"])
    last = first.stdout.lines[-1]
    assert "2 failed" in last and "1 passed" in last and "1 advisory" in last, last
    again = _conventions(pytester, tmp_path, "--lf", "-v")
    again.assert_outcomes(failed=2)
    assert "test_passes" not in again.stdout.str() and "test_advises PASSED" not in again.stdout.str()
    first_fail = _conventions(pytester, tmp_path, "-x")
    first_fail.assert_outcomes(passed=1, failed=1)  # -x: the run stops at the first failed clause
