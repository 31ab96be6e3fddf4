"""``AdaptableDense``: a dense layer that can be quantized to int8 and fine-tuned with LoRA, like Keras 3's ``Dense``.

Keras 3's ``Dense`` does two things beyond the core contract that a drop-in
replacement must do the same way:

* ``layer.quantize("int8")`` (post-training quantization). The float kernel
  ``W`` becomes an int8 ``kernel`` ``q = round(W * s)`` and a float32
  ``kernel_scale`` ``s = 127 / max|W[:, j]|``, one per unit, both frozen; the
  call computes ``(x @ q) / s``, which differs from ``x @ W`` by at most
  ``input_dim * max|x| * max|W[:, j]| / 254``. The quantized layer saves and
  loads: its dtype policy (``int8_from_float32``) is in its config, so a
  rebuilt layer creates the int8 variables in ``build``.
* ``layer.enable_lora(rank)`` (low-rank adaptation). ``kernel`` is frozen and
  two new trainable weights ``lora_kernel_a`` ``(input_dim, rank)`` (random)
  and ``lora_kernel_b`` ``(rank, units)`` (zeros) make the effective kernel
  ``kernel + (alpha / rank) * lora_kernel_a @ lora_kernel_b``: at first the
  layer computes what it computed before, and training moves only the
  adapters. ``lora_rank`` is in the config, so a rebuilt layer enables LoRA
  in ``build`` and the saved adapters load into it.

Keras calls these hooks itself: its ``quantize`` wrapper refuses an unbuilt or
already quantized layer, and a quantized layer's ``__call__`` goes to
``_int8_call``. The rest is :class:`layers.OpsDense` (``keras.ops`` only).

**Keras 3 only**, like ``OpsDense``: legacy Keras 2's ``Dense`` has neither
quantization nor LoRA. ``ADAPTABLE_DENSE_AVAILABLE`` says which case holds.
"""

from __future__ import annotations

from layers._compat import LEGACY, missing_names, register_serializable

ADAPTABLE_DENSE_AVAILABLE = not LEGACY
UNAVAILABLE_REASON = (
    "AdaptableDense is Keras 3 only: quantization and LoRA are Keras 3 features of Dense, and it is written with "
    "keras.ops; this process runs legacy Keras 2 (TF_USE_LEGACY_KERAS is set)."
)

if ADAPTABLE_DENSE_AVAILABLE:
    from keras import dtype_policies, ops, quantizers

    from layers.ops_dense import OpsDense

    @register_serializable(package="layers")
    class AdaptableDense(OpsDense):
        """``OpsDense`` that can be quantized to int8 (``quantize("int8")``) and adapted with LoRA (``enable_lora``).

        Same arguments as ``keras.layers.Dense``, including ``lora_rank`` and ``lora_alpha`` (LoRA enabled at build).
        """

        layer_spec_capabilities = ("sparse_inputs", "quantize_int8", "lora")

        def __init__(self, units, lora_rank=None, lora_alpha=None, **kwargs):
            super().__init__(units, **kwargs)
            self.lora_rank = lora_rank
            self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
            self.lora_enabled = False

        # --- the kernel: the variable, plus the low-rank update while LoRA is on

        @property
        def kernel(self):
            if not self.lora_enabled:
                return self._kernel
            update = ops.matmul(self.lora_kernel_a, self.lora_kernel_b)
            return ops.add(self._kernel, (self.lora_alpha / self.lora_rank) * update)

        @kernel.setter
        def kernel(self, variable):
            self._kernel = variable

        def build(self, input_shape):
            super().build(input_shape)
            if self.quantization_mode == "int8":  # a quantized layer being loaded: int8 variables from the start
                del self._kernel
                self._int8_build((tuple(input_shape)[-1], self.units))
            if self.lora_rank:
                self.enable_lora(self.lora_rank, self.lora_alpha)

        # --- int8 quantization

        def quantize(self, mode=None, type_check=True, config=None):
            if mode != "int8":
                raise NotImplementedError(f"{type(self).__name__} quantizes to int8 only; received mode={mode!r}")
            if self.lora_enabled:
                raise NotImplementedError(f"{type(self).__name__} does not quantize a layer with LoRA enabled")
            kernel, scale = quantizers.abs_max_quantize(self._kernel, axis=0, dtype="int8", to_numpy=True)
            del self._kernel  # the float kernel goes; Keras stops tracking it
            self._int8_build(kernel.shape)
            self._kernel.assign(kernel)
            self.kernel_scale.assign(ops.squeeze(scale, axis=0))
            self.dtype_policy = dtype_policies.get(f"int8_from_{self.dtype_policy.name}")

        def _int8_build(self, kernel_shape):
            self._kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer="zeros", dtype="int8",
                                           trainable=False)
            self.kernel_scale = self.add_weight(name="kernel_scale", shape=(self.units,), initializer="ones",
                                                trainable=False)
            self._is_quantized = True  # set before the dtype policy changes, or setting it would quantize again

        def _int8_call(self, inputs, training=None):
            inputs = ops.cast(inputs, self.compute_dtype)
            outputs = ops.matmul(inputs, ops.cast(self._kernel, self.compute_dtype))
            outputs = ops.divide(outputs, ops.cast(self.kernel_scale, self.compute_dtype))
            if self.bias is not None:
                outputs = ops.add(outputs, ops.cast(self.bias, self.compute_dtype))
            return self.activation(outputs) if self.activation is not None else outputs

        # --- LoRA

        def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
            if not self.built:
                raise ValueError(f"Cannot enable LoRA on layer '{self.name}' before it is built; build it first.")
            if self.lora_enabled:
                raise ValueError(f"LoRA is already enabled on layer '{self.name}'; it can be enabled once.")
            if self.quantization_mode is not None:
                raise NotImplementedError(f"{type(self).__name__} does not enable LoRA on a quantized layer")
            self._tracker.unlock()  # a built layer's state is locked; Keras's Dense unlocks it the same way
            self.lora_kernel_a = self.add_weight(name="lora_kernel_a", shape=(self._kernel.shape[0], rank),
                                                 initializer=a_initializer)
            self.lora_kernel_b = self.add_weight(name="lora_kernel_b", shape=(rank, self.units),
                                                 initializer=b_initializer)
            self._tracker.lock()
            self._kernel.trainable = False
            self.lora_enabled, self.lora_rank = True, rank
            self.lora_alpha = lora_alpha if lora_alpha is not None else rank

        def get_config(self):
            config = super().get_config()
            if self.lora_rank:
                config.update(lora_rank=self.lora_rank, lora_alpha=self.lora_alpha)
            return config

else:  # pragma: no cover - exercised by the legacy CI leg
    __getattr__ = missing_names(__name__, {"AdaptableDense": UNAVAILABLE_REASON})


__all__ = ["ADAPTABLE_DENSE_AVAILABLE", "UNAVAILABLE_REASON"] + (["AdaptableDense"] if ADAPTABLE_DENSE_AVAILABLE else [])
