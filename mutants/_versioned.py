"""``VersionedDense`` version 1: the released layer whose saved files the compatibility mutants must still read.

Version 1 is ``layers.OpsDense`` with one option of its own, ``output_scale``, that multiplies the outputs
(``activation(inputs @ kernel + bias) * output_scale``), and it declares a configuration that uses it
(``layer_spec_configurations``), so its golden set covers the option. The class here is not registered: each
version 2 in ``mutants/compatibility.py`` (and the correct refactor in ``tests/correct_layers/versioned_refactor.py``)
has a golden set of its own under ``tests/golden/versioned/<Class>/``, written by ``tools/make_golden.py
--versioned`` with this version 1 registered under the name that version 2's users' files carry
(:data:`SAVED_AS`). Each version 2 names its set with ``layer_spec_golden``.
"""

from __future__ import annotations

from mutants._ops import OpsBase, ops

#: Where each version 2's golden set lies, relative to the files that define them (mutants/, tests/correct_layers/).
GOLDEN_ROOT = "../tests/golden/versioned"
#: Version 2's class -> the registered name version 1 saved its files under (the package of the renamed-package
#: mutant is the old one).
SAVED_AS = {
    "RenamedOptionDense": "mutants>RenamedOptionDense",
    "RenamedPackageDense": "acme_layers>RenamedPackageDense",
    "ScaleDividesDense": "mutants>ScaleDividesDense",
    "RefactoredVersionedDense": "correct_layers>RefactoredVersionedDense",
}


def golden_dir(name: str, root: str = GOLDEN_ROOT) -> str:
    return f"{root}/{name}"


class VersionedDenseV1(OpsBase):
    """Version 1: a dense layer whose outputs are multiplied by ``output_scale`` (after the activation)."""

    layer_spec_configurations = {"scaled": {"output_scale": 2.0}}

    def __init__(self, units, output_scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.output_scale = float(output_scale)

    def scale(self, outputs):
        return ops.multiply(outputs, ops.cast(self.output_scale, outputs.dtype))

    def call(self, inputs):
        return self.scale(super().call(inputs))

    def get_config(self):
        return {**super().get_config(), "output_scale": self.output_scale}
