"""The benchmark catalogue: contenders, modes, shapes and targets, and the cases they make.

Pure data and arithmetic (no TensorFlow): the contenders (``impl``, the class
under test; ``raw``, plain framework ops; ``keras_dense``, the generation's
``Dense``), the modes they are timed in (per Keras backend), the shapes they are
timed at, how many interleaved rounds a row gets, and the targets the reference
layer is held to.
"""

from __future__ import annotations

import dataclasses
import math

MARKER = "spec_benchmark"
SUITE = "layer-spec"

CONTENDERS = ("impl", "raw", "keras_dense")
CONTENDER_HELP = {
    "impl": "the layer class under test (--impl), called as a layer",
    "raw": "tf.matmul plus tf.nn.bias_add on tf.Variables of the same shapes (rank > 2: reshape to 2-D around the matmul)",
    "keras_dense": "the generation's keras.layers.Dense with the same units (and use_bias)",
}
CONTENDER_HELP_JAX = dict(
    CONTENDER_HELP,
    raw="jnp.matmul(x, kernel) + bias on jax arrays of the same shapes, under jax.jit (eager mode: op by op)",
)
#: The Keras backends the suite knows; legacy Keras 2 counts as "tensorflow".
BACKENDS = ("tensorflow", "jax")

MODES = ("eager", "tf_function", "xla", "train_step", "predict")
MODE_HELP = {
    "eager": "one forward call, eagerly",
    "tf_function": "one forward call inside tf.function",
    "xla": "one forward call inside tf.function(jit_compile=True)",
    "train_step": "one tf.function step: forward, loss, gradients, SGD update (var -= 0.01 * grad)",
    "predict": "model.predict over a pre-batched tf.data.Dataset of many batches (raw: a tf.function forward looped over the same batches)",
}
MODE_HELP_JAX = {
    "eager": "one forward call, eagerly (op by op)",
    "xla": "one forward call compiled by XLA: jax.jit of the layer's stateless_call",
    "train_step": "one jax.jit step: forward, loss, gradients, SGD update (var - 0.01 * grad)",
    "predict": "model.predict over many batches (raw: a jax.jit forward looped over the same batches)",
}
#: The project's layers written with TensorFlow ops: under another backend their benchmarks skip, saying what to run.
TENSORFLOW_ONLY_IMPLS = ("layers:MyDenseLayer", "layers:CustomGradientDense")
#: Modes a backend does not have, and why (JAX has no graph mode without XLA).
BACKEND_SKIPPED_MODES = {"jax": {"tf_function": "JAX has no graph mode without XLA; its jax.jit is the xla row"}}


def modes_for(backend: str) -> tuple:
    """The modes timed under ``backend``, in run order."""
    return tuple(m for m in MODES if m not in BACKEND_SKIPPED_MODES.get(backend, {}))


def mode_help(mode: str, backend: str = "tensorflow") -> str:
    return (MODE_HELP_JAX if backend == "jax" else MODE_HELP)[mode]


def contender_help(contender: str, backend: str = "tensorflow") -> str:
    return (CONTENDER_HELP_JAX if backend == "jax" else CONTENDER_HELP)[contender]


#: FLOPs of one timed call in units of the forward matmul's 2*rows*in*out
#: (the training step is the forward plus two matmuls of the same size).
MODE_FLOP_FACTOR = {"eager": 1, "tf_function": 1, "xla": 1, "train_step": 3, "predict": None}


#: Rounds come in whole cycles: one round per order of the three contenders (3! = 6), so that each
#: contender is first, second and last, and follows each other one, equally often.
CYCLE = 6
#: A row stops (at the end of a cycle, once past its ``min_rounds``) as soon as the standard error of its
#: median log-ratios impl/raw and impl/Dense is at most this (1.5%): the ratio is then good to about 5%
#: (3.3 standard errors). Noisy rows run on until their ``cap`` seconds or ``max_rounds``.
PRECISION = 0.015
#: ``predict`` rows (one call is a whole ``model.predict``) may take this many times their shape's cap.
PREDICT_CAP_FACTOR = 3.0
#: A warm-up call slower than this (seconds) marks a pathological contender: its row gets one round and
#: no more, so that an implementation 100x too slow still finishes the run (and shows up flagged).
SLOW_CALL = 10.0


