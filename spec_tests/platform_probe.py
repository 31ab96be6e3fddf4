"""The platform probe: are this machine's kernels right, before any clause blames a layer for them?

The same correct layer can pass on one machine and fail on another. TensorFlow 2.21's oneDNN kernel for
``tf.einsum`` with an ellipsis (``'...i,io->...o'``) returns wrong float16 values on some x86 CPUs (seen on an
Intel Xeon with AVX512-FP16; the same family as tensorflow/tensorflow#61510), while explicit equations,
``tf.matmul`` and ``tf.tensordot`` stay right, and everything is right with ``TF_ENABLE_ONEDNN_OPTS=0``.

:func:`probe` checks the kernels a dense layer commonly runs on (:data:`KERNELS`) in the dtypes the spec uses
(:data:`DTYPES`), eagerly and compiled where the backend compiles (``tf.function`` and XLA on TensorFlow,
``jax.jit`` on JAX), against float64 NumPy on the same (rounded) operands. An error beyond the rounding bound of
the dtype (:func:`rounding_bound`) is a *defect*. It also records the backend's *limitations*: a kernel whose
result dtype is not its operands' (on torch, ``keras.ops.matmul`` of two float64 tensors returns float32).

It runs once per process (cached) and costs well under a second. The harness prints its findings in the run's
header, and reruns a failed clause under :func:`reference_environment` (for TensorFlow on CPU,
``TF_ENABLE_ONEDNN_OPTS=0``) to tell a platform defect from the layer's own (``harness/attribution.py``).

``LAYER_SPEC_SIMULATE_DEFECT=1`` adds a simulated float16 defect while oneDNN is on: the project's own tests use it
to exercise the attribution on machines that do not have the real defect (``tests/test_platform.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform as platform_module
import re
import time

import numpy as np

from spec_tests import environment

#: Kernel -> how it is written (what the header and the table call it).
KERNELS = {
    "matmul": "matmul (rank 2)",
    "batched_matmul": "batched matmul (rank 3)",
    "tensordot": "tensordot (rank 3, axes 1)",
    "einsum": "einsum 'abi,io->abo'",
    "einsum_ellipsis": "einsum '...i,io->...o'",
    "bias_add": "bias add",
}
DTYPES = ("float32", "float16", "bfloat16", "float64")
#: Unit roundoff of each dtype (half an ulp of 1).
UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24, "float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}
#: The switch that turns TensorFlow's oneDNN kernels off ("0").
ONEDNN_SWITCH = environment.ONEDNN_OPTS
#: Set in a process that reruns clauses under the reference configuration (no attribution, no simulation there).
CHILD_ENV = environment.PLATFORM_CHILD
#: Set to 1 to simulate a float16 defect while oneDNN is on (for the project's own tests).
SIMULATE_ENV = environment.SIMULATE_DEFECT
#: (batch, time, input_dim) and units of the probe's operands: small, but every kernel takes its general path.
_X_SHAPE, _UNITS = (2, 6, 8), 3


@dataclasses.dataclass(frozen=True)
class KernelCheck:
    """One kernel in one dtype and mode: its largest error against float64 NumPy, and the bound it must meet."""

    kernel: str
    dtype: str
    mode: str
    error: float
    bound: float
    result_dtype: str = ""
    simulated: bool = False

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.error)) and self.error <= self.bound

    def describe(self) -> str:
        fake = " (simulated)" if self.simulated else ""
        return f"{KERNELS.get(self.kernel, self.kernel)} {self.dtype} {self.mode}{fake}: max error " \
               f"{self.error:.3g}, rounding allows {self.bound:.2g}"

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "ok": self.ok}


@dataclasses.dataclass(frozen=True)
class Limitation:
    """A backend's known deviation that a correct layer inherits: ``what`` it does, and which clause it bends."""

    name: str
    what: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Probe:
    """What the probe found on this machine, for this backend."""

    backend: str
    cpu: str
    onednn: bool | None  # TensorFlow's oneDNN kernels on (None: not TensorFlow)
    checks: list
    limitations: list
    seconds: float
    reference: dict  # the environment of the reference configuration ({} when there is none)
    error: str = ""  # the probe itself failed (then nothing is known)

    @property
    def defects(self) -> list:
        return [check for check in self.checks if not check.ok]

    @property
    def defective_dtypes(self) -> set:
        return {check.dtype for check in self.defects}

    def defective(self) -> bool:
        return bool(self.defects)

    def can_attribute(self) -> bool:
        """Whether a failure can be rerun under a configuration that avoids the defects."""
        return self.defective() and bool(self.reference) and not os.environ.get(CHILD_ENV)

    def switch(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.reference.items())

    def kernel_summary(self) -> str:
        kernels = sorted({check.kernel for check in self.checks}, key=list(KERNELS).index)
        modes = list(dict.fromkeys(check.mode for check in self.checks))
        return (f"{len(self.checks)} kernel checks ({', '.join(KERNELS[k] for k in kernels)}; "
                f"{', '.join(DTYPES)}; {', '.join(modes)})")

    def header_lines(self) -> list[str]:
        where = f"{self.cpu}, backend {self.backend}" + (
            "" if self.onednn is None else f", oneDNN {'on' if self.onednn else 'off'}")
        if self.error:
            return [f"platform: {where}: the probe failed ({self.error}); platform defects cannot be told apart"]
        if not self.defects:
            lines = [f"platform: {where}: {self.kernel_summary()} all right ({self.seconds:.2f} s)"]
        else:
            lines = [f"platform: {where}: {len(self.defects)} of {len(self.checks)} kernel checks are WRONG "
                     f"({self.seconds:.2f} s):"]
            lines += [f"  {check.describe()}" for check in self.defects]
            if self.reference:
                lines.append(f"  {self.switch()} fixes them: a failing MUST clause is rerun under it, and one that "
                             f"passes there is reported as 'platform', not held against the layer")
            else:
                lines.append("  no reference configuration is known for this backend: failures stay failures")
        lines += [f"  limitation: {limitation.what}" for limitation in self.limitations]
        return lines

    def table_lines(self) -> list[str]:
        """Every check, one row each: kernel, dtype, mode, max error, bound, verdict."""
        header = ["kernel", "dtype", "mode", "max error", "bound", "result"]
        rows = [[KERNELS.get(c.kernel, c.kernel), c.dtype, c.mode, f"{c.error:.3g}", f"{c.bound:.2g}",
                 ("ok" if c.ok else "WRONG") + (" (simulated)" if c.simulated else "")] for c in self.checks]
        widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
        return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header] + rows]

    def as_dict(self) -> dict:
        return {"backend": self.backend, "cpu": self.cpu, "onednn": self.onednn, "seconds": round(self.seconds, 3),
                "reference": dict(self.reference), "error": self.error,
                "defects": [check.as_dict() for check in self.defects],
                "checks": [check.as_dict() for check in self.checks],
                "limitations": [limitation.as_dict() for limitation in self.limitations]}


