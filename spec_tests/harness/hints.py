"""Hints and causes: what mistake a failure shows. The table of known pitfalls of custom Keras layers, recognised
from the exception they cause; and the failed clauses of a run grouped by the mistake behind them.

Each entry of :data:`HINTS` pairs a regular expression over an exception's
text (and optionally its type) with one line on what went wrong and one line on
the usual fix. The table comes from the pitfalls users report (see the field
notes) and from the errors Keras 3 and tf-keras 2 were measured to raise.

The reporter (:mod:`~spec_tests.harness.reporter`) adds ``hint: <what went wrong>. Usual fix: ...`` to a
failing clause's error as a note, unless the clause gave its own ``hint:``; then the table's line is added as
``known pitfall: ...`` (the clause's hint is generic, the table's names the cause the clause quoted). The entry's
name is the clause's cause (:func:`group`).

Order matters: the first match wins, so specific entries come before general
ones (a weight created in ``call`` also makes output-shape inference fail, and
that is the cause worth naming).

Causes: a broken layer usually has one or two mistakes that fail dozens of
clauses; a reader needs the list of mistakes first. The rule is :data:`RULE`.
For a spec check, ``<what>: expected X, seen Y``, only ``expected X, seen Y``
counts: ``<what>`` names the clause, not the mistake (unless ``expected X, seen
Y`` is nothing but values, like ``expected (4, 2), seen (2, 4)``). The grouping
is a pure function of :class:`~spec_tests.harness.records.ClauseResult`s, so a
saved JSON report groups the same way as a live run. Failures and advisories
(failed SHOULD clauses) are grouped separately: :func:`group` takes one list at
a time.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import re
from typing import Callable

from spec_tests.harness.catalogue import area_sort_key

from spec_tests.harness.text import exception_chain, exception_text, strip_ansi, without_hint_lines


@dataclasses.dataclass(frozen=True)
class Hint:
    """One known pitfall: how to recognise it, what it means, how to fix it."""

    name: str
    pattern: str
    what: str
    fix: str
    #: Exception type names (without module) the entry applies to; empty: any type.
    types: tuple[str, ...] = ()
    #: A condition on the message beyond the pattern (a fact of this machine, say); None: always.
    when: Callable[[str], bool] | None = None

    def matches(self, exc_type_name: str, message: str) -> bool:
        type_name = exc_type_name.rsplit(".", 1)[-1]
        if self.types and type_name not in self.types:
            return False
        if re.search(self.pattern, f"{type_name}: {message}", re.DOTALL) is None:
            return False
        return self.when is None or self.when(message)

    def text(self) -> str:
        return f"{self.what}. Usual fix: {self.fix}"


def _names_a_defective_dtype(message: str) -> bool:
    """Whether the platform probe found this machine's kernels wrong in a dtype the message names."""
    from spec_tests import platform_probe
    from spec_tests.harness.attribution import names_dtype

    return any(names_dtype(message, dtype) for dtype in platform_probe.probe().defective_dtypes)


def _forward_diagnosis() -> str | None:
    """The forward probe's finding on the run's implementation (``spec_tests/forward.py``), or None."""
    from spec_tests import forward
    from spec_tests.harness import selection

    try:
        state = selection.spec_state()
    except (IndexError, Exception):  # noqa: BLE001 - outside a spec run: no diagnosis
        return None
    return forward.diagnosis(state)


_ADD_WEIGHT_FIX = (
    'create weights with keyword arguments only, e.g. self.kernel = self.add_weight(name="kernel", '
    'shape=(input_shape[-1], self.units), initializer="glorot_uniform")'
)

