"""Bad input: a table of wrong arguments, inputs, build shapes, weight lists and configs.

Each case either expects a refusal, or the behaviour ``keras.layers.Dense`` documents for that odd input
(integer, bool and float64 inputs give a float32 output; numpy arrays work; an empty batch gives an empty
output; NaN and Inf propagate). A refused case is two clauses. MUST: the bad input raises (a bad
constructor argument at the latest when the layer is first called), and nothing changed: the built layer's
weights stay bit-identical and it still gives the same outputs. SHOULD: the refusal has Dense's form, the
stated error type with a message naming the problem, raised by the constructor for a constructor argument;
a layer that refuses in its own words is told so in an advisory. One row is SHOULD only: a Python list,
which Dense refuses (through its input_spec) but which Keras 2 converts for a layer without one, giving
the right outputs.
One exception, measured on Keras 3.15: its ``Layer.set_weights`` assigns weight by weight, so a wrong bias
shape is refused after the kernel was overwritten; that row demands atomicity only where
``generation.SET_WEIGHTS_ATOMIC`` says Keras does (Keras 2).

Every case is a row of :data:`REFUSED` or :data:`ACCEPTED`; its id is the rule it states. Where the
two Keras generations differ (Keras 2 validates more loosely), the row asks :mod:`spec_tests.generation`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import pytest
import tensorflow as tf

from spec_tests import backend, generation
from spec_tests.helpers import (
    assert_close,
    assert_weights_unchanged,
    core,
    dtype_name,
    each_configuration,
    expect_raises,
    expect_raises_naming,
    expect_that,
    expected_output,
    fail,
    kernel_of,
    random_array,
    skip_not_offered,
    to_numpy,
    weight_names,
    weight_values,
    with_extras,
)

INPUT_DIM = 5
UNITS = 3
WIDER = 7  # a last dimension the layer was not built for


class Subject:
    """What every case acts on: the layer class, and a layer built for ``INPUT_DIM`` features, made on demand.

    Only cases that act on a built layer (calls, ``set_weights``) pay for building one; it records its
    output for the input ``x`` and its weights before the case acts.
    """

    def __init__(self, make_layer, cls):
        self.make_layer = make_layer
        self.cls = cls
        self.made = []  # layers a case made itself
        self.x = _floats((4, INPUT_DIM), seed=1)
        self._layer = None

    @property
    def built(self) -> bool:
        return self._layer is not None

    def prepare(self) -> None:
        """Build the layer now and record its weights and output, before the case acts."""
        _ = self.layer

    @property
    def layer(self):
        if self._layer is None:
            self._layer = self.make_layer(UNITS)
            self.output = to_numpy(self._layer(self.x)).copy()
            self.weights = weight_values(self._layer)
        return self._layer

    def fresh(self, **kwargs):
        layer = self.make_layer(UNITS, **kwargs)
        self.made.append(layer)
        return layer


@dataclasses.dataclass(frozen=True)
class Case:
    """One row of the table: what to do, and what must happen."""

    id: str  # the rule, "<action> -> <expectation>"
    act: Callable[[Subject], Any]
    raises: type | tuple | None = None  # the error type(s); None: the input is accepted
    names: tuple = ()  # words the message must contain; a tuple entry is a set of alternatives
    expect: Callable[[Subject, Any], None] | None = None  # for accepted rows: checks the result
    after: Callable[[Subject], None] | None = None  # for refused rows: one more check afterwards
    hint: str | None = None
    atomic: bool = True  # a refused row leaves the built layer's weights untouched (see SET_WEIGHTS_ATOMIC)
    must: bool = True  # False: only the SHOULD clause states it (refusing it is Dense's practice; accepting harms no one)
    drop_in: bool = False  # True: Dense's input_spec refuses it; a custom layer (--profile custom) may take it

    @property
    def needs_layer(self) -> bool:
        return getattr(self.act, "needs_layer", False)

    @property
    def action(self) -> str:
        """What the case does: its id up to the arrow (``init(units=-1)``)."""
        return self.id.split(" -> ")[0]

    def refused_by_first_use(self, subject):
        """Act; a constructor or ``from_config`` row also uses the layer it made, as a program would next."""
        made = self.act(subject)
        if getattr(self.act, "makes_layer", False):
            return made(subject.x)
        return made


# ----------------------------------------------------------------------------------------------------
# Actions
# ----------------------------------------------------------------------------------------------------


def makes_layer(act):
    """Marks an action that makes a layer (a constructor, ``from_config``): a refusal may wait for its first use."""
    act.makes_layer = True
    return act


def construct(**kwargs):
    return makes_layer(lambda s: s.fresh(**kwargs))


def construct_with_units(units):
    def act(s):
        layer = s.make_layer(units)
        s.made.append(layer)
        return layer

    return makes_layer(act)


def on_built_layer(act):
    act.needs_layer = True
    return act


def call_with(make_input):
    return on_built_layer(lambda s: s.layer(make_input()))


def rank_one_without_bias(s):
    """A layer without bias, built on a batch, then given one unbatched vector: only the input's rank is wrong."""
    layer = s.fresh(use_bias=False)
    layer(s.x)
    return layer(tf.constant(_floats((INPUT_DIM,))))