def rounding_bound(dtype: str, depth: int, magnitude: np.ndarray) -> float:
    """How far a correctly rounded kernel may be from the exact result: ``2 (depth + 2) u`` times the sum of the
    absolute products (the classic bound for a dot product of ``depth`` terms accumulated in the dtype, with room
    for the final rounding and for kernels that accumulate in a wider type)."""
    return float(2 * (depth + 2) * UNIT_ROUNDOFF[dtype] * np.max(magnitude))


def cpu_name() -> str:
    """The CPU's model name (``lscpu``'s), with ``avx512_fp16`` noted when the CPU has it."""
    name, flags = "", ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = value
                if name and flags:
                    break
    except OSError:
        pass
    name = re.sub(r"\s+", " ", name or platform_module.processor() or platform_module.machine() or "unknown CPU")
    return name + (" (avx512_fp16)" if "avx512_fp16" in flags.split() else "")


def onednn_enabled() -> bool:
    """TensorFlow's default on x86 Linux: oneDNN on unless ``TF_ENABLE_ONEDNN_OPTS`` is 0 (or false)."""
    return os.environ.get(ONEDNN_SWITCH, "1").strip().lower() not in ("0", "false")


def _operands(dtype_caster):
    rng = np.random.default_rng(20261202)
    x = rng.uniform(-1.0, 1.0, _X_SHAPE).astype(np.float32)
    kernel = rng.uniform(-1.0, 1.0, (_X_SHAPE[-1], _UNITS)).astype(np.float32)
    bias = rng.uniform(-1.0, 1.0, (_UNITS,)).astype(np.float32)
    return {dtype: tuple(dtype_caster(a, dtype) for a in (x, kernel, bias)) for dtype in DTYPES}


