"""The executable spec for custom Keras dense layers: one module per area, one clause per test.

From Python (the in-process API, :mod:`spec_tests.harness.api`)::

    import spec_tests

    result = spec_tests.check("mypkg.layers:MyDense", areas=["bias"])   # or the class itself
    result.conforms, result.clauses, result.render_markdown()

    @spec_tests.parametrize_with_clauses([MyDense, FusedDense])        # in your own test file
    def test_spec(clause_check):
        clause_check()
"""

import os

# TensorFlow's C++ start-up chatter hides the test report; users can still override this.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def check(cls_or_spec, profile="dense", areas=(), xfail=None, strict=False):
    """Run the spec on a layer class (or an ``--impl`` string) in this process; returns a ``RunResult``."""
    from spec_tests.harness.api import check as _check

    return _check(cls_or_spec, profile=profile, areas=areas, xfail=xfail, strict=strict)


def parametrize_with_clauses(classes, profile="dense", areas=(), argname="clause_check"):
    """A ``pytest.mark.parametrize`` over (class, clause): each test item asserts one clause for one class."""
    from spec_tests.harness.api import parametrize_with_clauses as _parametrize

    return _parametrize(classes, profile=profile, areas=areas, argname=argname)


__all__ = ["check", "parametrize_with_clauses"]
