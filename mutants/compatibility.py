"""Compatibility mutants: version 2 of ``VersionedDense`` (``mutants/_versioned.py``) no longer reads version 1's files.

Each one conforms to every other area: only the golden set that version 1 wrote (``tests/golden/versioned/``,
named by ``layer_spec_golden``) shows the break. Keras 3 only (``keras.ops``), on TensorFlow and JAX.
"""

from __future__ import annotations

from layers._compat import keras, register_serializable
from mutants._ops import OpsBase, ops
from mutants._versioned import GOLDEN_ROOT, VersionedDenseV1, golden_dir


@register_serializable(package="mutants")
class RenamedOptionDense(VersionedDenseV1):
    """Version 2 renamed its option output_scale to scale without accepting the old name: old configs no longer load."""

    KILLED_BY = ("compatibility",)
    GENERATIONS = (3,)
    layer_spec_golden = golden_dir("RenamedOptionDense")
    layer_spec_configurations = {"scaled": {"scale": 2.0}}

    def __init__(self, units, scale=1.0, **kwargs):
        OpsBase.__init__(self, units, **kwargs)  # an old config's output_scale reaches Keras's Layer, which refuses it
        self.output_scale = float(scale)

    def get_config(self):
        config = super().get_config()
        config["scale"] = config.pop("output_scale")
        return config


@keras.saving.register_keras_serializable(package="acme_nn")
class RenamedPackageDense(VersionedDenseV1):
    """Version 2 is registered under a renamed package (acme_layers became acme_nn): saved files no longer find it."""

    KILLED_BY = ("compatibility",)
    GENERATIONS = (3,)
    #: The package this mutant registers under (the zoo's convention is ``mutants``): its mistake is the package.
    MUTANT_PACKAGE = "acme_nn"
    layer_spec_golden = golden_dir("RenamedPackageDense")


@register_serializable(package="mutants")
class ScaleDividesDense(VersionedDenseV1):
    """Version 2 changed what output_scale means: it now divides the outputs instead of multiplying them."""

    KILLED_BY = ("compatibility",)
    GENERATIONS = (3,)
    layer_spec_golden = golden_dir("ScaleDividesDense")

    def scale(self, outputs):
        return ops.divide(outputs, ops.cast(self.output_scale, outputs.dtype))


__all__ = ["GOLDEN_ROOT", "RenamedOptionDense", "RenamedPackageDense", "ScaleDividesDense"]
