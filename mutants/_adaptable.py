"""What the Keras 3-only mutants (quantization, LoRA) are made from: ``layers.AdaptableDense``.

Under legacy Keras 2 there is no ``AdaptableDense``; ``Base`` is then the reference, so that the mutant modules
still import and list their mutants, which ``GENERATIONS = (3,)`` keeps from running there.
"""

from __future__ import annotations

from layers import ADAPTABLE_DENSE_AVAILABLE, MyDenseLayer

if ADAPTABLE_DENSE_AVAILABLE:
    from layers import AdaptableDense as Base
else:  # pragma: no cover - legacy Keras 2
    Base = MyDenseLayer

__all__ = ["Base"]
