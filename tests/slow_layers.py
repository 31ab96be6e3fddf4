"""Correct but deliberately slow dense layers, to calibrate the benchmarks' ratio tracking (not mutants: they pass).

``TwiceMatmulDense`` is the generation's ``Dense`` whose ``call`` computes
``x @ kernel`` twice, as ``(0.25 x) @ kernel + (0.75 x) @ kernel``: the same
result (within float rounding), about twice the matmul work, and two matmuls a
graph optimiser cannot merge (their inputs differ). Wherever the matmul
dominates (the medium and larger shapes), ``impl/raw`` and ``impl/Dense`` are
close to 2 for it, and the ratio comparison must flag it against a run of
``Dense``.
"""

from __future__ import annotations

from spec_tests import generation


class TwiceMatmulDense(generation.Dense):
    """``Dense``, with its matmul done twice (on a quarter and three quarters of the inputs)."""

    def call(self, inputs):
        both = super().call(inputs * 0.25) + super().call(inputs * 0.75)  # x @ k + 2 b (no activation by default)
        return both - self.bias if self.use_bias else both
