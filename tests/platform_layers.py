"""Test-only layers for the platform attribution (``tests/test_platform.py``); neither is a mutant or a correct layer.

* :class:`OneDnnSensitiveDense` simulates a platform defect: its float16 outputs are wrong only while TensorFlow's
  oneDNN kernels are on (``TF_ENABLE_ONEDNN_OPTS`` not ``0``), as a correct ``tf.einsum('...i,io->...o')`` layer's
  are on a CPU with the real defect. With ``LAYER_SPEC_SIMULATE_DEFECT=1`` the platform probe reports a matching
  simulated defect, so the spec reruns its failures with oneDNN off, where they pass: outcome ``platform``.
* :class:`Float16OffByHalfDense` is wrong in float16 for its own reason, on every machine and configuration: the
  rerun fails too, so it stays ``DOES NOT CONFORM``.
"""

from __future__ import annotations

import os

from layers import MyDenseLayer


def _onednn_on() -> bool:
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in ("0", "false")


class OneDnnSensitiveDense(MyDenseLayer):
    """The reference layer, with float16 outputs off by 0.5 while oneDNN is on (a simulated platform defect)."""

    layer_spec_backends = ("tensorflow",)

    def call(self, inputs):
        outputs = super().call(inputs)
        if self.compute_dtype == "float16" and _onednn_on():
            outputs = outputs + 0.5
        return outputs


class Float16OffByHalfDense(MyDenseLayer):
    """The reference layer, with float16 outputs off by 0.5 everywhere: the layer's own bug."""

    layer_spec_backends = ("tensorflow",)

    def call(self, inputs):
        outputs = super().call(inputs)
        if self.compute_dtype == "float16":
            outputs = outputs + 0.5
        return outputs
