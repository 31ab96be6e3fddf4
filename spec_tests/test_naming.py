"""Naming: what the layer and its weights are called, alone and inside models."""

from __future__ import annotations

import pytest

from spec_tests import backend, generation
from spec_tests.generation import keras
from spec_tests.helpers import core, expect_that, kernel_of, layer_bias, random_inputs, weight_names

NO_PATH = ("legacy Keras 2 variables have no `path` (generation.HAS_PATH is False); "
           "the backing-variable-name clauses cover their scoped name")
NAME_HINT = 'create weights with self.add_weight(name="kernel", ...) and self.add_weight(name="bias", ...)'
UNIQUE_HINT = ("do not set name= yourself in __init__; pass **kwargs to super().__init__ and let Keras derive a "
               "unique snake_case name")


def _called(layer, shape=(2, 4)):
    """The layer after one eager call (a call, not a bare build, scopes the backing variables in Keras 2)."""
    layer(random_inputs(shape))
    return layer


@pytest.mark.seed
def test_kernel_is_named_kernel(make_layer):
    """The kernel weight is named ``kernel``."""
    layer = _called(make_layer(3))
    seen = generation.short_name(kernel_of(layer))
    expect_that(seen == "kernel", "short name of layer.kernel", "kernel", seen, NAME_HINT)


@pytest.mark.parametrize("use_bias, expected", [(True, ["kernel", "bias"]), (False, ["kernel"])],
                         ids=["use_bias=True", "use_bias=False"])
def test_weights_are_named_kernel_and_bias(make_layer, use_bias, expected):
    """The weights are named ``kernel`` and ``bias`` (only ``kernel`` without a bias)."""
    layer = _called(make_layer(3, use_bias=use_bias))
    expect_that(weight_names(layer) == expected, "short names of layer.weights", expected, weight_names(layer), NAME_HINT)


@pytest.mark.seed
def test_automatic_name_is_snake_case_of_class_name(make_layer, expected_auto_name):
    """The first layer made in a fresh session is named after its class in snake_case."""
    layer = make_layer(3)
    expect_that(layer.name == expected_auto_name, "automatic layer name", expected_auto_name, layer.name, UNIQUE_HINT)


@pytest.mark.seed
@pytest.mark.parametrize("count", [2, 3, 5])
def test_automatic_names_are_made_unique(make_layer, expected_auto_name, count):
    """Layers made in a row in a fresh session are named ``x``, ``x_1``, ``x_2``, ... after their class."""
    names = [make_layer(3).name for _ in range(count)]
    expected = [expected_auto_name] + [f"{expected_auto_name}_{i}" for i in range(1, count)]
    expect_that(names == expected, f"names of {count} layers made in a fresh session", expected, names, UNIQUE_HINT)


@pytest.mark.parametrize("name", ["head", "dense_out", "layer7"])
def test_explicit_name_is_kept(make_layer, name):
    """An explicit ``name=`` is the layer's name, and it scopes the weights' names (``<name>/kernel``)."""
    layer = _called(make_layer(3, name=name))
    expect_that(layer.name == name, "layer.name", name, layer.name,
                "pass **kwargs (name, dtype, trainable) to super().__init__")
    seen = generation.scoped_name(kernel_of(layer))
    expect_that(seen == f"{name}/kernel", "scoped name of the kernel", f"{name}/kernel", seen)


def test_explicit_name_does_not_consume_an_automatic_name(make_layer, expected_auto_name):
    """A layer with an explicit name leaves the automatic sequence untouched: the next unnamed layer is ``x``."""
    make_layer(3, name="explicit")
    layer = make_layer(3)
    expect_that(layer.name == expected_auto_name, "name of the first unnamed layer after a named one", expected_auto_name,
                layer.name, UNIQUE_HINT)


@pytest.mark.seed
@pytest.mark.parametrize("call", ["eager", "symbolic"])
def test_backing_variable_name_is_layer_slash_kernel(make_layer, call):
    """The kernel's backing ``tf.Variable`` is named ``<layer name>/kernel:0`` once the layer has been called."""
    layer = make_layer(3)
    if call == "eager":
        layer(random_inputs((2, 4)))
    else:
        layer(keras.Input((4,)))
    expected = f"{layer.name}/kernel:0"
    seen = backend.backing_name(kernel_of(layer))
    expect_that(seen == expected, "backing variable name of the kernel", expected, seen, NAME_HINT)


