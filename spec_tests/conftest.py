"""Fixtures every clause receives. The implementation is chosen in the plugin, never here.

Contract of the fixtures:

* ``layer_impl``: the implementation under test (``spec_tests.harness.impls.SpecState``); parametrized by the
  harness when a run checks several, so every clause runs once per implementation.
* ``layer_cls``: the class under test.
* ``profile``: ``"dense"`` or ``"seed"``.
* ``make_layer(units, **kwargs)``: a fresh, unbuilt instance. Under the seed
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

from spec_tests import generation
from spec_tests.harness import selection

SEED = 1234

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


@pytest.fixture(autouse=True)
def _clean_keras_session(layer_impl):
    saved = generation.save_global_state()
    started = generation.fresh_session(SEED)
    yield
    generation.end_session(started, saved)


@pytest.fixture(scope="session")
def layer_cls(layer_impl):
    return layer_impl.cls


@pytest.fixture(scope="session")
def profile(layer_impl):
    return layer_impl.profile


@pytest.fixture
def make_layer(layer_cls, profile):
    def make(units, **kwargs):
        if profile == "seed":
            if kwargs:
                raise AssertionError(f"clause bug: the seed profile takes no options, got {sorted(kwargs)}")
            return layer_cls(units)
        return layer_cls(units, **kwargs)

    return make


@pytest.fixture
def expected_auto_name(layer_cls):
    return generation.snake_case(layer_cls.__name__)