@dataclasses.dataclass(frozen=True)
class Shape:
    """An input shape ``batch + (units_in,)`` mapped to ``units_out``, and how long to time it."""

    name: str
    batch: tuple
    units_in: int
    units_out: int
    min_rounds: int  # whole cycles (multiples of CYCLE), or fewer for calls of seconds
    max_rounds: int
    cap: float  # seconds of interleaved rounds after which a row stops, precise or not
    predict_batches: int  # batches per model.predict call

    def cap_for(self, mode: str) -> float:
        return self.cap * (PREDICT_CAP_FACTOR if mode == "predict" else 1.0)

    @property
    def rows(self) -> int:
        return math.prod(self.batch)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.batch) + (self.units_in,)

    @property
    def label(self) -> str:
        return "x".join(str(d) for d in self.input_shape) + f"->{self.units_out}"

    @property
    def forward_flops(self) -> int:
        return 2 * self.rows * self.units_in * self.units_out

    def flops(self, mode: str) -> int:
        if mode == "predict":
            return self.forward_flops * self.predict_batches
        return self.forward_flops * MODE_FLOP_FACTOR[mode]


#: In order of FLOPs. The large shape's forward is ~34 GFLOP (~0.2 s on two cores).
SHAPES = {
    s.name: s
    for s in (
        Shape("small", (32,), 64, 64, min_rounds=60, max_rounds=6000, cap=6.0, predict_batches=8),
        Shape("medium", (256,), 1024, 1024, min_rounds=48, max_rounds=1200, cap=10.0, predict_batches=4),
        Shape("rank3", (32, 128), 512, 512, min_rounds=18, max_rounds=600, cap=6.0, predict_batches=2),
        Shape("large", (1024,), 4096, 4096, min_rounds=2, max_rounds=12, cap=10.0, predict_batches=1),
    )
}
#: Combinations left out of the timed run, and why.
SKIPPED = {
    ("eager", "large"): "at 34 GFLOP per call the eager call overhead is below 0.1%: the row would repeat tf_function",
    ("predict", "large"): "a predict call is over 1 s of matmuls; the tf_function rows already time the compute",
}
#: Shapes that quick mode (--benchmark-disable) runs once each (with the first peak matmul).
QUICK_SHAPES = ("small",)
#: The machine-peak benchmark: one large square matmul.
PEAK_N = 2048
PEAK_FLOPS = 2 * PEAK_N**3

FLAG_RATIO = 1.5
FLAG = "!!"


@dataclasses.dataclass(frozen=True)
class Target:
    """Issue 5's targets for the reference layer: ``impl / baseline <= limit``."""

    mode: str
    shape: str
    baseline: str
    limit: float
    why: str


TARGETS = tuple(
    Target(mode, shape, "raw", 1.05, "within 5% of raw ops")
    for mode in ("tf_function", "xla")
    for shape in ("medium", "large")
) + (
    Target("eager", "small", "keras_dense", 1.05,
           "eager call overhead no worse than keras.layers.Dense (5% allowed for noise)"),
)


def rows(backend: str = "tensorflow"):
    """Every (mode, shape) row the suite times under ``backend``, in run order."""
    for mode in modes_for(backend):
        for shape in SHAPES.values():
            if (mode, shape.name) not in SKIPPED:
                yield mode, shape


def cases(backend: str = "tensorflow"):
    """Every (mode, shape, contender) the suite times under ``backend``, in run order."""
    for mode, shape in rows(backend):
        for contender in CONTENDERS:
            yield mode, shape, contender


def case_id(mode: str, shape: str, contender: str) -> str:
    return f"{mode}-{shape}-{contender}"


__all__ = [
    "BACKENDS", "BACKEND_SKIPPED_MODES", "CONTENDERS", "CONTENDER_HELP", "CONTENDER_HELP_JAX", "CYCLE", "FLAG",
    "FLAG_RATIO", "MARKER", "MODES", "MODE_FLOP_FACTOR", "MODE_HELP", "MODE_HELP_JAX", "PEAK_FLOPS", "PEAK_N",
    "PRECISION", "PREDICT_CAP_FACTOR", "QUICK_SHAPES", "SHAPES", "SKIPPED", "SLOW_CALL", "SUITE", "Shape",
    "TARGETS", "TENSORFLOW_ONLY_IMPLS", "Target", "case_id", "cases", "contender_help", "mode_help", "modes_for",
    "rows",
]
