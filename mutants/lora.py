"""Mutants the LoRA clauses reject: layers that claim ``lora`` and adapt wrongly.

Each class is ``AdaptableDense`` (which claims ``lora``) with one realistic mistake; the first line of its
docstring names it. LoRA is a Keras 3 feature of ``Dense``, so these mutants run on Keras 3 only; under legacy
Keras 2 they are made from the reference instead, and never run (``mutants/_adaptable.py``).
"""

from __future__ import annotations

from layers._compat import register_serializable, tf
from mutants._adaptable import Base


@register_serializable(package="mutants")
class LoraKernelStaysTrainable(Base):
    """Adds the adapters but leaves ``kernel`` trainable, so fine-tuning moves the whole kernel."""

    KILLED_BY = ("lora",)
    GENERATIONS = (3,)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        super().enable_lora(rank, lora_alpha, a_initializer, b_initializer)
        self._kernel.trainable = True  # the mistake: Dense freezes it


@register_serializable(package="mutants")
class LoraAdapterBRandom(Base):
    """Initialises ``lora_kernel_b`` at random instead of zeros, so enabling LoRA changes the outputs."""

    KILLED_BY = ("lora",)
    GENERATIONS = (3,)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="he_uniform"):
        super().enable_lora(rank, lora_alpha, a_initializer, b_initializer)  # the mistake: b_initializer


@register_serializable(package="mutants")
class LoraAlphaIgnored(Base):
    """Adds ``lora_kernel_a @ lora_kernel_b`` unscaled, ignoring ``lora_alpha / rank``."""

    KILLED_BY = ("lora",)
    GENERATIONS = (3,)

    @property
    def kernel(self):
        if not self.lora_enabled:
            return self._kernel
        return self._kernel + tf.matmul(self.lora_kernel_a, self.lora_kernel_b)  # the mistake: no alpha / rank

    @kernel.setter
    def kernel(self, variable):
        self._kernel = variable


@register_serializable(package="mutants")
class LoraRankNotInConfig(Base):
    """Leaves ``lora_rank`` out of ``get_config``, so a reloaded layer has no adapters to load into."""

    KILLED_BY = ("lora",)
    GENERATIONS = (3,)

    def get_config(self):
        config = super().get_config()
        config.pop("lora_rank", None)  # the mistake: the rebuilt layer never enables LoRA
        config.pop("lora_alpha", None)
        return config


@register_serializable(package="mutants")
class LoraEnabledTwice(Base):
    """Does not check whether LoRA is already enabled: a second ``enable_lora`` adds a second pair of adapters."""

    KILLED_BY = ("lora",)
    GENERATIONS = (3,)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        self.lora_enabled = False  # the mistake: Dense raises ValueError instead
        super().enable_lora(rank, lora_alpha, a_initializer, b_initializer)