def build_with(shape):
    return lambda s: s.fresh().build(shape)


def set_weights_with(make_arrays, built=True):
    def act(s):
        layer = s.layer if built else s.fresh()
        return layer.set_weights(with_extras(layer, make_arrays()))  # declared extra weights keep their values

    return on_built_layer(act) if built else act


def from_config_with(change):
    def act(s):
        config = dict(s.fresh().get_config())
        change(config)
        return s.cls.from_config(config)

    return makes_layer(act)


def _without(key):
    return lambda config: config.pop(key, None)


def _with(**entries):
    return lambda config: config.update(entries)


def _floats(shape, seed=7, dtype="float32"):
    return random_array(shape, seed, dtype)


def _with_at_origin(value):
    """A (3, INPUT_DIM) input whose first element is ``value`` (NaN, Inf...)."""

    def make():
        x = _floats((3, INPUT_DIM))
        x[0, 0] = value
        return x

    return make


# ----------------------------------------------------------------------------------------------------
# Checks of accepted rows and of the state after a refusal
# ----------------------------------------------------------------------------------------------------


def output_is_float32_closed_form(make_input):
    """The output is float32 and equals ``x @ kernel + bias`` computed in float64 from the input's values."""

    def expect(s, output):
        x = to_numpy(make_input())
        expect_that(dtype_name(output.dtype) == "float32", "output dtype", "float32 (the layer's compute dtype)",
                    dtype_name(output.dtype),
                    "cast the inputs to self.compute_dtype in call; tf.matmul does not promote int, bool or float64")
        with np.errstate(invalid="ignore", over="ignore"):
            expected = expected_output(s.layer, x.astype(np.float64))
        assert_close(output, expected, "output", rtol=1e-5, atol=1e-5,
                     hint="cast the inputs, not the kernel, and never sanitize NaN or Inf: Dense propagates them")
        assert_weights_unchanged(s.layer, s.weights, "weights after the call")

    return expect


def has_weights(expected_names):
    def expect(s, layer):
        layer.build((None, INPUT_DIM))
        expect_that(weight_names(layer) == expected_names, "weights after build", expected_names, weight_names(layer),
                    "create the bias only when use_bias is truthy, as Dense does (`if self.use_bias:`)")

    return expect


def keeps_name(name):
    def expect(s, layer):
        expect_that(layer.name == name, "layer.name", name, layer.name)

    return expect


def weights_became(make_arrays):
    def expect(s, _):
        arrays = make_arrays()
        seen = [to_numpy(weight) for weight in core(s.layer.weights)]
        for i, (array, value) in enumerate(zip(arrays, seen)):
            expect_that(value.dtype == np.float32, f"weight {i} dtype after set_weights", "float32", value.dtype)
            expect_that(np.array_equal(value, array.astype(np.float32)), f"weight {i} after set_weights",
                        "the given values cast to float32", "other values")

    return expect


