"""Construction: what a freshly made layer is, and which arguments it refuses."""

from __future__ import annotations

import pytest

from spec_tests import generation
from spec_tests.helpers import dtype_name, expect_raises, expect_that, random_inputs

BAD_UNITS = [0, -3, 2.5, None, "64", [4]]
# Keras 2's Dense casts units with int(), so that generation only promises to refuse negatives.
REFUSED_UNITS = BAD_UNITS if generation.STRICT_UNITS else [-3]


@pytest.mark.seed
def test_no_weights_before_build(make_layer):
    """A new layer owns no weights and is not built until it sees an input shape."""
    layer = make_layer(4)
    expect_that(layer.built is False, "layer.built before any call", False, layer.built)
    expect_that(layer.weights == [], "layer.weights before any call", [], [w.name for w in layer.weights],
                "create weights in build(input_shape), not in __init__: the input size is not known yet")
    expect_that(layer.trainable_variables == [], "layer.trainable_variables before any call", [],
                [w.name for w in layer.trainable_variables])


def _made_and_used(make_layer, units=3, **kwargs):
    """Construct, then call on a (2, 4) input: what a program does next with a new layer."""
    layer = make_layer(units, **kwargs)
    return layer(random_inputs((2, 4)))


@pytest.mark.parametrize("units", REFUSED_UNITS, ids=lambda u: f"units={u!r}")
def test_invalid_units_are_refused(make_layer, units):
    """An invalid ``units`` (not a positive int) is refused with an exception, at the latest when the layer is first called: no layer of that width computes."""
    expect_raises(lambda: _made_and_used(make_layer, units), f"Cls(units={units!r}) then a call",
                  "validate units in __init__, e.g. `if not isinstance(units, int) or units <= 0: raise ValueError(...)`")


@pytest.mark.should
@pytest.mark.parametrize("units", REFUSED_UNITS, ids=lambda u: f"units={u!r}")
def test_invalid_units_raise_value_error_naming_units(make_layer, units):
    """An invalid ``units`` (not a positive int) raises ValueError at construction, and the message names ``units``."""
    try:
        make_layer(units)
    except ValueError as exc:
        expect_that("units" in str(exc), "ValueError message", "a message naming `units`", repr(str(exc)))
    except Exception as exc:  # noqa: BLE001 - the type itself is the finding
        raise AssertionError(
            f"units={units!r}: expected ValueError naming `units`, seen {type(exc).__name__}: {exc}\n"
            "hint: validate units in __init__, e.g. `if not isinstance(units, int) or units <= 0: raise ValueError(...)`"
        ) from exc
    else:
        raise AssertionError(
            f"units={units!r}: expected ValueError naming `units`, seen the layer constructed without error\n"
            "hint: validate units in __init__; keras.layers.Dense refuses it"
        )


def test_positive_int_units_accepted(make_layer):
    """A positive int ``units`` is accepted and exposed as ``layer.units``."""
    layer = make_layer(7)
    expect_that(getattr(layer, "units", None) == 7, "layer.units", 7, getattr(layer, "units", "<missing>"))


UNKNOWN_IDENTIFIERS = [
    {"activation": "no_such_activation"},
    {"kernel_initializer": "no_such_initializer"},
    {"bias_initializer": "no_such_initializer"},
]


@pytest.mark.parametrize("kwargs", UNKNOWN_IDENTIFIERS, ids=lambda kw: next(iter(kw)))
def test_unknown_identifier_is_refused(make_layer, kwargs):
    """An unknown activation or initializer identifier is refused with an exception, at the latest when the layer is first called."""
    (argument, value), = kwargs.items()
    expect_raises(lambda: _made_and_used(make_layer, **kwargs), f"Cls(3, {argument}={value!r}) then a call",
                  f"resolve identifiers in __init__ with keras.{argument.split('_')[-1]}s.get(...)")


@pytest.mark.should
@pytest.mark.parametrize("kwargs", UNKNOWN_IDENTIFIERS, ids=lambda kw: next(iter(kw)))
def test_unknown_identifier_raises_at_construction(make_layer, kwargs):
    """An unknown activation or initializer identifier raises when the layer is constructed, not later."""
    (argument, value), = kwargs.items()
    try:
        make_layer(3, **kwargs)
    except (ValueError, TypeError) as exc:
        expect_that(value in str(exc) or argument.split("_")[0] in str(exc).lower(),
                    f"error message for {argument}={value!r}", "a message naming the bad identifier", repr(str(exc)))
    else:
        raise AssertionError(
            f"{argument}={value!r}: expected ValueError at construction, seen no error\n"
            f"hint: resolve identifiers in __init__ with keras.{argument.split('_')[-1]}s.get(...)"
        )


@pytest.mark.parametrize(
    "argument, value, attribute_check",
    [
        ("use_bias", False, lambda layer: layer.use_bias is False),
        ("name", "custom_name", lambda layer: layer.name == "custom_name"),
        ("trainable", False, lambda layer: layer.trainable is False),
    ],
    ids=["use_bias", "name", "trainable"],
)
def test_constructor_arguments_are_stored(make_layer, argument, value, attribute_check):
    """Constructor arguments are kept on the layer under their own names."""
    layer = make_layer(3, **{argument: value})
    expect_that(attribute_check(layer), f"layer.{argument} after {argument}={value!r}", value,
                getattr(layer, argument, "<missing>"))


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_dtype_argument_sets_variable_dtype(make_layer, dtype):
    """``dtype=`` is the dtype of the layer's variables and computation."""
    layer = make_layer(3, dtype=dtype)
    layer.build((2, 4))
    seen = sorted({dtype_name(w.dtype) for w in layer.weights})
    expect_that(seen == [dtype], "weight dtypes", [dtype], seen, "pass dtype through **kwargs to the base Layer")
