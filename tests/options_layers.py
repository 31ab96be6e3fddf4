"""A minimal custom layer with two real mistakes, for ``tests/test_options.py`` (not a mutant: it makes two).

``BrokenSimpleDense(units, activation=None)`` keeps any ``units`` and drops masks; otherwise it is the correct
``tests/correct_layers/minimal_activation.py:SimpleDense``.
"""

from tests.correct_layers.minimal_activation import SimpleDense


class BrokenSimpleDense(SimpleDense):
    """SimpleDense without its units check and without supports_masking."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(3, activation=activation, **kwargs)
        self.units = units  # whatever was given: 0, -1, 2.5
        self.supports_masking = False