def made_layer_left_clean(s):
    """The layer whose build or set_weights failed owns no weights, and a later valid build works as usual."""
    layer = s.made[-1]
    expect_that(weight_names(layer) == [], "weights of the layer after the failed step", [], weight_names(layer),
                "check the input shape before the first add_weight, so a failed build leaves nothing half made")
    layer.build((None, INPUT_DIM))
    expect_that(weight_names(layer) == ["kernel", "bias"], "weights after a valid build that follows the failed one",
                ["kernel", "bias"], weight_names(layer))


# ----------------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------------

ID_HINT = "resolve identifiers in __init__ with keras.{kind}.get(...), as Dense does"
KWARGS_HINT = ("pass **kwargs on to super().__init__, so Keras checks name, dtype and trainable "
               "and refuses unknown keywords")
NDIM_HINT = "set self.input_spec = InputSpec(min_ndim=2) in __init__, so Keras refuses other ranks before call"
AXIS_HINT = "set self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim}) in build"
SET_WEIGHTS_HINT = "do not override set_weights: Layer.set_weights checks every count and shape before assigning any"
FROM_CONFIG_HINT = "let from_config call cls(**config), so the constructor refuses what it does not know"
UNKNOWN_HINT = "a kernel needs a known last dimension; raise before add_weight"
#: Words of which a refusal of an unknown dimension names one: Keras 3 says "fully-defined (no `None` dimensions)",
#: Keras 2 "should be defined. Found None"; a layer's own "must be known" says the same.
UNKNOWN_WORDS = ("none", "unknown", "known", "defined")

