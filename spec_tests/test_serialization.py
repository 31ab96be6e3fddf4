"""Serialization: the config rebuilds the layer, and every save format brings back the same numbers.

The save and load clauses pass ``custom_objects={Cls.__name__: Cls}`` so that a
user's unregistered class can be checked too; a registered class is found
through the registry either way. Only the last clause is about registration.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

import numpy as np
import pytest

from spec_tests import backend, generation, platform_probe
from spec_tests.generation import keras
from spec_tests.harness.options import BASE_OPTIONS, DENSE_OPTIONS
from spec_tests.helpers import (
    activity_l2_penalty,
    assert_all_bit_identical,
    assert_bit_identical,
    assert_close,
    assert_weights_unchanged,
    COMPUTE_DTYPE_HINT,
    core,
    dtype_name,
    each_configuration,
    expect_raises,
    expect_raises_naming,
    expect_that,
    expected_output,
    fail,
    kernel_of,
    layer_bias,
    random_array,
    reload_model,
    to_numpy,
    weight_values,
)

INPUT_DIM = 4
UNITS = 3
BATCH = 5

#: How the clause names the layer as first made, before any serialization.
ORIGINAL = "layer made with"
CONFIG_HINT = (
    "get_config must return super().get_config() updated with every constructor argument, each under the "
    "argument's own name, with Keras objects serialized (keras.activations/initializers/regularizers/"
    "constraints.serialize)"
)
TRACKING_HINT = (
    "create every weight with self.add_weight(...) in build and keep it as an attribute; "
    "Keras saves only the weights it tracks"
)


def _inputs(seed: int = 0, batch: int = BATCH) -> np.ndarray:
    return random_array((batch, INPUT_DIM), seed)


def _custom_objects(layer_cls) -> dict:
    """Lets an unregistered class load; a registered class is found through the registry anyway."""
    return {layer_cls.__name__: layer_cls}


def _every_argument() -> dict:
    """Every keyword argument of the dense contract set to a non-default value (``use_bias`` kept, so bias options matter)."""
    return dict(
        activation="tanh",
        kernel_initializer=keras.initializers.Constant(0.25),
        bias_initializer=keras.initializers.Constant(0.5),
        kernel_regularizer=keras.regularizers.L2(0.125),
        bias_regularizer=keras.regularizers.L1(0.5),
        activity_regularizer=keras.regularizers.L2(0.25),
        kernel_constraint=keras.constraints.NonNeg(),
        bias_constraint=keras.constraints.MaxNorm(2.0),
        name="spec_every_argument",
        dtype="float64",
        trainable=False,
    )


def _config_json(layer, what: str) -> str:
    config = layer.get_config()
    try:
        return json.dumps(config, sort_keys=True)
    except TypeError as exc:
        fail(f"json.dumps({what}.get_config())", "a JSON-serializable dict", f"TypeError: {exc}", CONFIG_HINT)


def _from_config(layer_cls, config: dict, what: str, hint: str = CONFIG_HINT):
    try:
        return layer_cls.from_config(config)
    except Exception as exc:  # noqa: BLE001 - the failure itself is the finding
        fail(f"{layer_cls.__name__}.from_config({what}.get_config())", "a rebuilt layer",
             f"{type(exc).__name__}: {exc}", hint)


# --- one case per constructor argument --------------------------------------------------------------------------


def _set_random_weights(layer) -> None:
    layer.set_weights([random_array(w.shape, seed=10 + i, dtype=dtype_name(w.dtype)) for i, w in enumerate(layer.weights)])


def _regularizer_losses(layer) -> float:
    return float(sum(float(to_numpy(loss)) for loss in layer.losses))


def _sgd_step_down_by_one(layer) -> None:
    """One plain SGD step (learning rate 1) with a gradient of ones for every trainable weight."""
    variables = layer.trainable_variables
    optimizer = keras.optimizers.SGD(learning_rate=1.0)
    backend.apply_gradients(optimizer, [np.ones(v.shape, dtype_name(v.dtype)) for v in variables], variables)


def _check_units(layer, x, what):
    seen = tuple(layer(x).shape)
    expect_that(seen == (BATCH, 5), f"{what}: output shape", (BATCH, 5), seen, CONFIG_HINT)


def _check_activation(layer, x, what):
    expected = expected_output(layer, x, "relu")
    assert_close(layer(x), expected, f"{what}: output (relu(x @ kernel + bias))", hint=CONFIG_HINT)


def _check_no_bias(layer, x, what):
    expect_that(layer_bias(layer) is None and len(core(layer.weights)) == 1, f"{what}: bias and number of weights",
                "bias None and 1 weight", f"bias {'None' if layer_bias(layer) is None else 'present'} and "
                f"{len(core(layer.weights))} weights", CONFIG_HINT)


def _check_kernel_initializer(layer, x, what):
    assert_close(kernel_of(layer), np.full((INPUT_DIM, UNITS), 0.25), f"{what}: kernel from Constant(0.25)", hint=CONFIG_HINT)


def _check_bias_initializer(layer, x, what):
    assert_close(layer_bias(layer), np.full((UNITS,), 0.5), f"{what}: bias from Constant(0.5)", hint=CONFIG_HINT)


def _check_kernel_regularizer(layer, x, what):
    _set_random_weights(layer)
    expected = 0.125 * float(np.sum(to_numpy(kernel_of(layer)).astype(np.float64) ** 2))
    assert_close(_regularizer_losses(layer), expected, f"{what}: sum(layer.losses) (0.125 * sum(kernel**2))",
                 hint=CONFIG_HINT)


def _check_bias_regularizer(layer, x, what):
    _set_random_weights(layer)
    expected = 0.5 * float(np.sum(np.abs(to_numpy(layer_bias(layer)).astype(np.float64))))
    assert_close(_regularizer_losses(layer), expected, f"{what}: sum(layer.losses) (0.5 * sum(|bias|))",
                 hint=CONFIG_HINT)


def _check_activity_regularizer(layer, x, what):
    expected_y = expected_output(layer, x)
    layer(x)
    assert_close(_regularizer_losses(layer), activity_l2_penalty(expected_y, 0.25),
                 f"{what}: sum(layer.losses) after a call (0.25 * sum(y**2) / batch)", hint=CONFIG_HINT)


def _check_kernel_constraint(layer, x, what):
    _set_random_weights(layer)
    before = to_numpy(kernel_of(layer))
    _sgd_step_down_by_one(layer)
    assert_close(kernel_of(layer), np.maximum(before - 1.0, 0.0), f"{what}: kernel after an SGD step under NonNeg",
                 hint=CONFIG_HINT)


def _check_bias_constraint(layer, x, what):
    _set_random_weights(layer)
    before = to_numpy(layer_bias(layer))
    _sgd_step_down_by_one(layer)
    assert_close(layer_bias(layer), np.maximum(before - 1.0, 0.0), f"{what}: bias after an SGD step under NonNeg",
                 hint=CONFIG_HINT)


def _check_name(layer, x, what):
    expect_that(layer.name == "spec_renamed", f"{what}: name", "spec_renamed", layer.name, CONFIG_HINT)


def _check_dtype(layer, x, what):
    seen = [dtype_name(w.dtype) for w in layer.weights] + [dtype_name(layer(x).dtype)]
    # A backend whose matmul of two float64 tensors returns another dtype (torch: float32, measured by the platform
    # probe) lets a correct layer's output have it too; Dense is float64 there only because its bias promotes the sum.
    matmul = platform_probe.result_dtype("matmul", "float64")
    outputs = ["float64"] + ([matmul] if matmul != "float64" else [])
    expected = "float64 weights and a float64 output" + (
        f" (or {matmul}: on backend {backend.BACKEND}, matmul of two float64 tensors returns {matmul})"
        if matmul != "float64" else "")
    expect_that(set(seen[:-1]) == {"float64"} and seen[-1] in outputs, f"{what}: weight dtypes, then output dtype",
                expected, seen, _dtype_hint(what))


def _check_trainable(layer, x, what):
    expect_that(layer.trainable is False and not layer.trainable_variables, f"{what}: trainable, trainable_variables",
                "False, []", f"{layer.trainable}, {[v.name for v in layer.trainable_variables]}", CONFIG_HINT)


def _check_kernel_max_norm(layer, x, what):
    _set_random_weights(layer)
    unconstrained = to_numpy(kernel_of(layer)).astype(np.float64) - 1.0
    _sgd_step_down_by_one(layer)
    expected = np.minimum(np.linalg.norm(unconstrained, axis=0), 0.5)
    seen = np.linalg.norm(to_numpy(kernel_of(layer)).astype(np.float64), axis=0)
    assert_close(seen, expected, f"{what}: column norms of the kernel after an SGD step under MaxNorm(0.5)",
                 rtol=1e-5, atol=1e-6,
                 hint=CONFIG_HINT + "; a constraint saved by class name alone comes back with its default arguments")


def _check_mixed_dtype(layer, x, what):
    seen = [dtype_name(w.dtype) for w in layer.weights] + [dtype_name(layer(x).dtype)]
    expected = ["float32"] * len(layer.weights) + ["float16"]
    expect_that(seen == expected, f"{what}: weight dtypes, then output dtype", expected, seen,
                _dtype_hint(what, "; keep the dtype policy super().get_config() writes: self.dtype is only the "
                                  "variable dtype"))


def _dtype_hint(what: str, config_advice: str = "") -> str:
    """The layer as first made not honouring its dtype is the dtypes area's mistake (one cause with it); the
    rebuilt layer's, the config's."""
    return COMPUTE_DTYPE_HINT if what.startswith(ORIGINAL) else CONFIG_HINT + config_advice


REGISTERED_ACTIVATION_HINT = (CONFIG_HINT + "; keras.activations.serialize(self.activation) writes a registered "
                              "function with its package ('spec_tests>spec_twice'), activation.__name__ loses it")


@keras.saving.register_keras_serializable(package="spec_tests")
def spec_twice(z):
    """A user's own activation, registered as Keras asks: ``2 z``."""
    return z * 2.0


