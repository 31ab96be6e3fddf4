"""trainable_variables: which weights an optimizer sees, in which order, and how ``trainable`` freezes them."""

from __future__ import annotations

import numpy as np
import pytest

from spec_tests.helpers import (
    contains_variable,
    core,
    expect_that,
    kernel_of,
    layer_bias,
    random_inputs,
    variable_labels,
)

ORDER_HINT = "create the kernel before the bias in build, both with add_weight(..., trainable=True)"
FREEZE_HINT = ("let Keras handle `trainable`: pass **kwargs to super().__init__, create weights with add_weight, and "
               "do not override trainable_weights/trainable_variables")


def _built(layer, input_dim=4):
    layer(random_inputs((2, input_dim)))
    return layer


def _same_list(seen, expected) -> bool:
    """The same variables in the same order, the extra weights the layer declares left out (forward.py)."""
    seen, expected = core(seen), core(expected)
    return len(seen) == len(expected) and all(a is b for a, b in zip(seen, expected))


@pytest.mark.seed
def test_kernel_is_the_first_trainable_variable(make_layer):
    """The kernel is a trainable variable, listed first."""
    layer = _built(make_layer(3))
    seen = core(layer.trainable_variables)
    expect_that(len(seen) > 0 and seen[0] is kernel_of(layer), "layer.trainable_variables[0]", "layer.kernel",
                variable_labels(seen), ORDER_HINT)


@pytest.mark.seed
def test_no_non_trainable_variables_by_default(make_layer):
    """A layer made with its defaults owns no non-trainable variables."""
    layer = _built(make_layer(3))
    expect_that(core(layer.non_trainable_variables) == [], "layer.non_trainable_variables", [],
                variable_labels(core(layer.non_trainable_variables)), "create every weight with trainable=True")


@pytest.mark.parametrize("units, input_dim", [(3, 4), (1, 1), (5, 2)], ids=lambda v: str(v))
def test_trainable_variables_are_kernel_then_bias(make_layer, units, input_dim):
    """``trainable_variables`` is exactly ``[kernel, bias]``, in that order."""
    layer = _built(make_layer(units), input_dim)
    seen = layer.trainable_variables
    expect_that(_same_list(seen, [kernel_of(layer), layer_bias(layer)]), "layer.trainable_variables",
                [f"kernel{(input_dim, units)}", f"bias{(units,)}"], variable_labels(seen), ORDER_HINT)


def test_trainable_variables_without_bias_is_kernel_only(make_layer):
    """With ``use_bias=False``, ``trainable_variables`` is exactly ``[kernel]``."""
    layer = _built(make_layer(3, use_bias=False))
    seen = layer.trainable_variables
    expect_that(_same_list(seen, [kernel_of(layer)]), "layer.trainable_variables with use_bias=False", ["kernel(4, 3)"],
                variable_labels(seen), "do not create a bias when use_bias is False")


@pytest.mark.parametrize("use_bias", [True, False], ids=["use_bias=True", "use_bias=False"])
def test_trainable_false_makes_every_weight_non_trainable(make_layer, use_bias):
    """With ``trainable=False``, no weight is trainable and every weight is listed as non-trainable."""
    layer = _built(make_layer(3, use_bias=use_bias, trainable=False))
    expected = [kernel_of(layer), layer_bias(layer)] if use_bias else [kernel_of(layer)]
    expect_that(layer.trainable_variables == [], "layer.trainable_variables with trainable=False", [],
                variable_labels(layer.trainable_variables), FREEZE_HINT)
    expect_that(_same_list(layer.non_trainable_variables, expected), "layer.non_trainable_variables with trainable=False",
                variable_labels(expected), variable_labels(layer.non_trainable_variables), FREEZE_HINT)


def test_freezing_after_build_and_unfreezing(make_layer):
    """Setting ``layer.trainable = False`` after build freezes every weight; ``True`` restores ``[kernel, bias]``."""
    layer = _built(make_layer(3))
    layer.trainable = False
    expect_that(layer.trainable_variables == [], "layer.trainable_variables after layer.trainable = False", [],
                variable_labels(layer.trainable_variables), FREEZE_HINT)
    expect_that(_same_list(layer.non_trainable_variables, [kernel_of(layer), layer_bias(layer)]),
                "layer.non_trainable_variables after layer.trainable = False", ["kernel", "bias"],
                variable_labels(layer.non_trainable_variables), FREEZE_HINT)
    layer.trainable = True
    expect_that(_same_list(layer.trainable_variables, [kernel_of(layer), layer_bias(layer)]),
                "layer.trainable_variables after layer.trainable = True again", ["kernel", "bias"],
                variable_labels(layer.trainable_variables), FREEZE_HINT)