REFUSED = [
    # --- constructor arguments ---
    Case("init(units=-1) -> ValueError naming units", construct_with_units(-1), ValueError, ("units",),
         hint="validate units in __init__"),
    *(
        [
            Case("init(units=3.0) -> ValueError naming units", construct_with_units(3.0), ValueError, ("units",),
                 hint="units must be an int; int(units) silently accepts 3.0"),
            Case("init(units=(3,)) -> ValueError naming units", construct_with_units((3,)), ValueError, ("units",),
                 hint="validate units in __init__ with a ValueError naming it"),
        ]
        if generation.STRICT_UNITS
        else []
    ),
    *(
        [
            Case(f"init({argument}='no_such_regularizer') -> ValueError naming it",
                 construct(**{argument: "no_such_regularizer"}), ValueError, ("no_such_regularizer",),
                 hint=ID_HINT.format(kind="regularizers"))
            for argument in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
        ]
        if generation.REGULARIZER_CHECKED_AT_CONSTRUCTION
        else []
    ),
    *(
        Case(f"init({argument}='no_such_constraint') -> ValueError naming it",
             construct(**{argument: "no_such_constraint"}), ValueError, ("no_such_constraint",),
             hint=ID_HINT.format(kind="constraints"))
        for argument in ("kernel_constraint", "bias_constraint")
    ),
    Case("init(activation=42) -> error naming 42", construct(activation=42), (TypeError, ValueError), ("42",),
         hint=ID_HINT.format(kind="activations")),
    Case("init(dtype='float17') -> error naming float17", construct(dtype="float17"),
         generation.BASE_ARGUMENT_ERROR, ("float17",), hint=KWARGS_HINT),
    Case("init(dtype='mixed_nonsense') -> error naming mixed_nonsense", construct(dtype="mixed_nonsense"),
         generation.BASE_ARGUMENT_ERROR, ("mixed_nonsense",), hint=KWARGS_HINT),
    Case("init(name=5) -> error naming name", construct(name=5), generation.BASE_ARGUMENT_ERROR, ("name",),
         hint=KWARGS_HINT),
    Case("init(trainable='yes') -> error naming trainable", construct(trainable="yes"),
         generation.BASE_ARGUMENT_ERROR, ("trainable",), hint=KWARGS_HINT),
    Case("init(kernel_size=3, an unknown keyword) -> error naming kernel_size", construct(kernel_size=3),
         generation.BASE_ARGUMENT_ERROR, ("kernel_size",), hint=KWARGS_HINT),
    *(
        []
        if generation.NAME_MAY_CONTAIN_SLASH
        else [Case("init(name='dense/one') -> ValueError naming name and '/'", construct(name="dense/one"),
                   ValueError, ("name", "/"), hint=KWARGS_HINT)]
    ),
    # --- call inputs ---
    Case("call(rank-0 input) -> ValueError naming ndim", call_with(lambda: tf.constant(1.0)), ValueError,
         (("ndim", "rank"),), hint=NDIM_HINT),
    Case("call(rank-1 input, use_bias=False) -> ValueError naming ndim", rank_one_without_bias, ValueError,
         (("ndim", "rank"),), hint=NDIM_HINT, drop_in=True),
    Case("call(rank-1 input) -> ValueError naming ndim", call_with(lambda: tf.constant(_floats((INPUT_DIM,)))),
         ValueError, (("ndim", "rank"),), hint=NDIM_HINT, drop_in=True),
    Case(f"call(last dimension {WIDER}, built for {INPUT_DIM}) -> ValueError naming both",
         call_with(lambda: tf.constant(_floats((2, WIDER)))), ValueError, (str(INPUT_DIM), str(WIDER)),
         hint=AXIS_HINT),
    Case(f"call(rank-3 input, last dimension {WIDER}) -> ValueError naming both",
         call_with(lambda: tf.constant(_floats((2, 2, WIDER)))), ValueError, (str(INPUT_DIM), str(WIDER)),
         hint=AXIS_HINT),
    Case("call(string tensor) -> error naming the dtype string",
         call_with(lambda: tf.constant([["a"] * INPUT_DIM] * 2)), generation.NON_NUMERIC_INPUT_ERRORS, (backend.STRING_DTYPE_WORDS,),
         hint="check inputs.dtype in call and refuse non-numeric dtypes with an error naming the dtype"),
    Case("call(numpy array of str) -> error naming the dtype string",
         call_with(lambda: np.array([["a"] * INPUT_DIM] * 2)), generation.NON_NUMERIC_INPUT_ERRORS, (backend.STRING_DTYPE_WORDS,),
         hint="check inputs.dtype in call and refuse non-numeric dtypes with an error naming the dtype"),
    Case("call(Python nested list) -> ValueError naming tensors",
         call_with(lambda: _floats((2, INPUT_DIM)).tolist()), ValueError, ("tensor",),
         hint="declare an input_spec, as Dense does, so Keras refuses a list before call", must=False),
    Case("call(None) -> error naming tensors", call_with(lambda: None), (TypeError, ValueError), ("tensor",)),
    # --- build shapes with unknown dimensions ---
    *(
        Case(f"build({label}) -> ValueError saying the last dimension is not known", build_with(shape), ValueError,
             (UNKNOWN_WORDS,), after=made_layer_left_clean, hint=UNKNOWN_HINT)
        for label, shape in (("(None,)", (None,)), ("(2, None, None)", (2, None, None)),
                             ("TensorShape(None), unknown rank", tf.TensorShape(None)))
    ),
    # --- set_weights ---
    Case("set_weights([kernel]) -> ValueError naming the counts 1 and 2",
         set_weights_with(lambda: [_floats((INPUT_DIM, UNITS))]), ValueError, ("1", "2"), hint=SET_WEIGHTS_HINT),
    Case("set_weights([kernel, bias, bias]) -> ValueError naming the counts 3 and 2",
         set_weights_with(lambda: [_floats((INPUT_DIM, UNITS)), _floats((UNITS,)), _floats((UNITS,))]),
         ValueError, ("3", "2"), hint=SET_WEIGHTS_HINT),
    Case("set_weights(kernel of shape (6, 3)) -> ValueError naming (6, 3)",
         set_weights_with(lambda: [_floats((6, UNITS)), _floats((UNITS,))]), ValueError, ("(6, 3)",),
         hint=SET_WEIGHTS_HINT),
    Case(f"set_weights(kernel of shape ({UNITS}, {INPUT_DIM}), the transpose) -> ValueError naming ({UNITS}, {INPUT_DIM})",
         set_weights_with(lambda: [_floats((UNITS, INPUT_DIM)), _floats((UNITS,))]), ValueError,
         (f"({UNITS}, {INPUT_DIM})",),
         hint=SET_WEIGHTS_HINT + "; never reshape a given array to fit: a transposed (units, input_dim) kernel, "
         "as PyTorch stores it, has the right size and the wrong layout"),
    Case("set_weights(bias of shape (4,)) -> ValueError naming (4,)",
         set_weights_with(lambda: [_floats((INPUT_DIM, UNITS)), _floats((4,))]), ValueError, ("(4,)",),
         hint=SET_WEIGHTS_HINT, atomic=generation.SET_WEIGHTS_ATOMIC),
    Case("set_weights([bias, kernel], swapped) -> ValueError naming a shape",
         set_weights_with(lambda: [_floats((UNITS,)), _floats((INPUT_DIM, UNITS))]), ValueError,
         (("(3,)", "(5, 3)"),), hint=SET_WEIGHTS_HINT),
    Case("set_weights(arrays of str) -> ValueError naming string",
         set_weights_with(lambda: [np.full((INPUT_DIM, UNITS), "a"), np.full((UNITS,), "a")]), ValueError,
         (backend.STRING_DTYPE_WORDS,), hint=SET_WEIGHTS_HINT),
    Case("set_weights on an unbuilt layer -> ValueError naming weights",
         set_weights_with(lambda: [_floats((INPUT_DIM, UNITS)), _floats((UNITS,))], built=False), ValueError,
         ("weights",), after=made_layer_left_clean, hint=SET_WEIGHTS_HINT),
    # --- from_config ---
    Case("from_config(unknown key no_such_argument) -> error naming it",
         from_config_with(_with(no_such_argument=1)), (TypeError, ValueError), ("no_such_argument",),
         hint=FROM_CONFIG_HINT),
    Case("from_config(config without units) -> error naming units", from_config_with(_without("units")),
         (TypeError, ValueError), ("units",), hint=FROM_CONFIG_HINT),
    Case("from_config(units=-1) -> error naming units", from_config_with(_with(units=-1)),
         (TypeError, ValueError), ("units",), hint=FROM_CONFIG_HINT),
    Case("from_config(activation='no_such_activation') -> error naming it",
         from_config_with(_with(activation="no_such_activation")), (TypeError, ValueError),
         ("no_such_activation",), hint=FROM_CONFIG_HINT),
]