def _check_registered_activation(layer, x, what):
    expected = 2.0 * expected_output(layer, x)
    assert_close(layer(x), expected, f"{what}: output (2 * (x @ kernel + bias))",
                 hint=REGISTERED_ACTIVATION_HINT)


@dataclasses.dataclass(frozen=True)
class ArgumentCase:
    argument: str
    label: str  # the value, as a reader would write it
    kwargs: Callable[[], dict]
    behaves: Callable  # (layer, inputs, what) -> None; fails unless the layer honours the argument
    units: int = UNITS
    hint: str = CONFIG_HINT  # what a failing from_config says to do


ARGUMENT_CASES = [
    ArgumentCase("units", "5", dict, _check_units, units=5),
    ArgumentCase("activation", "'relu'", lambda: {"activation": "relu"}, _check_activation),
    ArgumentCase("use_bias", "False", lambda: {"use_bias": False}, _check_no_bias),
    ArgumentCase("kernel_initializer", "Constant(0.25)",
                 lambda: {"kernel_initializer": keras.initializers.Constant(0.25)}, _check_kernel_initializer),
    ArgumentCase("bias_initializer", "Constant(0.5)",
                 lambda: {"bias_initializer": keras.initializers.Constant(0.5)}, _check_bias_initializer),
    ArgumentCase("kernel_regularizer", "L2(0.125)",
                 lambda: {"kernel_regularizer": keras.regularizers.L2(0.125)}, _check_kernel_regularizer),
    ArgumentCase("bias_regularizer", "L1(0.5)",
                 lambda: {"bias_regularizer": keras.regularizers.L1(0.5)}, _check_bias_regularizer),
    ArgumentCase("activity_regularizer", "L2(0.25)",
                 lambda: {"activity_regularizer": keras.regularizers.L2(0.25)}, _check_activity_regularizer),
    ArgumentCase("kernel_constraint", "NonNeg()",
                 lambda: {"kernel_constraint": keras.constraints.NonNeg()}, _check_kernel_constraint),
    ArgumentCase("bias_constraint", "NonNeg()",
                 lambda: {"bias_constraint": keras.constraints.NonNeg()}, _check_bias_constraint),
    ArgumentCase("name", "'spec_renamed'", lambda: {"name": "spec_renamed"}, _check_name),
    ArgumentCase("dtype", "'float64'", lambda: {"dtype": "float64"}, _check_dtype),
    ArgumentCase("trainable", "False", lambda: {"trainable": False}, _check_trainable),
    # Values that a get_config written by hand loses even where it passes the cases above.
    ArgumentCase("kernel_constraint", "MaxNorm(0.5)",
                 lambda: {"kernel_constraint": keras.constraints.MaxNorm(0.5)}, _check_kernel_max_norm),
    ArgumentCase("dtype", "'mixed_float16'", lambda: {"dtype": "mixed_float16"}, _check_mixed_dtype),
    ArgumentCase("activation", "spec_twice (a registered function)", lambda: {"activation": spec_twice},
                 _check_registered_activation, hint=REGISTERED_ACTIVATION_HINT),
]


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=lambda c: f"{c.argument}={c.label}")
def test_every_argument_survives_from_config(make_layer, layer_cls, case):
    """Every constructor argument, set to a non-default value, still acts on the layer that ``from_config(get_config())`` rebuilds."""
    x = _inputs()
    layer = make_layer(case.units, **case.kwargs())
    layer(x)
    config = layer.get_config()
    case.behaves(layer, x, f"{ORIGINAL} {case.argument}={case.label}")
    restored = _from_config(layer_cls, config, "layer", case.hint)
    restored(x)
    case.behaves(restored, x, f"layer rebuilt by from_config from a layer made with {case.argument}={case.label}")


