"""The benchmark catalogue: contenders, modes, shapes and targets, and the cases they make.

Pure data and arithmetic (no TensorFlow): the contenders (``impl``, the class
under test; ``raw``, plain TensorFlow ops; ``keras_dense``, the generation's
``Dense``), the modes they are timed in, the shapes they are timed at, and the
targets the reference layer is held to.
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

MODES = ("eager", "tf_function", "xla", "train_step", "predict")
MODE_HELP = {
    "eager": "one forward call, eagerly",
    "tf_function": "one forward call inside tf.function",
    "xla": "one forward call inside tf.function(jit_compile=True)",
    "train_step": "one tf.function step: forward, loss, gradients, SGD update (var -= 0.01 * grad)",
    "predict": "model.predict over many batches (raw: a tf.function forward looped over the same batches)",
}
#: FLOPs of one timed call in units of the forward matmul's 2*rows*in*out
#: (the training step is the forward plus two matmuls of the same size).
MODE_FLOP_FACTOR = {"eager": 1, "tf_function": 1, "xla": 1, "train_step": 3, "predict": None}


#: Seconds of timed rounds one case may take at most (beyond its first 3 rounds).
CASE_CAP = 2.0
#: A first call slower than this (seconds) marks a pathological case: it gets one timed round and no
#: more, so that an implementation 100x too slow still finishes the run (and shows up flagged).
SLOW_CALL = 10.0


@dataclasses.dataclass(frozen=True)
class Shape:
    """An input shape ``batch + (units_in,)`` mapped to ``units_out``, and how long to time it."""

    name: str
    batch: tuple
    units_in: int
    units_out: int
    budget: float  # seconds of timed rounds per case; rounds = budget / (one warm call), clamped:
    min_rounds: int
    max_rounds: int
    predict_batches: int  # batches per model.predict call

    def rounds(self, seconds_per_call: float) -> int:
        """How many rounds to time, given one warm call's duration.

        Enough to fill the budget, within ``[min_rounds, max_rounds]``; but when a
        busy machine makes calls slow, no more than ``CASE_CAP`` seconds (and at least 3 rounds).
        """
        seconds_per_call = max(seconds_per_call, 1e-9)
        wanted = max(self.min_rounds, min(self.max_rounds, math.ceil(self.budget / seconds_per_call)))
        return min(wanted, max(3, math.floor(CASE_CAP / seconds_per_call)))

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
        Shape("small", (32,), 64, 64, budget=0.3, min_rounds=20, max_rounds=500, predict_batches=32),
        Shape("medium", (256,), 1024, 1024, budget=0.4, min_rounds=10, max_rounds=200, predict_batches=16),
        Shape("rank3", (32, 128), 512, 512, budget=0.4, min_rounds=5, max_rounds=100, predict_batches=8),
        Shape("large", (1024,), 4096, 4096, budget=0.5, min_rounds=3, max_rounds=10, predict_batches=4),
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
PEAK = Shape("peak", (PEAK_N,), PEAK_N, PEAK_N, budget=0.5, min_rounds=3, max_rounds=10, predict_batches=1)

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


def cases():
    """Every (mode, shape, contender) the suite times, in run order."""
    for mode in MODES:
        for shape in SHAPES.values():
            if (mode, shape.name) in SKIPPED:
                continue
            for contender in CONTENDERS:
                yield mode, shape, contender


def case_id(mode: str, shape: str, contender: str) -> str:
    return f"{mode}-{shape}-{contender}"



__all__ = [
    "CASE_CAP", "CONTENDERS", "CONTENDER_HELP", "FLAG", "FLAG_RATIO", "MARKER", "MODES", "MODE_FLOP_FACTOR",
    "MODE_HELP", "PEAK", "PEAK_FLOPS", "PEAK_N", "QUICK_SHAPES", "SHAPES", "SKIPPED", "SLOW_CALL", "SUITE", "Shape",
    "TARGETS", "Target", "case_id", "cases",
]