def _call_case(label, make_input):
    return Case(f"call({label}) -> float32 output equal to the closed form", call_with(make_input),
                expect=output_is_float32_closed_form(make_input))


ACCEPTED = [
    # --- constructor arguments Dense reads loosely ---
    Case("init(use_bias=0) -> no bias (use_bias is read by truthiness)", construct(use_bias=0),
         expect=has_weights(["kernel"])),
    Case("init(use_bias=1) -> kernel and bias", construct(use_bias=1), expect=has_weights(["kernel", "bias"])),
    *(
        [Case("init(name='dense/one') -> accepted, name kept (Keras 2)", construct(name="dense/one"),
              expect=keeps_name("dense/one"))]
        if generation.NAME_MAY_CONTAIN_SLASH
        else []
    ),
    # --- call inputs Dense converts ---
    _call_case("int32 tensor", lambda: tf.constant(np.arange(2 * INPUT_DIM, dtype=np.int32).reshape(2, INPUT_DIM) - 4)),
    _call_case("int64 tensor", lambda: tf.constant(np.arange(2 * INPUT_DIM, dtype=np.int64).reshape(2, INPUT_DIM) - 4)),
    _call_case("uint8 tensor", lambda: tf.constant(np.arange(2 * INPUT_DIM, dtype=np.uint8).reshape(2, INPUT_DIM))),
    _call_case("bool tensor", lambda: tf.constant(np.arange(2 * INPUT_DIM).reshape(2, INPUT_DIM) % 3 == 0)),
    _call_case("float64 tensor", lambda: tf.constant(_floats((2, INPUT_DIM), dtype="float64"))),
    _call_case("float16 tensor", lambda: tf.constant(_floats((2, INPUT_DIM), dtype="float16"))),
    _call_case("numpy float32 array", lambda: _floats((2, INPUT_DIM))),
    _call_case("numpy float64 array", lambda: _floats((2, INPUT_DIM), dtype="float64")),
    _call_case("numpy int64 array", lambda: np.arange(2 * INPUT_DIM, dtype=np.int64).reshape(2, INPUT_DIM)),
    _call_case("empty batch (0, 5), giving (0, 3)", lambda: np.zeros((0, INPUT_DIM), np.float32)),
    _call_case("empty inner axis (2, 0, 5), giving (2, 0, 3)", lambda: np.zeros((2, 0, INPUT_DIM), np.float32)),
    _call_case("NaN in row 0, which propagates to row 0 only", _with_at_origin(np.nan)),
    _call_case("+Inf in row 0, which propagates as +-Inf", _with_at_origin(np.inf)),
    _call_case("-Inf in row 0, which propagates as +-Inf", _with_at_origin(-np.inf)),
    # --- set_weights converts ---
    Case("set_weights(float64 arrays) -> the values, cast to float32",
         set_weights_with(lambda: [_floats((INPUT_DIM, UNITS), 3, "float64"), _floats((UNITS,), 4, "float64")]),
         expect=weights_became(lambda: [_floats((INPUT_DIM, UNITS), 3, "float64"), _floats((UNITS,), 4, "float64")])),
]