# --- the config as a whole ------------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments", ["defaults", "every argument set"])
def test_config_is_json_serializable(make_layer, arguments):
    """``get_config()`` returns a dict that ``json.dumps`` accepts, with default arguments and with every argument set."""
    layer = make_layer(UNITS, **({} if arguments == "defaults" else _every_argument()))
    layer(_inputs())
    config = layer.get_config()
    expect_that(isinstance(config, dict), "type of get_config()", "dict", type(config).__name__)
    _config_json(layer, "layer")


def test_from_config_gives_identical_config(make_layer, layer_cls):
    """``from_config(get_config())`` rebuilds a layer whose config is identical (as JSON) to the original's."""
    layer = make_layer(UNITS, **_every_argument())
    layer(_inputs())
    original = _config_json(layer, "layer")
    restored = _from_config(layer_cls, json.loads(original), "layer")
    seen = _config_json(restored, "the rebuilt layer")
    if seen != original:
        before, after = json.loads(original), json.loads(seen)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k, "<missing>") != after.get(k, "<missing>"))
        fail("config of the rebuilt layer", "identical to the original's",
             "; ".join(f"{k}: {before.get(k, '<missing>')!r} -> {after.get(k, '<missing>')!r}" for k in changed),
             CONFIG_HINT)


def test_serialize_keras_object_round_trip(make_layer, layer_cls):
    """``deserialize_keras_object(serialize_keras_object(layer))`` gives a layer of the same class with an identical config."""
    layer = make_layer(UNITS, **_every_argument())
    layer(_inputs())
    serialized = keras.saving.serialize_keras_object(layer)
    try:
        json.dumps(serialized)
    except TypeError as exc:
        fail("json.dumps(serialize_keras_object(layer))", "JSON", f"TypeError: {exc}", CONFIG_HINT)
    try:
        restored = keras.saving.deserialize_keras_object(serialized, custom_objects=_custom_objects(layer_cls))
    except Exception as exc:  # noqa: BLE001
        fail("deserialize_keras_object(serialize_keras_object(layer))", "a rebuilt layer",
             f"{type(exc).__name__}: {exc}", CONFIG_HINT)
    expect_that(type(restored) is layer_cls, "class of the deserialized layer", layer_cls.__name__, type(restored).__name__)
    expect_that(_config_json(restored, "the deserialized layer") == _config_json(layer, "layer"),
                "config of the deserialized layer", "identical to the original's", "a different config", CONFIG_HINT)


