"""Devices for the distribution clauses: the one CPU split into two, for TensorFlow and for JAX.

TensorFlow fixes its devices when its runtime starts (the first op, or the first
``list_logical_devices``). :func:`split_cpu` must therefore run before that;
``spec_tests/conftest.py`` calls it on its first line. Importing TensorFlow does
not start the runtime, so the split is cheap and changes nothing else: ops still
run on ``/cpu:0`` unless a strategy places them elsewhere.

JAX reads ``XLA_FLAGS`` once, when it starts its CPU backend (the first array op,
not the import). :func:`request_host_devices` adds
``--xla_force_host_platform_device_count=2`` to it; ``spec_tests/generation.py``
calls it before it imports Keras, so the flag is in place whichever backend runs.
TensorFlow ignores it. Arrays still live on the first device unless a
distribution places them elsewhere.
"""

from __future__ import annotations

import os

import tensorflow as tf

from spec_tests import environment

#: How many logical CPU devices the distribution clauses need.
REPLICAS = 2
#: The XLA flag that makes JAX's CPU backend expose several host devices.
HOST_DEVICES_FLAG = "--xla_force_host_platform_device_count"


def request_host_devices(count: int = REPLICAS, environ=os.environ) -> None:
    """Ask JAX (through ``XLA_FLAGS``) for ``count`` host CPU devices, unless the flags already name a count.

    Effective only before JAX starts its CPU backend; later, the distribution clauses skip and say why.
    """
    flags = environ.get("XLA_FLAGS", "")
    if HOST_DEVICES_FLAG not in flags:
        environ["XLA_FLAGS"] = f"{flags} {HOST_DEVICES_FLAG}={count}".strip()


def split_cpu(count: int = REPLICAS) -> bool:
    """Split the first physical CPU into ``count`` logical devices; True if the split is in effect.

    Idempotent: a second call, or a configuration that already has ``count`` or
    more devices, changes nothing. Once TensorFlow has started its runtime the
    devices cannot change any more; then this returns False and the distribution
    clauses skip.
    """
    cpus = tf.config.list_physical_devices("CPU")
    if not cpus:
        return False
    current = tf.config.get_logical_device_configuration(cpus[0]) or []
    if len(current) >= count:
        return True
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:  # "Virtual devices cannot be modified after being initialized"
        return False
    return True


def prepare() -> bool:
    """What every spec run does first (its conftest, the platform probe): split the CPU, unless the spec runs as a
    guest in someone else's process (``LAYER_SPEC_KEEP_DEVICES``)."""
    if os.environ.get(environment.KEEP_DEVICES):
        return False
    return split_cpu()


def logical_cpus() -> list[str]:
    """Names of the logical CPU devices (starts TensorFlow's runtime)."""
    return [device.name for device in tf.config.list_logical_devices("CPU")]


__all__ = ["HOST_DEVICES_FLAG", "REPLICAS", "logical_cpus", "prepare", "request_host_devices",
           "split_cpu"]
