"""The alternative implementations conform, and the tutorial's layer behaves as the tutorial profile says.

Each conformance check runs the whole spec on one implementation in the Keras generation this process runs, in
the worker pool the mutant zoo and the correct layers use (``tests/pool_runs.py``); implementations the
generation does not allow are skipped with the reason. The in-process checks pin down what each alternative is
for: the hand-written gradient against its closed form, and ``OpsDense``'s ``keras.ops``-only code.
"""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from layers._compat import LEGACY, keras, tf
from tests.pool_runs import pool_runs, register, whole_spec
from tests.support import tail
from tests.tiers import FULL

OPS_DENSE_KERAS3_ONLY = "OpsDense is Keras 3 only (keras.ops); this process runs legacy Keras 2"
ADAPTABLE_DENSE_KERAS3_ONLY = "AdaptableDense is Keras 3 only (quantization, LoRA); this process runs legacy Keras 2"
SHAPE_ERROR = "got multiple values for argument 'shape'"
CONFORMANCE_TEST = "test_alternative_conforms"
PUBLISHED_TEST = "published tutorial"
PUBLISHED = "layers.tutorial:MyDenseLayer"
#: Alternative -> (profile, why it does not run on legacy Keras 2, or None).
ALTERNATIVES = {
    "layers:CustomGradientDense": ("dense", None),
    "layers:OpsDense": ("dense", OPS_DENSE_KERAS3_ONLY),
    "layers:PortedTutorialLayer": ("seed", None),
    "layers:AdaptableDense": ("dense", ADAPTABLE_DENSE_KERAS3_ONLY),
}


register(CONFORMANCE_TEST, "spec", lambda spec: whole_spec(spec, ALTERNATIVES[spec][0]),
         lambda spec: not (LEGACY and ALTERNATIVES[spec][1]))
register(PUBLISHED_TEST, "spec", lambda spec: whole_spec(spec, "seed"))


@pytest.fixture(scope="module")
def alternative_runs(request):
    """``run(spec) -> RunResult`` of the whole spec, answered by the session's worker processes."""
    with pool_runs(request, CONFORMANCE_TEST) as run:
        yield run


@pytest.mark.parametrize("spec", [
    pytest.param(spec, id=f"{spec.split(':')[1]}-{profile}",
                 marks=pytest.mark.skipif(LEGACY and bool(keras3_only), reason=keras3_only or ""))
    for spec, (profile, keras3_only) in ALTERNATIVES.items()
])
@FULL  # the whole spec per alternative
def test_alternative_conforms(spec, alternative_runs):
    """Every alternative passes the whole spec of its profile in this generation, with the capabilities it claims."""
    result = alternative_runs(spec)
    assert result.error is None, f"{spec}: the spec run itself failed: {result.error}"
    failed = [f"{clause.id}: {clause.first_line}" for clause in result.of("failed")]
    assert result.conforms and not failed, (
        f"spec run for {spec} (profile {ALTERNATIVES[spec][0]}, Keras {2 if LEGACY else 3}): expected it to conform, "
        f"seen {result.verdict()}; failing MUST clauses:\n" + "\n".join(failed))


# --- the tutorial's layer as published, under the seed profile -------------------------------------------------


@pytest.fixture(scope="module")
def published_tutorial_run(request):
    """One seed-profile spec run of the tutorial's layer as published (a RunResult, from the session's pool)."""
    with pool_runs(request, PUBLISHED_TEST) as run:
        yield run(PUBLISHED)


@FULL  # the fixture runs the seed profile
@pytest.mark.skipif(not LEGACY, reason="legacy Keras 2 only: on Keras 3 the published layer must fail")
def test_published_tutorial_layer_passes_seed_profile_on_keras2(published_tutorial_run):
    """On legacy Keras 2 the tutorial's layer, as published, conforms to the seed profile."""
    result = published_tutorial_run
    assert result.error is None and result.conforms, (
        f"seed profile, published tutorial layer, Keras 2: expected CONFORMS, seen {result.verdict()}: "
        f"{[clause.id for clause in result.of('failed')]} {result.error or ''}")