def _check_own_options_in_config(config: dict, options: dict, what: str) -> None:
    """The layer's own options (not Dense's) are in ``get_config()`` under their own names, with the value passed
    where both are plain values (a layer may write an object's value as its serialized dict)."""
    plain = (int, float, str, bool, type(None))
    for option, value in options.items():
        if option in DENSE_OPTIONS or option in BASE_OPTIONS:
            continue
        expect_that(option in config, f"get_config() of a layer made with {what}", f"the key {option!r}",
                    sorted(config), CONFIG_HINT)
        if isinstance(value, plain) and isinstance(config[option], plain):
            expect_that(config[option] == value, f"get_config()[{option!r}] of a layer made with {what}", repr(value),
                        repr(config[option]), CONFIG_HINT)


def test_declared_configurations_survive_from_config_and_saving(make_layer, layer_cls, declared_configurations,
                                                                tmp_path):
    """Under each configuration the layer declares (``layer_spec_configurations``), ``from_config(get_config())`` gives the same config and, with the same weights, the same outputs, and a model saved to ``.keras`` loads back with bit-identical predictions."""
    x = _inputs()
    for name, options in each_configuration(declared_configurations):
        what = f"the declared configuration {name!r} {options}"
        layer = make_layer(UNITS, **options)
        layer(x)
        _set_random_weights(layer)
        _check_own_options_in_config(layer.get_config(), options, what)
        restored = _from_config(layer_cls, layer.get_config(), f"a layer made with {what}")
        restored(x)
        restored.set_weights(layer.get_weights())
        expect_that(_config_json(restored, "the rebuilt layer") == _config_json(layer, "layer"),
                    f"config of the layer rebuilt from {what}", "identical to the original's", "a different config",
                    CONFIG_HINT)
        assert_close(restored(x), layer(x), f"outputs of the layer rebuilt from {what}, with the same weights",
                     hint=CONFIG_HINT)
        model = keras.Sequential([keras.Input((INPUT_DIM,)), layer])
        loaded = reload_model(model, tmp_path / f"{name}{generation.MODEL_SUFFIX}", layer_cls, f"a model with {what}",
                              CONFIG_HINT)
        assert_bit_identical(_outputs(loaded, x), _outputs(model, x), f"predictions of the reloaded model with {what}",
                             CONFIG_HINT + "; " + TRACKING_HINT)


