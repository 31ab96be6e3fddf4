"""``RefactoredVersionedDense``: version 2 of ``VersionedDense`` (``mutants/_versioned.py``) rewritten with other ops.

The refactor computes with ``ops.einsum`` and scales with ``*``, where version 1 used ``ops.matmul`` and
``ops.multiply``; its saved contract is version 1's: the same constructor options and config keys, the same
weights in the same order, the same registered name, the same outputs within the dtype's rounding. So the
golden set version 1 wrote (``tests/golden/versioned/RefactoredVersionedDense``) must load, and the whole spec
must pass: what the compatibility area rejects in the mutants of ``mutants/compatibility.py`` is their break of
that contract, not a change of code.
"""

import keras
from keras import ops

from mutants._versioned import VersionedDenseV1, golden_dir


@keras.saving.register_keras_serializable(package="correct_layers")
class RefactoredVersionedDense(VersionedDenseV1):
    """``output_scale * activation(einsum(x, kernel) + bias)``: version 1's layer, computed another way."""

    layer_spec_golden = golden_dir("RefactoredVersionedDense", root="../golden/versioned")
    #: The einsum takes dense inputs only: the refactor claims none of version 1's sparse and ragged capabilities.
    layer_spec_capabilities = ()

    def call(self, inputs):
        if keras.backend.standardize_dtype(inputs.dtype) == "string":
            raise TypeError(f"{type(self).__name__} takes numbers, not strings (seen a string tensor).")
        dtype = self.compute_dtype
        outputs = ops.einsum("...i,io->...o", ops.cast(inputs, dtype), ops.cast(self.kernel, dtype))
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return ops.cast(self.output_scale, dtype) * outputs
