"""What every backend's contenders share: the training step's learning rate and the peak matmul's check.

A leaf under the contenders: :mod:`.contenders` (TensorFlow) and :mod:`.contenders_jax` both import it, so
neither imports the other for it.
"""

from __future__ import annotations

from spec_tests.harness.bench.cases import PEAK_N
from spec_tests.helpers import expect_that

#: The SGD step size of the timed training step.
LEARNING_RATE = 0.01


def check_peak(result) -> None:
    expect_that(tuple(result.shape) == (PEAK_N, PEAK_N), "peak matmul output shape", (PEAK_N, PEAK_N), tuple(result.shape))


__all__ = ["LEARNING_RATE", "check_peak"]