@pytest.fixture
def subject(make_layer, layer_cls):
    return Subject(make_layer, layer_cls)


@pytest.mark.parametrize("case", [case for case in REFUSED if case.must], ids=lambda case: f"{case.action} -> refused")
def test_bad_input_is_refused_and_changes_nothing(subject, case, profile):
    """A bad argument, input, build shape, weight list or config raises an exception (a bad constructor argument at the latest when the layer is first called), and a layer already built keeps bit-identical weights and outputs."""
    if case.drop_in and profile == "custom":
        skip_not_offered(f"{case.action} is refused by Dense's input_spec; a custom layer may take it")
    if case.needs_layer:
        subject.prepare()
    expect_raises(lambda: case.refused_by_first_use(subject), case.action, case.hint)
    if case.after is not None:
        case.after(subject)
    if not (subject.built and case.atomic):
        return
    assert_weights_unchanged(subject.layer, subject.weights, f"weights after {case.action} failed")
    again = to_numpy(subject.layer(subject.x))
    expect_that(np.array_equal(again, subject.output), "output on the reference input after the failed step",
                "bit-identical to the output before it", f"max abs diff {np.nanmax(np.abs(again - subject.output)):.3g}",
                "validate everything before assigning to any variable or attribute the call reads")


#: First calls of an unbuilt layer with an input of the wrong rank. The vector is WIDER wide, not INPUT_DIM: a
#: layer that builds from it before refusing it is then built for the wrong width. Rank 1 also without a bias,
#: where no bias_add stands in the way of a contraction that silently succeeds.
FIRST_CALLS = {
    "rank-0 input": (lambda: tf.constant(1.0), {}, False),
    f"rank-1 input of width {WIDER}": (lambda: tf.constant(_floats((WIDER,))), {}, True),
    f"rank-1 input of width {WIDER}, use_bias=False": (lambda: tf.constant(_floats((WIDER,))), {"use_bias": False},
                                                        True),
}
FIRST_CALL_HINT = (NDIM_HINT + ": Keras checks it before build; an input_spec set only in build, or a rank check "
                   "inside call, comes after the refused input has built the weights")