HINTS: tuple[Hint, ...] = (
    Hint(  # before the constructor entries below: the same words, said of a config an earlier version saved
        "renamed_constructor_argument",
        # not for a set this run wrote and read back: no earlier version there, the same words are get_config's
        r"golden set(?![^\n]*written and read back by this run).*"
        r"(?:Unrecognized keyword arguments?|got an unexpected keyword argument)",
        "a config saved by an earlier version passes an argument the constructor no longer takes (renamed or "
        "removed), so the files users saved no longer load",
        "keep accepting the old name: take it in __init__ (old_name=None, mapped onto the new one) or translate it "
        "in from_config; never drop an argument a released get_config wrote",
    ),
    Hint(
        "add_variable_positional_name",
        r"got multiple values for argument 'shape'",
        "Keras 2 style add_variable('kernel', shape=...) or add_weight('kernel', ...): in Keras 3 the first "
        "positional parameter is `shape`, so the name lands there",
        _ADD_WEIGHT_FIX,
    ),
    Hint(
        "add_weight_positional_name",
        r"`?name`? must be passed as a keyword argument",
        "add_weight('kernel', ...) passes the name positionally, which Keras 3.14+ refuses",
        _ADD_WEIGHT_FIX,
    ),
    Hint(
        "forgot_super_init",
        r"forgot to call `super\(\)\.__init__\(\)`|You must call `super\(\)\.__init__\(\)`",
        "the constructor does not call the base Layer's __init__",
        "make `super().__init__(**kwargs)` the first statement of __init__",
    ),
    Hint(
        "weights_created_in_call",
        r"You cannot add new elements of state",
        "a weight (or sub-layer) is created in call(), after the layer was built",
        "create every weight in build(input_shape) with self.add_weight(...); call() only uses them",
    ),
    Hint(
        "variables_created_per_call",
        r"tf\.function only supports singleton tf\.Variables created on the first call",
        "a tf.Variable is created on every call instead of once",
        "create weights once, in build(), with self.add_weight(...) rather than tf.Variable(...) in call()",
    ),
    Hint(
        "custom_gradient_closes_over_variables",
        r"grad_fn must accept keyword argument 'variables'",
        "a tf.custom_gradient function reads variables it closes over, so TensorFlow needs their gradients too",
        "define grad_fn(upstream, variables=None) returning (input_grads, variable_grads), or pass the weights "
        "in as arguments of the custom-gradient function",
    ),
    Hint(
        "never_built_on_load",
        r"was never built and thus it doesn't have any variables",
        "the loaded layer was not rebuilt: build() does not create all of its state, or the layer cannot rebuild "
        "itself from its saved build config",
        "create every weight in build(input_shape), end build() with self.built = True (or "
        "super().build(input_shape)), and implement build_from_config if build needs more than the input shape",
    ),
    Hint(
        "variable_count_on_load",
        r"expected \d+ variables, but received \d+ variables during loading",
        "the saved file holds a different number of weights than the rebuilt layer creates",
        "make build() create the same weights from the same config every time (e.g. honour use_bias from "
        "get_config) and never add or drop weights after building",
    ),
    Hint(
        "class_not_registered",
        r"Could not locate class|Cannot deserialize object of type|Unknown layer",
        "Keras cannot find the custom class by its name while deserialising",
        "decorate the class with @keras.saving.register_keras_serializable(package=\"mypkg\") "
        "(tf-keras: keras.utils.register_keras_serializable), or pass custom_objects={\"MyLayer\": MyLayer}",
    ),
    Hint(
        "get_config_missing_argument",
        r"Unable to revive model from config|__init__\(\) missing \d+ required (positional|keyword-only) arguments?",
        "from_config called the constructor without a required argument: get_config does not return every "
        "constructor argument",
        "in get_config do config = super().get_config(); config.update(units=self.units, ...) for every "
        "__init__ argument, and return config",
    ),
    Hint(
        "get_config_not_overridden",
        r"must override `?get_config",
        "the layer has constructor arguments Keras cannot record by itself and no get_config",
        "override get_config: config = super().get_config(); config.update(units=self.units, ...); return config",
    ),
    Hint(
        "not_a_drop_in_dense",
        # Keras 3, Keras 2 and Python's words for a constructor that refuses one of Dense's options
        r"(?:Unrecognized keyword arguments? passed to \w+|got an unexpected keyword argument|Keyword argument not "
        r"understood)[^\n]*\b(?:use_bias|kernel_initializer|bias_initializer|kernel_regularizer|bias_regularizer|"
        r"kernel_constraint|bias_constraint|activation)\b",
        "not a drop-in keras.layers.Dense: the constructor does not take all of Dense's options (the run's summary "
        "lists the missing ones)",
        "take Dense's options (def __init__(self, units, activation=None, use_bias=True, "
        "kernel_initializer=\"glorot_uniform\", ..., **kwargs)), or, for a layer that is not meant as a drop-in "
        "Dense, run the spec with --profile custom: it judges the layer on the options it takes",
    ),
    Hint(
        "default_differs_from_dense",
        r"not a drop-in keras\.layers\.Dense: default \w+ is",
        "not a drop-in keras.layers.Dense: a default differs from Dense's",
        "use Dense's default, or, for a layer whose own default is by design, run the spec with --profile custom: "
        "it checks that the layer honours its own default",
    ),
    Hint(
        "constructor_rejects_keyword",
        r"__init__\(\) got an unexpected keyword argument",
        "the constructor refuses a keyword argument: a base-layer argument (name, dtype, trainable) or one that "
        "get_config returned",
        "accept and forward the rest: def __init__(self, units, ..., **kwargs): super().__init__(**kwargs)",
    ),
    Hint(
        "config_not_json",
        r"is not JSON serializable",
        "get_config returns a Python object (an initializer, activation, regularizer or constraint) instead of "
        "plain data",
        "serialise in get_config with keras.initializers.serialize(self.kernel_initializer) (likewise "
        "activations, regularizers, constraints) and resolve with keras.initializers.get(...) in __init__",
    ),
    Hint(
        "numpy_in_call",
        r"Cannot convert a symbolic (tf\.)?Tensor .*to a numpy array"
        r"|numpy\(\) is only available when eager execution is enabled"
        r"|'(Symbolic)?Tensor' object has no attribute 'numpy'",
        "call() uses numpy or .numpy(), which cannot run on the symbolic tensors of tf.function, fit() or a "
        "functional model",
        "compute with TensorFlow or keras.ops operations in call(), e.g. tf.matmul(inputs, self.kernel)",
    ),
    Hint(
        "python_bool_on_tensor",
        r"OperatorNotAllowedInGraphError|as a Python `bool` is not allowed",
        "call() uses a Python if/while/and on a tensor; Keras 3 does not autograph call(), so graph mode refuses it",
        "use tf.cond, keras.ops.cond or keras.ops.where, or branch only on static Python values such as x.shape.rank",
    ),
    Hint(
        "keras_tensor_in_tf_function",
        r"A KerasTensor cannot be used as input to a TensorFlow function",
        "a raw TensorFlow op received a symbolic KerasTensor outside a layer's call()",
        "keep TensorFlow code inside the layer's call() (or use keras.ops) and call the layer on the symbolic input",
    ),
    Hint(
        "output_shape_not_inferred",
        r"Could not automatically infer the output shape",
        "Keras ran call() on symbolic inputs to infer the output shape, and call() failed",
        "make call() work on symbolic tensors (no numpy, no Python if on tensors), or implement "
        "compute_output_shape(input_shape)",
    ),
    Hint(
        "no_gradients",
        r"No gradients provided for any variable|Gradients do not exist for variables"
        # the spec's own words for it: a gradient check that saw None
        r"|(?:gradient|dL/d)[^\n]*: expected [^\n]*, seen (?:None\b|\[[^\]\n]*\bNone\b)"
        r"|without a gradient: expected none[^\n]*, seen \[",
        "a trainable weight does not influence the output the gradient tape saw: created but unused, or used "
        "through numpy, .numpy(), tf.stop_gradient or an assign",
        "compute the output from the weights with differentiable TensorFlow or keras.ops operations in call(), "
        "e.g. inputs @ self.kernel + self.bias",
    ),
    Hint(
        "mixed_precision_uncast_weight",
        r"expected to be a (half|bfloat16) tensor but is a float tensor"
        r"|expected to be a float tensor but is a (half|bfloat16) tensor"
        r"|has type (float32|float16|bfloat16) that does not match type (float16|bfloat16|float32)",
        "under mixed precision the weights are float32 while the computation runs in float16: a weight or "
        "input is used without casting",
        "cast in call(): kernel = tf.cast(self.kernel, self.compute_dtype) and inputs = tf.cast(inputs, "
        "self.compute_dtype), or use keras.ops, which casts for you",
    ),
    Hint(
        "dtype_mismatch",
        r"expected to be a \w+ tensor but is a \w+ tensor|that does not match type \w+ of argument",
        "an operation received operands of different dtypes, e.g. int32 or float64 inputs against a float32 kernel",
        "cast the inputs to the layer's compute dtype first: inputs = tf.cast(inputs, self.compute_dtype), or use "
        "keras.ops.matmul, which promotes types",
    ),
    Hint(
        "kernel_shape_mismatch",
        r"Matrix size-incompatible|Incompatible shapes|Dimensions must be equal",
        "the weights' shapes do not fit the input: the kernel must be (input_shape[-1], units) and the bias (units,)",
        "build the kernel with shape=(input_shape[-1], self.units) and compute inputs @ kernel (not kernel @ inputs)",
    ),
    Hint(
        "weights_of_an_inner_layer",
        # a weight path with one segment too many between the layer's name and the weight's, as an inner Dense
        # (self.dense = keras.layers.Dense(...)) gives: expected my_layer/kernel, seen my_layer/dense/kernel
        r"expected \[?'?([\w./]+?)/(\w+)(?::\d+)?'?[^\n]*?, seen \[?'?\1/[\w.]+/\2\b",
        "the weights belong to an inner layer (e.g. self.dense = keras.layers.Dense(...)), so their paths carry "
        "its name: my_layer/dense/kernel instead of my_layer/kernel",
        "create the weights in this layer's own build(): self.kernel = self.add_weight(name=\"kernel\", ...) and "
        "self.bias = self.add_weight(name=\"bias\", ...), rather than delegating to an inner Dense",
    ),
    Hint(
        "missing_weight_attribute",
        r"object has no attribute '(kernel|bias)'",
        "the layer has no public kernel or bias attribute: the weights are stored under other names, or build() "
        "did not run",
        "in build() assign self.kernel = self.add_weight(name=\"kernel\", ...) and self.bias = "
        "self.add_weight(name=\"bias\", ...) (self.bias = None when use_bias=False)",
    ),
    Hint(
        "outside_strategy_scope",
        r"Need to be inside .with strategy\.scope\(\).|was not created in the distribution strategy scope",
        "variables were created outside the distribution strategy's scope",
        "create and build the model inside `with strategy.scope():`; never create variables in __init__ or keep "
        "variables built before the scope",
    ),
    Hint(
        "retracing",
        r"triggered tf\.function retracing",
        "the traced function is traced again on (almost) every call: Python numbers or new shapes as arguments",
        "pass tensors rather than Python numbers, keep shapes stable, or give tf.function an input_signature / "
        "reduce_retracing=True",
    ),
    Hint(
        "did_not_finish",
        r"^Failed: Timeout \(>",
        "the clause did not finish within its time limit: the layer's code runs in a loop that never ends, or is "
        "very slow (the frame named under 'your code' is where it was)",
        "end the loop in the code named under 'your code'; a layer that is only slow: raise the limit with "
        "--clause-timeout SECONDS (LAYER_SPEC_CLAUSE_TIMEOUT, ini layer_spec_clause_timeout; 0: no limit)",
        types=("Failed",),
    ),
    Hint(
        "platform_kernel_defect",
        # the spec's words for wrong values, in a dtype the platform probe found wrong on this machine
        r"(?<![A-Za-z0-9])(?:b?float16|float32|float64)\b[^\n]*: expected",
        "this machine computes that dtype wrongly: the platform probe (the run's header, `layer-spec platform`) "
        "found a defective kernel, e.g. TensorFlow's oneDNN tf.einsum with an ellipsis in float16 on CPUs with "
        "AVX512-FP16, so a correct layer fails here too",
        "see the run's 'platform' section: a clause that passes when rerun with TF_ENABLE_ONEDNN_OPTS=0 is the "
        "platform's defect, not the layer's; to spare your users, compute with an explicit einsum equation "
        "('abc,cd->abd'), tf.matmul / keras.ops.matmul or tf.tensordot, or set TF_ENABLE_ONEDNN_OPTS=0",
        when=_names_a_defective_dtype,
    ),
    Hint(
        "computes_with_other_weights",
        # the spec's words for wrong values (helpers.assert_close), for a layer the forward probe found affine in
        # its inputs with weights other than its own kernel and bias
        r"elements differ; max abs diff",
        "the layer computes with other weights than its kernel and bias: its outputs are inputs @ K' + b' for "
        "some other K', b' (a quantizer, a scale or a mask in call, or a bug)",
        "compute with self.kernel and self.bias as they are; if the difference is on purpose, declare the weights "
        "the forward pass uses with layer_spec_effective_weights(layer) -> (kernel, bias), on the class or on the "
        "factory or adapter --impl names (docs/forward-contract.md): the value and gradient clauses then compare "
        "with them",
        types=("SpecFailure",),
        when=lambda message: _forward_diagnosis() is not None,
    ),
)