# --- whole models -----------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="spec_tests")
class SpecWrapperModel(keras.Model):
    """A subclassed model around one layer under test, ``2 * layer(x)``, that saves the layer as a nested config."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.saving.deserialize_keras_object(inner) if isinstance(inner, dict) else inner

    def call(self, inputs):
        return self.inner(inputs) * 2.0

    def get_config(self):
        return {**super().get_config(), "inner": keras.saving.serialize_keras_object(self.inner)}


def _sequential(make_layer, **kwargs):
    return keras.Sequential([keras.Input((INPUT_DIM,)), make_layer(UNITS, **kwargs), make_layer(2)])


def _functional(make_layer, **kwargs):
    inputs = keras.Input((INPUT_DIM,))
    left = make_layer(UNITS, **kwargs)(inputs)
    right = make_layer(2)(inputs)
    return keras.Model(inputs, keras.layers.Concatenate()([left, right]))


def _subclassed(make_layer, **kwargs):
    return SpecWrapperModel(make_layer(UNITS, **kwargs))


MODEL_KINDS = {"sequential": _sequential, "functional": _functional, "subclassed": _subclassed}


def _outputs(model, x) -> np.ndarray:
    return to_numpy(model(backend.tensor(x), training=False))


def _round_trip(make_layer, save, load, how: str) -> None:
    """``save(model)`` then ``load(fresh model, what save returned)`` restores every weight and prediction exactly."""
    x = _inputs()
    model = _sequential(make_layer)
    expected = _outputs(model, x)
    saved = save(model)
    fresh = _sequential(make_layer)
    expect_that(not np.array_equal(_outputs(fresh, x), expected), "a fresh model's predictions before loading",
                "different from the saved model's (else the clause proves nothing)", "identical")
    load(fresh, saved)
    assert_all_bit_identical(_model_weights(fresh), _model_weights(model), f"weights after {how}", TRACKING_HINT)
    assert_bit_identical(_outputs(fresh, x), expected, f"predictions after {how}", TRACKING_HINT)


def _model_weights(model) -> list[np.ndarray]:
    return [to_numpy(w) for w in model.weights]


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_keras_file_round_trip_is_bit_identical(make_layer, layer_cls, kind, tmp_path):
    """A model saved to ``.keras`` and loaded back predicts bit-identically (Sequential, functional and subclassed models)."""
    x = _inputs()
    model = MODEL_KINDS[kind](make_layer, activation="tanh", bias_initializer="ones")
    expected = _outputs(model, x)
    path = tmp_path / f"{kind}{generation.MODEL_SUFFIX}"
    model.save(str(path))
    try:
        loaded = keras.saving.load_model(str(path), custom_objects=_custom_objects(layer_cls))
    except Exception as exc:  # noqa: BLE001
        fail(f"load_model of the saved {kind} model", "a model", f"{type(exc).__name__}: {exc}",
             CONFIG_HINT + "; and build must create every weight from the input shape alone")
    assert_bit_identical(_outputs(loaded, x), expected, f"predictions of the reloaded {kind} model",
                         CONFIG_HINT + "; " + TRACKING_HINT)


@pytest.mark.seed
def test_weights_file_round_trip(make_layer, tmp_path):
    """``save_weights`` to a ``.weights.h5`` file and ``load_weights`` into a fresh model restore every weight bit-identically."""
    path = str(tmp_path / "model.weights.h5")
    _round_trip(make_layer, lambda model: model.save_weights(path), lambda fresh, _: fresh.load_weights(path),
                "load_weights")


@pytest.mark.seed
def test_tf_checkpoint_round_trip(make_layer, tmp_path):
    """A ``tf.train.Checkpoint`` of a model restores every weight of a fresh model bit-identically."""
    _round_trip(make_layer, lambda model: backend.tf_checkpoint(model).write(str(tmp_path / "ckpt")),
                lambda fresh, prefix: backend.tf_checkpoint(fresh).read(prefix).expect_partial(),
                "Checkpoint.read")


@pytest.mark.seed
def test_saved_model_export_reproduces_outputs(make_layer, tmp_path):
    """A model exported as a TensorFlow SavedModel and reloaded with ``tf.saved_model.load`` reproduces its outputs."""
    x = _inputs()
    model = _sequential(make_layer)
    expected = _outputs(model, x)
    path = tmp_path / "exported"
    backend.export_saved_model(model, path)
    assert_close(backend.run_exported(path, x), expected, "outputs of the reloaded SavedModel",
                 rtol=1e-6, atol=1e-7, hint="call must run in a traced graph: only TensorFlow ops on tensors, "
                 "weights created with add_weight")


# --- what must fail, and how ------------------------------------------------------------------------------------


def _set_weights_with_a_wrong_kernel(make_layer, tmp_path):
    layer = make_layer(UNITS)
    layer(_inputs())
    wrong = [np.zeros((INPUT_DIM + 1, UNITS), "float32") if w is kernel_of(layer) else to_numpy(w) for w in layer.weights]
    return layer, lambda: layer.set_weights(wrong)


def _load_weights_of_a_narrower_model(make_layer, tmp_path):
    path = str(tmp_path / "narrow.weights.h5")
    keras.Sequential([keras.Input((INPUT_DIM,)), make_layer(UNITS - 1)]).save_weights(path)
    layer = make_layer(UNITS)
    model = keras.Sequential([keras.Input((INPUT_DIM,)), layer])
    return layer, lambda: model.load_weights(path)


WRONG_SHAPE_CASES = {
    "set_weights with a (5, 3) kernel for a 4 -> 3 layer": _set_weights_with_a_wrong_kernel,
    "load_weights saved by a 4 -> 2 layer into a 4 -> 3 layer": _load_weights_of_a_narrower_model,
}


@pytest.mark.seed
@pytest.mark.parametrize("case", sorted(WRONG_SHAPE_CASES))
def test_wrong_shape_weights_are_refused_and_leave_weights_unchanged(make_layer, case, tmp_path):
    """Loading weights of the wrong shape into a layer raises, and the layer's weights stay bit-identical."""
    layer, load = WRONG_SHAPE_CASES[case](make_layer, tmp_path)
    before = weight_values(layer)
    expect_raises(load, f"{case}: error",
                  "declare every weight with its full shape in add_weight, so Keras can refuse a mismatched value")
    assert_weights_unchanged(layer, before, f"weights after the refused load ({case})")