@FULL
@pytest.mark.skipif(LEGACY, reason="Keras 3 only: on legacy Keras 2 the published layer must pass")
def test_published_tutorial_layer_fails_seed_profile_on_keras3(published_tutorial_run):
    """On Keras 3 the tutorial's layer, as published, fails the seed profile, every failure from add_variable's TypeError."""
    result = published_tutorial_run
    assert result.error is None, f"the spec run itself failed: {result.error}"
    failed = result.of("failed")
    assert failed and not result.conforms, f"failed clauses: expected some, seen none ({result.verdict()})"
    other = [c.id for c in failed if SHAPE_ERROR not in c.message]
    assert not other, f"failed clauses whose message lacks {SHAPE_ERROR!r}: expected none, seen {other}"


def _names_the_fix(hint) -> bool:
    return bool(hint) and "add_weight" in hint and "keyword" in hint.lower()


@FULL
@pytest.mark.skipif(LEGACY, reason="Keras 3 only: on legacy Keras 2 the published layer passes, so no hint")
def test_published_tutorial_failures_carry_a_hint_naming_the_fix(published_tutorial_run):
    """On Keras 3 a failing clause of the run carries a hint naming the fix: ``add_weight`` with keyword arguments."""
    hints = [clause.hint for clause in published_tutorial_run.of("failed")]
    assert any(_names_the_fix(hint) for hint in hints), (
        f"hints of the failing clauses: expected one naming `add_weight` and keyword arguments, seen {hints[:5]}")


@FULL
@pytest.mark.skipif(LEGACY, reason="Keras 3 only: on legacy Keras 2 the published layer passes, so no hint")
@pytest.mark.xfail(strict=False, reason=(
    "clauses that catch the call's exception and fail with their own hint (test_dtypes mixed precision, "
    "test_shapes, test_distribution) keep that hint: spec_tests/harness/reporter.py adds the pitfall recognised from "
    "the exception only when the clause gave no hint, so they point at dtypes/shapes/strategy scope instead of "
    "add_weight"))
def test_every_failing_clause_of_the_published_tutorial_names_the_fix(published_tutorial_run):
    """On Keras 3 every failing clause's hint names the fix, not a hint about something else."""
    wrong = {c.id: c.hint for c in published_tutorial_run.of("failed") if not _names_the_fix(c.hint)}
    assert not wrong, f"failed clauses whose hint does not name add_weight with keywords: expected none, seen {wrong}"


# --- CustomGradientDense: the hand-written backward pass against its closed form ----------------------------------


@pytest.fixture
def float32_policy():
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("mode", ["eager", "tf.function", "xla"])
def test_custom_gradient_matches_closed_form_on_rank3_input(mode, float32_policy):
    """dL/dW = X^T G, dL/db = sum of G over every leading axis, dL/dx = G W^T, for a (2, 3, 4) input."""
    from layers import CustomGradientDense

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    upstream = rng.standard_normal((2, 3, 5)).astype("float32")  # dL/dy for L = sum(y * upstream)
    layer = CustomGradientDense(5, bias_initializer="random_normal")
    layer.build(x.shape)

    def grads(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(layer(inputs) * upstream)
        return tape.gradient(loss, [inputs, layer.kernel, layer.bias])

    if mode != "eager":
        grads = tf.function(grads, jit_compile=mode == "xla")
    grad_x, grad_kernel, grad_bias = (np.asarray(g) for g in grads(tf.constant(x)))
    kernel = np.asarray(layer.kernel)
    np.testing.assert_allclose(grad_kernel, x.reshape(-1, 4).T @ upstream.reshape(-1, 5), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_bias, upstream.sum(axis=(0, 1)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_x, upstream @ kernel.T, rtol=1e-5, atol=1e-5)


def test_custom_gradient_under_mixed_precision_gives_float32_variable_gradients(float32_policy):
    """Under mixed_float16 the output is float16 and the variables' gradients arrive as float32."""
    from layers import CustomGradientDense

    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = CustomGradientDense(3)
    x = tf.constant(np.random.default_rng(0).standard_normal((4, 2, 5)).astype("float32"))
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32))
    gradients = tape.gradient(loss, layer.trainable_variables)
    assert tf.as_dtype(y.dtype) == tf.float16, f"output dtype: expected float16, seen {y.dtype}"
    seen = [tf.as_dtype(g.dtype).name if g is not None else None for g in gradients]
    assert seen == ["float32", "float32"], f"gradient dtypes of kernel and bias: expected float32, seen {seen}"
    np.testing.assert_allclose(np.asarray(gradients[1]), np.full(3, 8.0), rtol=1e-3)  # 4 * 2 rows, upstream 1


# --- OpsDense: keras.ops only, Keras 3 only ------------------------------------------------------------------------


