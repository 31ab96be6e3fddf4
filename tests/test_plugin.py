"""The plug-in contract: how an implementation is named, loaded, reported and refused."""

from __future__ import annotations

import re
import textwrap

import pytest

from spec_tests.harness.selection import ImplSpecError, load_impl, made_class
from tests.support import DENSE_SPEC, MECHANICS, folder_with, run_spec, tail

OUTSIDE_LAYER = textwrap.dedent(
    """
    from helper_math import affine          # a neighbour module: the file's folder must be importable
    from layers._compat import keras, validate_units


    class MyLayer(keras.layers.Layer):
        def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                     bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
            super().__init__(activity_regularizer=activity_regularizer, **kwargs)
            self.units = validate_units(units)
            self.activation = keras.activations.get(activation)
            self.use_bias = use_bias
            self.kernel_initializer = keras.initializers.get(kernel_initializer)
            self.bias_initializer = keras.initializers.get(bias_initializer)
            self.input_spec = keras.layers.InputSpec(min_ndim=2)

        def build(self, input_shape):
            input_dim = input_shape[-1]
            if input_dim is None:
                raise ValueError("MyLayer needs a known last input dimension")
            self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                          initializer=self.kernel_initializer)
            self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)
                         if self.use_bias else None)
            self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})
            self.built = True  # Keras 2 does not set it after an explicit build()

        def call(self, inputs):
            return self.activation(affine(inputs, self.kernel, self.bias))
    """
)
NEIGHBOUR = textwrap.dedent(
    """
    import tensorflow as tf


    def affine(x, kernel, bias):
        x = tf.cast(x, kernel.dtype)
        y = tf.tensordot(x, kernel, [[x.shape.rank - 1], [0]])
        return y if bias is None else y + bias
    """
)


@pytest.fixture
def outside_dir(tmp_path):
    return folder_with(tmp_path, "elsewhere", {"my_layer.py": OUTSIDE_LAYER, "helper_math.py": NEIGHBOUR})


def test_load_impl_dotted_module():
    """``module:Class`` imports the module and returns the class and its file."""
    cls, source = load_impl("layers:MyDenseLayer")
    assert cls.__name__ == "MyDenseLayer"
    assert source.endswith("dense.py")


def test_load_impl_file_path_makes_neighbours_importable(outside_dir):
    """``path/to/file.py:Class`` imports the file, whose folder becomes importable for its neighbours."""
    cls, source = load_impl(f"{outside_dir / 'my_layer.py'}:MyLayer")
    assert cls.__name__ == "MyLayer"
    assert source == str((outside_dir / "my_layer.py").resolve())


@pytest.mark.parametrize(
    "spec, words",
    [
        ("no_such_module_xyz:Layer", ["cannot import module", "no_such_module_xyz"]),
        ("layers:NoSuchClass", ["has no attribute", "NoSuchClass"]),
        ("layers.dense:validate_units", ["the factory", "validate_units(3)", "not a", "Layer"]),
        ("json:JSONDecoder", ["not a subclass"]),
        ("layers.MyDenseLayer", ["expected 'dotted.module:Class'"]),
        ("/no/such/dir/file.py:Cls", ["no such file"]),
    ],
    ids=["missing-module", "missing-class", "not-a-class", "not-a-layer", "no-colon", "missing-file"],
)
def test_load_impl_refuses_bad_specs_with_one_clear_message(spec, words):
    """A bad SPEC raises ImplSpecError whose message names the SPEC and the problem (a function is taken for a
    factory, and refused when it makes no layer)."""
    with pytest.raises(ImplSpecError) as info:
        made_class(load_impl(spec)[0], spec)
    message = str(info.value)
    assert spec.strip() in message
    for word in words:
        assert word in message, message


@MECHANICS
def test_bad_impl_is_one_usage_error_not_a_traceback_per_test(tmp_path):
    """``pytest --impl missing:X`` exits with pytest's usage-error code and prints the problem once."""
    proc = run_spec("--impl", "no_such_module_xyz:Layer", cwd=tmp_path)
    assert proc.returncode == 4, tail(proc.output)
    assert proc.output.count("cannot import module 'no_such_module_xyz'") == 1, tail(proc.output)
    assert "Traceback" not in proc.output, tail(proc.output)


@MECHANICS
def test_outside_file_runs_from_any_directory(outside_dir, tmp_path):
    """``pytest --pyargs spec_tests --impl /elsewhere/my_layer.py:MyLayer`` works from an unrelated directory, and the header names the file."""
    proc = run_spec(
        "--impl", f"{outside_dir / 'my_layer.py'}:MyLayer", "spec_tests.test_build", "spec_tests.test_bias", cwd=tmp_path
    )
    assert proc.returncode == 0, tail(proc.output)
    assert f"{(outside_dir / 'my_layer.py').resolve()}" in proc.output
    assert " passed" in proc.output and "CONFORMS" in proc.output, tail(proc.output)
    assert not re.search(r"\b[1-9]\d* failed", proc.output), tail(proc.output)


def test_env_variable_and_header(tmp_path):
    """``LAYER_SPEC_IMPL`` chooses the implementation, and the header names it, the profile and the versions."""
    proc = run_spec("-k", "build", cwd=tmp_path, env={"LAYER_SPEC_IMPL": DENSE_SPEC})
    assert proc.returncode == 0, tail(proc.output)
    header = [line for line in proc.output.splitlines() if line.startswith("layer-spec:")]
    text = "\n".join(header)
    assert f"impl {DENSE_SPEC}" in text, text
    assert "profile dense" in text and "TensorFlow" in text and "(Keras " in text, text


def test_seed_profile_skips_clauses_outside_the_tutorial_contract(tmp_path):
    """``--profile seed`` runs the seed-marked clauses and skips the rest, with the reason."""
    proc = run_spec("--profile", "seed", "-rs", "spec_tests.test_construction", cwd=tmp_path)
    assert proc.returncode == 0, tail(proc.output)
    assert "not in the seed profile's contract" in proc.output
    assert " passed" in proc.output, tail(proc.output)


def test_plugin_is_dormant_outside_spec_runs(tmp_path):
    """Installing the package does not change an unrelated project's pytest run: no header, no TensorFlow import."""
    (tmp_path / "test_other.py").write_text(
        "import sys\n\ndef test_no_tensorflow():\n    assert 'tensorflow' not in sys.modules\n"
    )
    proc = run_spec("test_other.py", cwd=tmp_path)
    assert proc.returncode == 0, tail(proc.output)
    assert "layer-spec:" not in proc.output
