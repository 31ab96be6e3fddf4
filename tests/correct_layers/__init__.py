"""Correct dense layers written independently of the reference, each in its own style and its own words.

They are what the spec will meet in the wild: a ``keras.ops``-only layer, an einsum, a subclass of
``keras.layers.Dense``, a layer that checks its inputs by hand, a flatten-matmul-reshape, and one written
for legacy Keras 2 the Keras 2 way, and three minimal ones as people write them after the tutorial (``units`` and
``activation``; ``units`` and ``use_bias``; ``units`` only), judged under ``--profile custom`` (``PROFILES``). Each is genuinely correct (values, gradients, config, saving, masks),
so each must conform: the spec may give it advisories about the form of its refusals, never a MUST failure
(``tests/test_correct_layers.py``). ``CORRECT_LAYERS`` lists them with the generations they are written for;
the ``keras.ops`` ones also declare ``layer_spec_backends = ("tensorflow", "jax")`` and run under
``KERAS_BACKEND=jax`` too (an undeclared layer runs on TensorFlow only).
"""

#: ``--impl`` value -> the Keras generations the layer is written for.
CORRECT_LAYERS = {
    "tests.correct_layers.ops_only:OpsOnlyDense": (3,),
    "tests.correct_layers.einsum:EinsumDense": (2, 3),
    "tests.correct_layers.dense_subclass:CheckedDense": (2, 3),
    "tests.correct_layers.hand_checked:HandCheckedDense": (2, 3),
    "tests.correct_layers.flatten_reshape:FlattenMatmulDense": (2, 3),
    "tests.correct_layers.keras2_style:Keras2StyleDense": (2,),
    "tests.correct_layers.broadcast_sum:BroadcastSumDense": (3,),
    "tests.correct_layers.call_time_activation:CallTimeActivationDense": (3,),
    "tests.correct_layers.einsum_dense_subclass:UnitsEinsumDense": (2, 3),
    "tests.correct_layers.keras2_matvec:Keras2MatvecDense": (2,),
    "tests.correct_layers.named_store:NamedStoreDense": (3,),
    "tests.correct_layers.reshape_dot:ReshapeDotDense": (3,),
    "tests.correct_layers.tensordot_spec:TensordotSpecDense": (3,),
    "tests.correct_layers.tf_keras_api:TfKerasApiDense": (2, 3),
    "tests.correct_layers.transposed_matmul:TransposedMatmulDense": (2, 3),
    "tests.correct_layers.variables_gradient:VariablesGradientDense": (2, 3),
    "tests.correct_layers.minimal_activation:SimpleDense": (3,),
    "tests.correct_layers.minimal_use_bias:LinearDense": (3,),
    "tests.correct_layers.units_only:UnitsOnlyDense": (3,),
    "tests.correct_layers.he_default:HeDense": (2, 3),
    "tests.correct_layers.versioned_refactor:RefactoredVersionedDense": (3,),
    "tests.correct_layers.fake_quantized:FakeQuantizedDense": (3,),
    "tests.correct_layers.scaled_kernel:ScaledKernelDense": (3,),
}
#: The layers that offer fewer options than Dense, by design: the spec judges them under ``--profile custom``
#: (the others are drop-in Dense layers, judged under the default ``dense``).
PROFILES = {
    "tests.correct_layers.minimal_activation:SimpleDense": "custom",
    "tests.correct_layers.minimal_use_bias:LinearDense": "custom",
    "tests.correct_layers.units_only:UnitsOnlyDense": "custom",
    "tests.correct_layers.he_default:HeDense": "custom",
}
