"""Short failures (``spec_tests/harness/compact.py``): the rule, expected/seen, the hint and the layer's own frames."""

from __future__ import annotations

import importlib.util
import os
import types

from spec_tests.harness import compact


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
    (frame,) = compact.own_frames(exc, files)
    assert frame.endswith("user_layer.py:2 in call\n    return x + undefined_name"), frame
    assert compact.own_frames(exc, frozenset()) == []


def test_compact_text_has_rule_message_hint_and_frames_only(tmp_path):
    """The short text is the rule, the message, the hint, the layer's frame and how to see everything."""
    exc, files = _raise_from_a_user_file(tmp_path)
    report = types.SimpleNamespace(spec_rule="The bias is added.", spec_message="SpecFailure: bias: expected 1, seen 0",
                                   spec_hint="add the bias", spec_pitfall=None)
    lines = compact.compact_text(report, exc, files).splitlines()
    assert lines[:3] == ["rule: The bias is added.", "SpecFailure: bias: expected 1, seen 0", "hint: add the bias"]
    assert lines[3].startswith("your code: ") and lines[-1].startswith("(--tb=long")
    assert len(lines) == 6