def find_hint(exc_type_name: str, message: str) -> Hint | None:
    """The first table entry that recognises this exception, or None."""
    message = strip_ansi(message)
    for hint in HINTS:
        if hint.matches(exc_type_name or "", message):
            return hint
    return None


def hint_for(exc_type_name: str, message: str) -> str | None:
    """One line, ``<what went wrong>. Usual fix: <fix>``, for a known pitfall; None if none is known."""
    hint = find_hint(exc_type_name, message)
    return hint.text() if hint is not None else None


def find_hint_for_exception(exc: BaseException) -> Hint | None:
    """:func:`find_hint` over an exception and the exceptions it was raised from (``__cause__``/``__context__``).

    ``hint:`` lines already in a message are ignored: they are advice, not the error.
    """
    for link in exception_chain(exc):
        found = find_hint(type(link).__name__, without_hint_lines(exception_text(link)))
        if found:
            return found
    return None


def hint_for_exception(exc: BaseException) -> str | None:
    """:func:`hint_for` over an exception and the exceptions it was raised from."""
    found = find_hint_for_exception(exc)
    return found.text() if found is not None else None



# --------------------------------------------------------------------------- causes

#: The grouping rule, in one sentence (the report and the README quote it).
RULE = ("clauses share a cause when the hint table recognises the same known pitfall in them, else when they "
        "give the same fix, else when the "
        "same exception type was raised at the same line of the implementation's code, else when their messages "
        "read the same once numbers, shapes, quoted names, dtypes and addresses are taken out (for a spec check, "
        "only its `expected ..., seen ...` part counts)")