def _expected(x, kernel, bias):
    """The exact results on the rounded operands, and the magnitudes that scale each one's bound."""
    x, kernel, bias = (np.asarray(a, np.float64) for a in (x, kernel, bias))
    product, magnitude = x @ kernel, np.abs(x) @ np.abs(kernel)
    return {
        "matmul": (product[0], magnitude[0]),
        "batched_matmul": (product, magnitude),
        "tensordot": (product, magnitude),
        "einsum": (product, magnitude),
        "einsum_ellipsis": (product, magnitude),
        "bias_add": (x[..., :_UNITS] + bias, np.abs(x[..., :_UNITS]) + np.abs(bias)),
    }


def _checks(results: dict, expected: dict, dtype: str, mode: str, to_numpy, dtype_of) -> list:
    checks = []
    for kernel, value in results.items():
        exact, magnitude = expected[kernel]
        seen = np.asarray(to_numpy(value), np.float64)
        error = float(np.max(np.abs(seen - exact))) if seen.shape == exact.shape else float("inf")
        depth = 1 if kernel == "bias_add" else _X_SHAPE[-1]
        result = dtype_of(value)
        # a kernel that returns a coarser dtype (a limitation, see _limitations) is held to that dtype's rounding
        rounding = max((d for d in (dtype, result) if d in UNIT_ROUNDOFF), key=UNIT_ROUNDOFF.get)
        checks.append(KernelCheck(kernel, dtype, mode, error, rounding_bound(rounding, depth, magnitude), result))
    return checks


def _tensorflow_checks() -> list:
    import tensorflow as tf

    def kernels(x, kernel, bias):
        units = kernel.shape[-1]
        return {
            "matmul": tf.matmul(x[0], kernel),
            "batched_matmul": tf.matmul(x, tf.broadcast_to(kernel, (x.shape[0], *kernel.shape))),
            "tensordot": tf.tensordot(x, kernel, axes=[[2], [0]]),
            "einsum": tf.einsum("abi,io->abo", x, kernel),
            "einsum_ellipsis": tf.einsum("...i,io->...o", x, kernel),
            "bias_add": tf.nn.bias_add(x[..., :units], bias),
        }

    def every_dtype(operands):  # one trace and one XLA compilation for all the dtypes
        return {dtype: kernels(*args) for dtype, args in operands.items()}

    operands = _operands(lambda a, dtype: tf.cast(a, dtype))
    modes = {"eager": every_dtype, "tf.function": tf.function(every_dtype, autograph=False),
             "XLA": tf.function(every_dtype, jit_compile=True, autograph=False)}
    checks = []
    for mode, fn in modes.items():
        for dtype, results in fn(operands).items():
            expected = _expected(*(tf.cast(a, tf.float64).numpy() for a in operands[dtype]))
            checks += _checks(results, expected, dtype, mode, lambda v: tf.cast(v, tf.float64).numpy(),
                              lambda v: v.dtype.name)
    return checks


