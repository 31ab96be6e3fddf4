"""Short failures (``spec_tests/harness/reporter.py``): under the error, notes give the rule, the hint and the layer's
own frames; pytest prints them (``--tb=short`` unless the user chose a style)."""

from __future__ import annotations

import importlib.util
import os

from spec_tests.harness import reporter

pytest_plugins = ["pytester"]


def _raise_from_a_user_file(tmp_path):
    path = tmp_path / "user_layer.py"
    path.write_text("def call(x):\n    return x + undefined_name\n")
    spec = importlib.util.spec_from_file_location("user_layer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        try:
            module.call(1)
        except NameError as exc:
            raise AssertionError("the spec's check failed") from exc
    except AssertionError as exc:
        return exc, frozenset({os.path.realpath(path)})


def test_own_frames_are_the_layers_lines_through_the_exception_chain(tmp_path):
    """The frames shown are the implementation's, found in the exception the spec's failure was raised from."""
    exc, files = _raise_from_a_user_file(tmp_path)
    (frame,) = reporter.own_frames(exc, files)
    assert frame.endswith("user_layer.py:2 in call\n    return x + undefined_name"), frame
    assert reporter.own_frames(exc, frozenset()) == []


def test_notes_are_the_rule_the_hint_the_layers_frame_and_how_to_see_everything(tmp_path):
    """The notes under the error: the rule, the table's hint (the message has none), the layer's frame, and --tb=long."""
    exc, files = _raise_from_a_user_file(tmp_path)
    exc.args = ("bias: expected 1, seen 0 (Matrix size-incompatible: In[0]: [2,4], In[1]: [3,4])",)
    notes = reporter.notes(exc, "The bias is added.", files, None)
    assert notes[0] == "rule: The bias is added."
    assert notes[1].startswith("hint: the weights' shapes do not fit the input") and "Usual fix: " in notes[1]
    assert notes[2].startswith("your code: ") and notes[2].endswith("return x + undefined_name")
    assert notes[-1].startswith("(--tb=long") and len(notes) == 4


def test_a_clauses_own_hint_is_not_repeated_and_a_quoted_pitfall_is_named(tmp_path):
    """The message's own hint: shown once (in the message); the table's line for an error it quotes: a pitfall note."""
    exc, files = _raise_from_a_user_file(tmp_path)
    exc.args = ("call: expected a result, seen TypeError: Layer.add_variable() got multiple values for argument "
                "'shape'\nhint: compute in self.compute_dtype",)
    notes = reporter.notes(exc, "", files, None)
    assert not any(note.startswith("hint:") for note in notes)
    assert notes[0].startswith("known pitfall: Keras 2 style add_variable")


def test_a_failure_shows_the_clause_line_the_error_and_the_notes(pytester):
    """In a spec run, pytest's own failure text: the clause's line, the error, the rule and hint notes; no helper frames."""
    pytester.mkdir("spec_tests")
    pytester.path.joinpath("spec_tests", "test_fake.py").write_text(
        "from spec_tests.helpers import expect_that\n\n\n"
        "def test_units():\n"
        "    \"\"\"The units are kept.\"\"\"\n"
        "    expect_that(False, 'units', 3, 4, hint='store units as given')\n")
    result = pytester.runpytest_inprocess("spec_tests/test_fake.py", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "spec_tests/test_fake.py:6: in test_units",
        "    expect_that(False, 'units', 3, 4, hint='store units as given')",
        "E   spec_tests.helpers.SpecFailure: units: expected 3, seen 4",
        "E   hint: store units as given",
        "E   rule: The units are kept.",
        "E   (--tb=long shows the spec's and Keras's frames too)",
        "*short test summary info*",
        "FAILED spec_tests/test_fake.py::test_units - *",
    ])
    assert "helpers.py" not in result.stdout.str()  # __tracebackhide__: the helper's frames are not shown
