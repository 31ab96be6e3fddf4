"""Reference and alternative dense layers for the executable spec."""

from layers.dense import MyDenseLayer

__all__ = ["MyDenseLayer"]