@pytest.mark.parametrize("label", FIRST_CALLS)
def test_bad_first_call_is_refused_and_leaves_the_layer_unbuilt(make_layer, label, profile):
    """A first call with an input of rank 0 or 1 raises before building anything, so the layer has no weights and the next call with a valid batch builds it for that batch."""
    make_input, options, drop_in = FIRST_CALLS[label]
    if drop_in and profile == "custom":
        skip_not_offered(f"a first call with a {label} is refused by Dense's input_spec; a custom layer may take it")
    layer = make_layer(UNITS, **options)
    expect_raises(lambda: layer(make_input()), f"first call of an unbuilt layer with a {label}", FIRST_CALL_HINT)
    expect_that(weight_names(layer) == [], f"weights after the refused first call with a {label}", [],
                weight_names(layer), FIRST_CALL_HINT)
    x = _floats((4, INPUT_DIM), seed=1)
    try:
        output = layer(x)
    except Exception as exc:  # noqa: BLE001 - reported as the clause's failure
        fail(f"a valid (4, {INPUT_DIM}) call after the refused first call", "the layer builds for it and computes",
             f"{type(exc).__name__}: {exc}".splitlines()[0][:300], FIRST_CALL_HINT)
    expect_that(tuple(kernel_of(layer).shape) == (INPUT_DIM, UNITS), "kernel shape after the valid call",
                (INPUT_DIM, UNITS), tuple(kernel_of(layer).shape), FIRST_CALL_HINT)
    expected = expected_output(layer, x.astype(np.float64))
    assert_close(output, expected, "output of the valid call after the refused first call", rtol=1e-5, atol=1e-5)


@pytest.mark.should
@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.id)
def test_bad_input_error_names_the_problem(subject, case):
    """The refusal has Dense's form: the error type Dense raises, a message naming the offending value, and a bad constructor argument refused by the constructor itself."""
    if case.needs_layer:
        subject.prepare()
    expect_raises_naming(lambda: case.act(subject), case.raises, case.names, what=case.id, hint=case.hint)


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda case: case.id)
def test_odd_input_gets_dense_behaviour(subject, case):
    """An odd but valid argument or input gets keras.layers.Dense's behaviour: float32 closed-form outputs for int, bool, float64 and numpy inputs, empty outputs for empty inputs, NaN and Inf propagated."""
    if case.needs_layer:
        subject.prepare()
    result = case.act(subject)
    case.expect(subject, result)


# --- the layer's own options: the values it declares invalid -------------------------------------------------

INVALID_ATTRIBUTE = "layer_spec_invalid_configurations"
OWN_OPTION_HINT = "validate the layer's own options in __init__ and raise ValueError (or TypeError) naming the option"


def test_declared_invalid_configurations_are_refused(make_layer, declared_invalid_configurations):
    """Each configuration the layer declares invalid (``layer_spec_invalid_configurations``: bad values of its own options) is refused, by the constructor or at the latest by the first call."""
    x = _floats((2, INPUT_DIM))
    for name, options in each_configuration(declared_invalid_configurations, INVALID_ATTRIBUTE):
        expect_raises(lambda options=options: make_layer(UNITS, **options)(x),
                      f"the declared invalid configuration {name!r} {options}, made and called", OWN_OPTION_HINT)


@pytest.mark.should
def test_declared_invalid_configurations_are_refused_by_the_constructor_naming_the_option(
        make_layer, declared_invalid_configurations):
    """Each declared invalid configuration is refused by the constructor itself, with a ValueError or TypeError whose message names the option."""
    for name, options in each_configuration(declared_invalid_configurations, INVALID_ATTRIBUTE):
        expect_raises_naming(lambda options=options: make_layer(UNITS, **options), (ValueError, TypeError),
                             [tuple(options)], f"the constructor with the declared invalid configuration {name!r}",
                             OWN_OPTION_HINT)
