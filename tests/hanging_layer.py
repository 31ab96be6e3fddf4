"""A layer that hangs in one case (tests/test_time_limit.py): its ``build`` never ends when ``units == 3``."""

from __future__ import annotations

from spec_tests import generation


class HangsOnThreeUnits(generation.Dense):
    """The generation's ``Dense``, except that building it with three units loops forever."""

    def build(self, input_shape):
        while self.units == 3:  # the mistake: a loop that never ends, in one case only
            pass
        super().build(input_shape)