def _names_used(function) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


@pytest.mark.skipif(LEGACY, reason=OPS_DENSE_KERAS3_ONLY)
@pytest.mark.parametrize("method", ["call", "build", "compute_output_shape", "__init__", "get_config"])
def test_ops_dense_code_uses_no_tensorflow(method):
    """OpsDense's methods (its own and inherited) name neither ``tf`` nor ``tensorflow``: it is keras.ops only."""
    from layers import OpsDense

    function = getattr(OpsDense, method)
    used = _names_used(function) & {"tf", "tensorflow"}
    assert not used, f"{function.__qualname__} ({inspect.getsourcefile(function)}): expected no TensorFlow names, seen {used}"


@pytest.mark.skipif(LEGACY, reason=OPS_DENSE_KERAS3_ONLY)
def test_ops_dense_runs_on_the_numpy_backend(tmp_path):
    """With KERAS_BACKEND=numpy, OpsDense computes activation(x @ kernel + bias) on a rank-3 input."""
    pytest.importorskip("scipy", reason="Keras's numpy backend needs scipy, which is not installed")
    script = textwrap.dedent(
        """
        import numpy as np, keras
        from layers.ops_dense import OpsDense
        assert keras.config.backend() == "numpy", keras.config.backend()
        layer = OpsDense(3, activation="relu", bias_initializer="ones")
        x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype("float32")
        y = np.asarray(layer(x))
        kernel, bias = (np.asarray(w) for w in layer.weights)
        np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
        print("ok")
        """
    )
    env = dict(os.environ, KERAS_BACKEND="numpy")
    env.pop("TF_USE_LEGACY_KERAS", None)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, tail(proc.stdout + proc.stderr)


def test_ops_dense_availability_follows_the_generation():
    """``import layers`` works in both generations; OpsDense exists on Keras 3 and explains its absence on Keras 2."""
    import layers

    assert layers.OPS_DENSE_AVAILABLE is (not LEGACY)
    if LEGACY:
        with pytest.raises(AttributeError, match="Keras 3 only"):
            layers.OpsDense  # noqa: B018
    else:
        assert issubclass(layers.OpsDense, keras.layers.Layer)


# --- the tutorial's fixes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, weights", [("PortedTutorialLayer", ["kernel"]), ("FixedTutorialLayer", ["kernel", "bias"])])
def test_tutorial_fix_computes_its_affine_map(name, weights, float32_policy):
    """The ported layer computes x @ kernel; the fixed one x @ kernel + bias, and both train in this generation."""
    import layers

    layer = getattr(layers, name)(3)
    x = np.random.default_rng(3).standard_normal((4, 5)).astype("float32")
    y = np.asarray(layer(tf.constant(x)))
    seen = [w.name.split("/")[-1].removesuffix(":0") for w in layer.weights]
    assert seen == weights, f"{name} weights: expected {weights}, seen {seen}"
    values = [np.asarray(w) for w in layer.weights]
    expected = x @ values[0] + (values[1] if len(values) > 1 else 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(tf.constant(x)))
    gradients = tape.gradient(loss, layer.trainable_variables)
    assert all(g is not None for g in gradients), f"{name}: every trainable weight gets a gradient"


# --- registration --------------------------------------------------------------------------------------------------

REGISTERED = ["CustomGradientDense", "PortedTutorialLayer", "FixedTutorialLayer"] + (
    [] if LEGACY else ["OpsDense", "AdaptableDense"])


@pytest.mark.parametrize("name", REGISTERED)
def test_alternative_is_registered_in_package_layers(name):
    """Each alternative is registered as serializable under ``layers>ClassName``."""
    import layers

    cls = getattr(layers, name)
    assert keras.utils.get_registered_object(f"layers>{name}") is cls
    assert keras.utils.get_registered_name(cls) == f"layers>{name}"


def test_published_tutorial_layer_keeps_its_name_and_is_not_registered():
    """The published layer keeps the tutorial's class name ``MyDenseLayer`` and does not take the reference's registration."""
    import layers
    from layers import tutorial

    assert tutorial.MyDenseLayer.__name__ == "MyDenseLayer"
    assert layers.TutorialDenseLayer is tutorial.MyDenseLayer
    assert keras.utils.get_registered_object("layers>MyDenseLayer") is layers.MyDenseLayer
    assert keras.utils.get_registered_name(tutorial.MyDenseLayer) == "MyDenseLayer"