def test_backing_variable_name_of_bias(make_layer):
    """The bias's backing ``tf.Variable`` is named ``<layer name>/bias:0``."""
    layer = _called(make_layer(3))
    expected = f"{layer.name}/bias:0"
    seen = backend.backing_name(layer_bias(layer))
    expect_that(seen == expected, "backing variable name of the bias", expected, seen, NAME_HINT)


def _check_path(make_layer, weight: str) -> None:
    if not generation.HAS_PATH:
        pytest.skip(NO_PATH)
    layer = _called(make_layer(3))
    expected, seen = f"{layer.name}/{weight}", getattr(layer, weight).path
    expect_that(seen == expected, f"layer.{weight}.path", expected, seen, NAME_HINT)


@pytest.mark.seed
def test_path_is_layer_slash_kernel(make_layer):
    """On Keras 3, the kernel's ``path`` is ``<layer name>/kernel``."""
    _check_path(make_layer, "kernel")


def test_path_of_bias_is_layer_slash_bias(make_layer):
    """On Keras 3, the bias's ``path`` is ``<layer name>/bias``."""
    _check_path(make_layer, "bias")


def _paths(layer):
    """The paths of the layer's weights, but the extra ones it declares (``spec_tests/forward.py``)."""
    return [w.path for w in core(layer.weights)]


def test_path_has_sequential_prefix(make_layer):
    """On Keras 3, the weights of layers nested in a ``Sequential`` have paths ``<model>/<layer>/<weight>``."""
    if not generation.HAS_PATH:
        pytest.skip(NO_PATH)
    first, second = make_layer(3), make_layer(2)
    model = keras.Sequential([keras.Input((4,)), first, second], name="outer")
    expected = [f"outer/{layer.name}/{weight}" for layer in (first, second) for weight in ("kernel", "bias")]
    seen = [w.path for w in core(model.weights)]
    expect_that(seen == expected, "paths of the weights in Sequential 'outer'", expected, seen, NAME_HINT)


def test_path_has_subclassed_model_prefix(make_layer):
    """On Keras 3, the weights of a layer held by a subclassed ``Model`` have paths ``<model>/<layer>/<weight>``."""
    if not generation.HAS_PATH:
        pytest.skip(NO_PATH)

    class Holder(keras.Model):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, inputs):
            return self.inner(inputs)

    inner = make_layer(3)
    model = Holder(inner, name="holder")
    model(random_inputs((2, 4)))
    expected = [f"holder/{inner.name}/kernel", f"holder/{inner.name}/bias"]
    expect_that(_paths(inner) == expected, "paths of the weights inside subclassed model 'holder'", expected, _paths(inner),
                NAME_HINT)


def test_path_has_no_functional_model_prefix(make_layer):
    """On Keras 3, a functional ``Model`` does not add its own name: the paths stay ``<layer>/<weight>``."""
    if not generation.HAS_PATH:
        pytest.skip(NO_PATH)
    inputs = keras.Input((4,))
    layer = make_layer(3)
    keras.Model(inputs, layer(inputs), name="functional_outer")
    expected = [f"{layer.name}/kernel", f"{layer.name}/bias"]
    expect_that(_paths(layer) == expected, "paths of the weights in a functional model", expected, _paths(layer), NAME_HINT)


def test_weights_of_two_layers_in_one_model_have_distinct_names(make_layer):
    """Two layers of the class in one ``Sequential`` get distinct layer names and distinct scoped weight names."""
    first, second = make_layer(3), make_layer(2)
    try:
        model = keras.Sequential([keras.Input((4,)), first, second])
    except ValueError as exc:
        raise AssertionError(
            f"Sequential with two layers of the class: expected it to build, seen ValueError: {exc}\n"
            f"hint: {UNIQUE_HINT}"
        ) from exc
    expect_that(first.name != second.name, "names of the two layers", "distinct", [first.name, second.name], UNIQUE_HINT)
    scoped = [generation.scoped_name(w) for w in model.weights]
    expect_that(len(set(scoped)) == len(scoped), "scoped weight names in the model", "all distinct", scoped, UNIQUE_HINT)
