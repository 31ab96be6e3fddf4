"""Backends: the spec names its backend, refuses a TensorFlow-only layer elsewhere in one message, and checks parity.

The subprocess tests run the spec under ``KERAS_BACKEND=jax`` (skipped where JAX
is not installed, and under legacy Keras 2, which runs on TensorFlow only). The
in-process tests use whatever backend this process runs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from layers._compat import LEGACY
from spec_tests import backend
from spec_tests.harness import parity, portable
from tests.support import REPO, run_spec, tail
from tests.tiers import FULL

needs_jax = pytest.mark.skipif(LEGACY or importlib.util.find_spec("jax") is None,
                               reason="needs Keras 3 and JAX (pip install -e '.[jax]')")
JAX = {"KERAS_BACKEND": "jax", "TF_USE_LEGACY_KERAS": ""}

TF_LAYER = textwrap.dedent('''
    import tensorflow as tf
    from spec_tests.generation import keras

    class TfOpsDense(keras.layers.Layer):
        """Creates its weights the Keras way and computes with tf.matmul: TensorFlow-only, and says nothing."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

        def call(self, inputs):
            return tf.matmul(inputs, self.kernel) + self.bias
''')


def test_header_names_the_backend_and_its_version():
    """The run's header (generation.describe) names the backend this process runs and its version."""
    from spec_tests import generation

    assert f"backend {backend.BACKEND} {backend.BACKEND_VERSION}" in generation.describe()


def test_reference_layer_declares_tensorflow_only():
    """MyDenseLayer (TensorFlow ops) declares TensorFlow only; OpsDense (keras.ops) declares every backend."""
    import layers

    assert portable.declared_backends(layers.MyDenseLayer) == ("tensorflow",)
    if not LEGACY:
        assert {"tensorflow", "jax", "torch"} <= set(portable.declared_backends(layers.OpsDense))


@pytest.mark.skipif(LEGACY, reason="keras.ops and OpsDense are Keras 3 only")
def test_a_variable_the_loss_does_not_reach_gets_a_none_gradient():
    """backend.gradients gives None, not zeros, for a variable the loss has no path to (on every backend)."""
    from layers import OpsDense
    from spec_tests.generation import keras

    layer = OpsDense(2)
    layer(np.zeros((1, 3), "float32"))
    spare = keras.Variable(np.ones(2, "float32"), name="spare")  # the layer never reads it
    x, g = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    _, dx, grads = backend.gradients(layer, x, g, [layer.kernel, layer.bias, spare])
    assert dx is not None and grads[0] is not None and grads[1] is not None
    assert grads[2] is None, f"gradient of an unused variable: expected None, seen {grads[2]!r}"


@FULL  # the spec in a new process under JAX
@needs_jax
def test_tensorflow_only_layer_gets_one_message_under_jax(tmp_path):
    """Under JAX, the reference MyDenseLayer is refused before any clause runs: one message with the fix, exit 4."""
    proc = run_spec("--impl", "layers:MyDenseLayer", "-q", cwd=tmp_path, env=JAX)
    assert proc.returncode == 4, tail(proc.output)
    assert "layer_spec_backends" in proc.output and portable.TF_ONLY_FIX in proc.output, tail(proc.output)
    assert "Traceback" not in proc.output and " failed" not in proc.output, tail(proc.output)


@FULL
@needs_jax
def test_undeclared_layer_calling_tensorflow_ops_gets_one_message_under_jax(tmp_path):
    """A layer that calls tf.matmul and declares nothing is recognised under JAX and refused with one message."""
    (tmp_path / "tf_layer.py").write_text(TF_LAYER)
    proc = run_spec("--impl", "tf_layer.py:TfOpsDense", "-q", cwd=tmp_path, env=JAX)
    assert proc.returncode == 4, tail(proc.output)
    assert "calls TensorFlow ops" in proc.output and portable.TF_ONLY_FIX in proc.output, tail(proc.output)
    assert proc.output.count("ERROR: ") == 1 and "Traceback" not in proc.output, tail(proc.output)


@FULL
@needs_jax
def test_header_under_jax_names_jax(tmp_path):
    """Under KERAS_BACKEND=jax the header says ``backend jax <version>``."""
    proc = run_spec("--impl", "layers:OpsDense", "--co", cwd=tmp_path, env=JAX)
    assert proc.returncode == 0 and "backend jax " in proc.output, tail(proc.output)


def test_parity_tables_flag_a_difference_beyond_the_tolerance():
    """The parity table marks a value outside rtol/atol, and passes values within it."""
    def values(shift):
        base = {q: [[1.0, 2.0]] for q in parity.QUANTITIES}
        return {case: {q: (np.asarray(v) + shift).tolist() for q, v in base.items()} for case, _, _ in parity.CASES}

    _, same = parity.value_table({"tensorflow": values(0.0), "jax": values(parity.ATOL / 10)})
    lines, different = parity.value_table({"tensorflow": values(0.0), "jax": values(1e-3)})
    assert same and not different and any("✗" in line for line in lines)


@FULL  # one area on TensorFlow and on JAX, each in a new process
@needs_jax
def test_parity_command_across_tensorflow_and_jax(tmp_path):
    """``layer-spec check layers:OpsDense --backends tensorflow,jax`` (one area) prints both columns and PARITY."""
    report = tmp_path / "parity.md"
    command = [sys.executable, "-m", "spec_tests.harness.cli", "check", "layers:OpsDense", "--backends",
               "tensorflow,jax", "--area", "construction", "--report", str(report)]
    proc = subprocess.run(command, cwd=str(REPO), capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_USE_LEGACY_KERAS": ""})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, tail(output, 80)
    text = report.read_text()
    assert "| area | tensorflow | jax |" in text and "**PARITY**" in text, text
    assert "saved under" in text, text