@pytest.mark.parametrize("use_bias", [True, False], ids=["use_bias=True", "use_bias=False"])
def test_layer_built_frozen_trains_after_unfreezing(make_layer, use_bias):
    """A layer built while frozen (``trainable=False``) lists every weight in ``trainable_variables`` once ``layer.trainable = True``: fine-tuning reaches them."""
    layer = _built(make_layer(3, use_bias=use_bias, trainable=False))
    layer.trainable = True
    expected = [kernel_of(layer), layer_bias(layer)] if use_bias else [kernel_of(layer)]
    expect_that(_same_list(layer.trainable_variables, expected),
                "layer.trainable_variables of a layer built with trainable=False, after layer.trainable = True",
                variable_labels(expected), variable_labels(layer.trainable_variables),
                "create every weight with add_weight(..., trainable=True) and let layer.trainable freeze them; "
                "add_weight(..., trainable=self.trainable) freezes a weight built while the layer was frozen for good")


@pytest.mark.parametrize("use_bias", [True, False], ids=["use_bias=True", "use_bias=False"])
def test_weights_are_trainable_then_non_trainable(make_layer, use_bias):
    """``weights`` is ``trainable_variables`` then ``non_trainable_variables``; ``trainable_weights`` is the same list."""
    layer = _built(make_layer(3, use_bias=use_bias))
    expected = list(layer.trainable_variables) + list(layer.non_trainable_variables)
    expect_that(_same_list(layer.weights, expected), "layer.weights", variable_labels(expected),
                variable_labels(layer.weights))
    expect_that(_same_list(layer.trainable_weights, layer.trainable_variables), "layer.trainable_weights",
                variable_labels(layer.trainable_variables), variable_labels(layer.trainable_weights))
    for role, variable in (("kernel", kernel_of(layer)), ("bias", layer_bias(layer) if use_bias else None)):
        if variable is not None:
            expect_that(contains_variable(layer.weights, variable), f"layer.{role} in layer.weights", True, False)


@pytest.mark.seed
@pytest.mark.parametrize("units, input_dim", [(10, 5), (3, 4), (1, 7)], ids=lambda v: str(v))
def test_count_params_agrees_with_weights(make_layer, units, input_dim):
    """``count_params()`` is the total size of ``weights``."""
    layer = _built(make_layer(units), input_dim)
    expected = int(sum(np.prod(w.shape) for w in layer.weights))
    expect_that(layer.count_params() == expected, "layer.count_params()", f"{expected} (sum of weight sizes)",
                layer.count_params())


@pytest.mark.parametrize(
    "units, input_dim, use_bias",
    [(3, 4, True), (3, 4, False), (10, 5, True), (1, 1, True), (7, 2, False)],
    ids=lambda v: str(v),
)
def test_count_params_is_input_dim_times_units_plus_units(make_layer, units, input_dim, use_bias):
    """``count_params()`` is ``input_dim * units + units`` with a bias and ``input_dim * units`` without."""
    layer = _built(make_layer(units, use_bias=use_bias), input_dim)
    expected = input_dim * units + (units if use_bias else 0)
    expected += int(sum(np.prod(w.shape) for w in layer.weights if not contains_variable(core(layer.weights), w)))
    expect_that(layer.count_params() == expected, f"count_params() for {input_dim}->{units}, use_bias={use_bias}",
                expected, layer.count_params(), "own exactly a (input_dim, units) kernel and a (units,) bias")


def test_frozen_layer_still_counts_its_parameters(make_layer):
    """Freezing a layer does not change ``count_params()`` or ``weights``."""
    layer = _built(make_layer(3))
    before = (layer.count_params(), [id(w) for w in layer.weights])
    layer.trainable = False
    expect_that(layer.count_params() == before[0], "count_params() after freezing", before[0], layer.count_params())
    expect_that([id(w) for w in layer.weights] == before[1], "layer.weights after freezing", "the same variables",
                variable_labels(layer.weights))