#: Exception types a clause raises for its own checks (``helpers.fail``, a bare ``assert``).
CHECK_TYPES = ("SpecFailure", "AssertionError")
_PLACEHOLDER = "…"
_CHECK = re.compile(r"^.*?: expected (?P<expected>.*), seen (?P<seen>.*)$", re.DOTALL)
_SETUP = re.compile(r"^\(error in \w+\) ")
_WORD = re.compile(r"[A-Za-z]{2,}")
_DTYPES = r"(?:b?float|u?int|complex)(?:8|16|32|64|128)?|half|double|bool|string"
#: Normalisation steps, in order: what varies between failures of one mistake becomes "…".
_NORMALISE = (
    (re.compile(r"\x1b\[[0-9;]*m"), ""),
    (re.compile(r"0x[0-9a-fA-F]+"), _PLACEHOLDER),  # addresses
    (re.compile(r"<[^<>\n]*>"), f"<{_PLACEHOLDER}>"),  # object reprs
    (re.compile(r"\bnp\.\w+\(([^()]*)\)"), r"\1"),  # np.float64(1.5) -> 1.5
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`"), f"'{_PLACEHOLDER}'"),  # quoted names
    (re.compile(rf"\b(?:tf\.)?(?:{_DTYPES})\b"), _PLACEHOLDER),  # dtype names
    (re.compile(r"\b[A-Za-z_]\w*?_\d+\b"), _PLACEHOLDER),  # auto-numbered names: my_dense_layer_3
    (re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b"), _PLACEHOLDER),  # numbers
)
_ITEM = rf"(?:{_PLACEHOLDER}|'{_PLACEHOLDER}'|None|True|False|\.\.\.|\?)"
_SHAPE = re.compile(rf"[(\[]\s*(?:{_ITEM}\s*(?:,\s*{_ITEM}\s*)*,?)?\s*[)\]]")


def normalise(text: str) -> str:
    """``text`` with numbers, shapes, quoted names, dtypes and addresses taken out (each becomes ``…``)."""
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    for _ in range(3):  # nested shapes: [(…, …), (…, …)]
        text = _SHAPE.sub(_PLACEHOLDER, text)
    return " ".join(text.split())


def _table(name: str | None):
    return next((hint for hint in HINTS if hint.name == name), None)


def _exc_type(clause) -> str:
    if clause.exc_type:
        return clause.exc_type
    first = _SETUP.sub("", clause.first_line)
    return first.split(":", 1)[0].rsplit(".", 1)[-1] if ":" in first else "Failure"


def pitfall_name(clause) -> str | None:
    """The hint table's name for the pitfall recognised in this failure (also for reports saved without it)."""
    if clause.pitfall_name:
        return clause.pitfall_name
    known = {hint.text(): hint.name for hint in HINTS}
    return known.get(clause.pitfall or "") or known.get(clause.hint or "")


def failure_text(clause) -> str:
    """What a failure says, normalised: ``expected X, seen Y`` for a spec check, else the whole message."""
    message = _SETUP.sub("", clause.message.strip())
    exc_type = _exc_type(clause)
    body = message.split(": ", 1)[1] if message.split(": ", 1)[0].rsplit(".", 1)[-1] == exc_type else message
    check = _CHECK.match(body.splitlines()[0] if body else "") if exc_type in CHECK_TYPES else None
    if not check:
        return normalise(body)
    text = normalise(f"expected {check['expected']}, seen {check['seen']}")
    if len(_WORD.findall(text)) < 4:  # "expected …, seen …" alone says nothing: what was measured then counts
        return normalise(check.string.split(": expected ", 1)[0]) + ": " + text
    return text


def cause_key(clause) -> tuple[str, str]:
    """``(kind, text)``: ``("pitfall", name)``, ``("raised", "Type at file:line in func")`` or ``("message", ...)``."""
    name = pitfall_name(clause)
    if name:
        return "pitfall", name
    if clause.origin:
        return "raised", f"{clause.origin_type or _exc_type(clause)} at {clause.origin}"
    return "message", f"{_exc_type(clause)}: {failure_text(clause)}"


@dataclasses.dataclass
class Cause:
    """Clauses that fail for one reason, with one of them to show, and the fix where one is known."""

    kind: str  # pitfall, raised or message
    text: str  # the pitfall's name, "Type at file:line in func", or "Type: normalised message"
    clauses: list  # ClauseResult, in reading order

    @property
    def slug(self) -> str:
        """A short name for this cause, for ``--spec-cause``: the pitfall's name, else ``<type>-<digest>``."""
        if self.kind == "pitfall":
            return self.text
        digest = hashlib.sha1(f"{self.kind}:{self.text}".encode()).hexdigest()[:6]
        return f"{re.split(r'[ :]', self.text, maxsplit=1)[0].lower()}-{digest}"

    @property
    def representative(self):
        """The clause to show: the first in reading order, preferring one with a hint and a short message."""
        return min(self.clauses, key=lambda c: (c.hint is None, area_sort_key(c.area), len(c.first_line), c.id))

    @property
    def title(self) -> str:
        hint = _table(self.text) if self.kind == "pitfall" else None
        if hint is not None:
            return f"known pitfall {hint.name}: {hint.what}"
        if self.kind == "raised":
            return f"{self.text.replace(' at ', ' raised at ', 1)}"
        return self.text

    @property
    def fix(self) -> str | None:
        """The table's fix for a known pitfall, else the representative clause's own hint."""
        hint = _table(self.text) if self.kind == "pitfall" else None
        if hint is not None:
            return hint.fix
        own = self.representative.hint
        return own.split("Usual fix: ", 1)[-1] if own else None

    @property
    def origin(self) -> str:
        """Where the implementation raised it: the commonest origin among the clauses ('' if none)."""
        origins = collections.Counter(c.origin for c in self.clauses if c.origin)
        return origins.most_common(1)[0][0] if origins else ""

    def areas(self) -> dict[str, int]:
        counts = collections.Counter(clause.area for clause in self.clauses)
        return {area: counts[area] for area in sorted(counts, key=area_sort_key)}

    def rerun(self, prefix: str) -> str:
        return f"{prefix} {self.slug}" if prefix else ""

    def as_dict(self, rerun_prefix: str = "") -> dict:
        rep = self.representative
        return {"cause": self.slug, "kind": self.kind, "title": self.title, "count": len(self.clauses),
                "areas": self.areas(), "fix": self.fix, "origin": self.origin,
                "example": {"id": rep.id, "area": rep.area, "clause": rep.name, "message": rep.first_line,
                            "hint": rep.hint},
                "rerun": self.rerun(rerun_prefix), "ids": [clause.id for clause in self.clauses]}


def own_fix(clause) -> str | None:
    """The fix a clause named itself (its own hint, not the table's), normalised; None when it named none."""
    if not clause.hint or pitfall_name(clause):
        return None
    return normalise(clause.hint.split("Usual fix: ", 1)[-1])


def group(clauses) -> list[Cause]:
    """The causes of these failed clauses: most clauses first, then in reading order.

    Clauses are grouped by :func:`cause_key`; then groups whose clauses name the same fix (their own hint) are one
    cause, whatever their messages: one mistake, one fix (a dropped mask fails eager, symbolic, warning and value
    clauses with four different messages and one fix).
    """
    ordered = sorted(clauses, key=lambda c: (area_sort_key(c.area), c.id))
    groups: dict[tuple[str, str], list] = {}
    for clause in ordered:
        groups.setdefault(cause_key(clause), []).append(clause)
    parent = {key: key for key in groups}  # union-find over the groups, the biggest group as each root

    def root(key):
        while parent[key] != key:
            key = parent[key]
        return key

    by_fix: dict[str, tuple[str, str]] = {}
    for key, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        for fix in dict.fromkeys(filter(None, map(own_fix, members))):
            first, mine = root(by_fix.setdefault(fix, key)), root(key)
            if first != mine:
                parent[mine] = first
    merged: dict[tuple[str, str], list] = {}
    for key, members in groups.items():
        merged.setdefault(root(key), []).extend(members)
    causes = [Cause(kind, text, sorted(members, key=lambda c: (area_sort_key(c.area), c.id)))
              for (kind, text), members in merged.items()]
    return sorted(causes, key=lambda cause: (-len(cause.clauses), area_sort_key(cause.clauses[0].area)))


__all__ = ["CHECK_TYPES", "HINTS", "RULE", "Cause", "Hint", "cause_key", "failure_text", "find_hint",
           "find_hint_for_exception", "group", "hint_for", "hint_for_exception", "normalise", "pitfall_name"]
