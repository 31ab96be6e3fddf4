"""A layer that hangs in one case (tests/test_time_limit.py): its ``build`` never ends when ``units == 3``."""

from __future__ import annotations

import time

from spec_tests import generation


class HangsOnThreeUnits(generation.Dense):
    """The generation's ``Dense``, except that building it with three units waits forever."""

    def build(self, input_shape):
        # The mistake: a wait that never ends, in one case only. It sleeps rather than spins, so the clauses that
        # hang do not keep one of CI's two cores busy for their time limit.
        while self.units == 3: time.sleep(0.01)  # noqa: E701 (one line: the frame the time limit names)
        super().build(input_shape)