@pytest.mark.seed
@pytest.mark.should
@pytest.mark.parametrize("case", sorted(WRONG_SHAPE_CASES))
def test_wrong_shape_weights_raise_value_error_naming_the_shape(make_layer, case, tmp_path):
    """Loading weights of the wrong shape raises ValueError with a message about the shapes, as for Dense."""
    _, load = WRONG_SHAPE_CASES[case](make_layer, tmp_path)
    expect_raises_naming(load, ValueError, ("shape",), f"{case}: error", TRACKING_HINT)


def _unregistered_subclass(layer_cls):
    """A subclass made at run time under a name nobody registered: what a user's unregistered class looks like to Keras."""
    return type(f"SpecUnregistered{layer_cls.__name__}", (layer_cls,), {"__module__": __name__})


def _load_model_without_custom_objects(cls, tmp_path):
    path = str(tmp_path / f"unregistered{generation.MODEL_SUFFIX}")
    keras.Sequential([keras.Input((INPUT_DIM,)), cls(UNITS)]).save(path)
    return keras.saving.load_model(path)


def _deserialize_without_custom_objects(cls, tmp_path):
    layer = cls(UNITS)
    return keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))


UNREGISTERED_CASES = {
    "load_model": _load_model_without_custom_objects,
    "deserialize_keras_object": _deserialize_without_custom_objects,
}


@pytest.mark.should
@pytest.mark.parametrize("case", sorted(UNREGISTERED_CASES))
def test_unregistered_class_fails_to_load_with_a_message_about_registration(layer_cls, case, tmp_path):
    """Rebuilding an unregistered class given in no ``custom_objects`` fails with an error that names the class and says to register it."""
    cls = _unregistered_subclass(layer_cls)
    try:
        loaded = UNREGISTERED_CASES[case](cls, tmp_path)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        expect_that(cls.__name__ in message and "regist" in message.lower(), f"{case} error message",
                    f"a message naming {cls.__name__} and saying to register it", repr(message[:400]))
    else:
        fail(f"{case} of the unregistered class {cls.__name__}", "TypeError or ValueError",
             f"a {type(loaded).__name__} loaded without error")