def _keras_ops_checks(backend: str) -> list:
    from keras import ops

    def kernels(x, kernel, bias):
        units = kernel.shape[-1]
        return {
            "matmul": ops.matmul(x[0], kernel),
            "batched_matmul": ops.matmul(x, ops.broadcast_to(kernel, (x.shape[0], *kernel.shape))),
            "tensordot": ops.tensordot(x, kernel, axes=1),
            "einsum": ops.einsum("abi,io->abo", x, kernel),
            "einsum_ellipsis": ops.einsum("...i,io->...o", x, kernel),
            "bias_add": ops.add(x[..., :units], bias),
        }

    operands = _operands(lambda a, dtype: ops.cast(ops.convert_to_tensor(a), dtype))
    modes = {"eager": kernels}
    if backend == "jax":
        import jax

        modes["jax.jit"] = jax.jit(kernels)
    checks = []
    to_numpy = lambda value: np.asarray(ops.convert_to_numpy(ops.cast(value, "float32")), np.float64)  # noqa: E731
    for mode, fn in modes.items():
        for dtype, (x, kernel, bias) in operands.items():
            if dtype == "float64":  # float64 kept as float64 (float32 would round the expected result)
                exact_ops = [np.asarray(ops.convert_to_numpy(a), np.float64) for a in (x, kernel, bias)]
                to_numpy_here = lambda value: np.asarray(ops.convert_to_numpy(value), np.float64)  # noqa: E731
            else:
                exact_ops = [to_numpy(a) for a in (x, kernel, bias)]
                to_numpy_here = to_numpy
            checks += _checks(fn(x, kernel, bias), _expected(*exact_ops), dtype, mode, to_numpy_here,
                              lambda v: str(ops.dtype(v)) if hasattr(ops, "dtype") else str(v.dtype))
    return checks


def _limitations(checks: list) -> list:
    """Kernels whose result dtype is not their operands' (measured, eagerly): what a correct layer inherits."""
    found = {}
    for check in checks:
        if check.mode == "eager" and check.result_dtype and check.result_dtype != check.dtype:
            found.setdefault((check.kernel, check.dtype, check.result_dtype), check)
    return [Limitation(f"{kernel}:{dtype}->{result}",
                       f"{KERNELS.get(kernel, kernel)} of two {dtype} tensors returns {result}")
            for kernel, dtype, result in found]


def _simulated() -> list:
    return [KernelCheck("einsum_ellipsis", "float16", "eager", 1.0, 0.01, "float16", simulated=True)]


@functools.lru_cache(maxsize=1)
def probe() -> Probe:
    """Probe this process's backend once (cached): every kernel in every dtype and mode, and its limitations."""
    from spec_tests import backend as spec_backend  # noqa: F401 - as the clauses run it (JAX: 64-bit arrays on)
    from spec_tests import devices

    devices.prepare()  # the probe may start TensorFlow's runtime: split the CPU first, as the spec's conftest does
    backend = spec_backend.BACKEND
    start = time.perf_counter()
    onednn = onednn_enabled() if backend == "tensorflow" else None
    reference = {ONEDNN_SWITCH: "0"} if onednn else {}
    try:
        checks = _tensorflow_checks() if backend == "tensorflow" else _keras_ops_checks(backend)
        error = ""
    except Exception as exc:  # noqa: BLE001 - a probe that cannot run must not stop the spec
        checks, error = [], f"{type(exc).__name__}: {exc}"
    if onednn and environment.truthy(os.environ.get(SIMULATE_ENV)) and not os.environ.get(CHILD_ENV):
        checks += _simulated()
    return Probe(backend, cpu_name(), onednn, checks, _limitations(checks), time.perf_counter() - start, reference,
                 error)


def result_dtype(kernel: str, dtype: str) -> str:
    """The dtype this backend's ``kernel`` returns for two ``dtype`` operands (measured by the probe)."""
    for check in probe().checks:
        if check.kernel == kernel and check.dtype == dtype and check.mode == "eager" and check.result_dtype:
            return check.result_dtype
    return dtype


__all__ = ["CHILD_ENV", "DTYPES", "KERNELS", "KernelCheck", "Limitation", "ONEDNN_SWITCH", "Probe",
           "SIMULATE_ENV", "cpu_name", "onednn_enabled", "probe", "result_dtype", "rounding_bound"]
