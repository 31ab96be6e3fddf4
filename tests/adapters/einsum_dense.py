"""Keras's ``EinsumDense`` as a dense layer, through a factory: it is not constructed as ``Cls(units, ...)``.

``pytest --impl tests/adapters/einsum_dense.py:einsum_dense --profile custom``: the factory maps ``units`` onto the
output shape and ``use_bias`` onto ``bias_axes``; every other option of ``Dense`` it passes on, and the spec
measures which ones ``EinsumDense`` takes. The serialization clauses use the class it returns, ``EinsumDense``,
with Keras's own registration.
"""

from spec_tests.generation import keras


def einsum_dense(units, use_bias=True, **options):
    """``EinsumDense("...i,io->...o")``: a dense layer over the last axis, for inputs of any rank."""
    return keras.layers.EinsumDense("...i,io->...o", output_shape=(units,), bias_axes="o" if use_bias else None,
                                    **options)
