"""Fixtures every clause receives. The implementation is chosen in the plugin, never here.

Contract of the fixtures:

* ``layer_impl``: the implementation under test (``spec_tests.harness.impls.SpecState``); parametrized by the
  harness when a run checks several, so every clause runs once per implementation.
* ``layer_cls``: the class under test (for a factory: the class of the layers it makes).
* ``profile``: ``"dense"`` or ``"seed"``.
* ``make_layer(units, **kwargs)``: a fresh, unbuilt instance, from the class or the factory. Under the seed
  profile it passes ``units`` positionally and nothing else.
* ``expected_auto_name``: the snake_case name Keras gives the first instance.

Every clause starts from a clean Keras session (name counters reset, global
dtype policy float32) with every random generator seeded, and leaves the
process's Keras and random state as it found it (the spec may run inside a
project's own tests, or through the in-process API).
"""

from __future__ import annotations

import gc  # noqa: I001
from spec_tests import devices  # first: TensorFlow's devices are fixed once its runtime starts
devices.prepare()  # two logical CPUs for the distribution clauses (not in a guest run); changes nothing else
import pytest

from spec_tests import forward, generation
from spec_tests.harness import options, selection
from spec_tests.helpers import assert_close, fail, skip_not_offered, to_numpy

SEED = 1234
#: The declaration of configurations the layer refuses (docs/forward-contract.md).
INVALID_CONFIGURATIONS = "layer_spec_invalid_configurations"


@pytest.fixture(scope="session", autouse=True)
def _frozen_heap():
    """Python's full garbage collections skip the objects alive when the run starts (TensorFlow's and Keras's
    modules: some 400 000, none of them garbage), which each of them would otherwise walk again (0.3-0.5 s)."""
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def layer_impl(request):
    """The implementation under test: the parameter when the run checks several, else the run's only one."""
    return getattr(request, "param", None) or selection.resolve(request.config)


@pytest.fixture(scope="session", autouse=True)
def _forward_contract(layer_impl):
    """The run's forward contract from its start, before any module-scoped fixture reads weights (a process that
    runs the spec again, a pool worker, must not see the previous run's)."""
    forward.use(forward.of(layer_impl))
    yield
    forward.use(forward.Forward())


@pytest.fixture(autouse=True)
def _clean_keras_session(layer_impl):
    saved = generation.save_global_state()
    started = generation.fresh_session(SEED)
    forward.use(forward.of(layer_impl))  # what the value and gradient clauses compare with (spec_tests/forward.py)
    yield
    generation.end_session(started, saved)


@pytest.fixture(scope="session")
def layer_cls(layer_impl):
    return layer_impl.cls


@pytest.fixture(scope="session")
def profile(layer_impl):
    return layer_impl.profile


@pytest.fixture
def make_layer(layer_impl, layer_cls, profile):
    def make(units, **kwargs):
        if profile == "seed":
            if kwargs:
                raise AssertionError(f"clause bug: the seed profile takes no options, got {sorted(kwargs)}")
            return layer_impl.make(units)
        if profile == "custom":  # a clause that needs an option the layer does not take is not run
            offered = options.offer(layer_impl.make, layer_impl.options, layer_cls).options
            missing = [name for name in kwargs if name in options.DENSE_OPTIONS and name not in offered]
            if missing:
                skip_not_offered(f"{', '.join(missing)} (the constructor does not take it)")
        return layer_impl.make(units, **kwargs)

    return make


@pytest.fixture
def own_default(layer_impl, layer_cls, profile, make_layer):
    """``own_default(option)``: whether the layer's default for ``option`` differs from keras.layers.Dense's.

    Under ``dense`` a differing default fails the clause ("not a drop-in keras.layers.Dense: default ... is ...":
    one cause, whichever clause). Under ``custom`` it checks that the layer honours its own default instead (the
    same initial weights, from one seed, with the option left out and with the default passed) and returns True:
    the clause's checks of Dense's default are not this layer's contract.
    """

    def weights(**kwargs):
        generation.set_seed(SEED)
        layer = make_layer(3, **kwargs)
        layer.build((None, 4))
        return [to_numpy(weight) for weight in layer.weights]

    def differs(option):
        offered = options.offer(layer_impl.make, layer_impl.options, layer_cls)
        mine, dense = options.default_of(offered, option), options.DENSE_DEFAULTS[option]
        if profile == "seed" or options.same_default(option, mine, dense):
            return False
        if profile != "custom":
            fail(f"{options.NOT_DROP_IN}: default {option} is {mine!r}", f"Dense's {dense!r}", repr(mine),
                 hint="use Dense's default, or run the spec with --profile custom if the layer's default is by design")
        for left_out, passed in zip(weights(), weights(**{option: mine}), strict=True):
            assert_close(left_out, passed, f"initial weights with {option} left out, against {option}={mine!r}",
                         rtol=0, atol=0, hint=f"use the constructor's own default for {option} when it is left out")
        return True

    return differs


@pytest.fixture(scope="session")
def declared_configurations(layer_impl) -> dict:
    """The layer's own configurations, ``{name: constructor options}``: the ones its golden sets use
    (``layer_spec_configurations`` on the factory or the class, else the ini key or its variable). The value,
    gradient and serialization clauses run under each, so that the code of the layer's own options is reached."""
    from spec_tests.harness import golden, golden_options

    config = selection.run_config()
    declared = layer_impl.declared(golden.CONFIGURATIONS_ATTRIBUTE, None) or (
        golden_options.ini_configurations(config) if config is not None else {})
    return {name: dict(kwargs) for name, kwargs in dict(declared or {}).items()}


@pytest.fixture(scope="session")
def declared_invalid_configurations(layer_impl) -> dict:
    """Configurations the layer declares it refuses, ``{name: constructor options}``
    (``layer_spec_invalid_configurations``): values of its own options that no caller may pass."""
    return {name: dict(kwargs) for name, kwargs in dict(layer_impl.declared(INVALID_CONFIGURATIONS, None) or {}).items()}


@pytest.fixture(scope="session")
def declared_own_defaults(layer_impl) -> dict:
    """The defaults the layer declares for its own options (``layer_spec_defaults`` entries that are not Dense's)."""
    declared = dict(layer_impl.declared(options.DEFAULTS_ATTRIBUTE, None) or {})
    return {name: value for name, value in declared.items()
            if name not in options.DENSE_OPTIONS and name not in options.BASE_OPTIONS}


@pytest.fixture
def expected_auto_name(layer_cls):
    return generation.snake_case(layer_cls.__name__)
