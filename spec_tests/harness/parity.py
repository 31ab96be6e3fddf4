"""``layer-spec check IMPL --backends tensorflow,jax[,torch]``: the spec on every backend, then parity between them.

Keras chooses its backend once per process (``KERAS_BACKEND``), so every stage
runs one child process per backend, each started by the launcher (:mod:`~spec_tests.harness.launcher`); a child
that cannot run is a "not run" row with the reason, never a pass:

1. **The spec**: ``pytest --pyargs spec_tests --impl IMPL --spec-report <backend>.json``;
   the results make one table, area x backend.
2. **Parity of values**: a worker (``spec_tests.harness.parity compute``) builds the layer for
   each of :data:`CASES`, gives it the same seeded weights, and records its outputs and the gradients of
   ``L = sum(y * g)`` w.r.t. the inputs, the kernel and the bias (``spec_tests.backend.gradients``). Every
   backend must agree with the first within :data:`RTOL` and :data:`ATOL`: float32, summed in different
   orders by different kernels, so a few float32 ulps.
3. **Parity of files**: the same worker saves each case as a ``.keras`` model; a second worker per backend
   (``load``) loads every other backend's files and must predict what the saving backend predicted, within
   the same tolerance.

The report (stdout, and ``--report PATH`` as Markdown) holds the three tables.
The exit status is 0 when the layer conforms on every backend and every parity check holds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from spec_tests import environment

#: Tolerance of every parity comparison: ``|a - b| <= ATOL + RTOL * |b|`` element-wise.
RTOL, ATOL = 1e-5, 1e-5  # as the differential clauses compare a layer with Dense
UNITS, INPUT_DIM = 3, 4
#: (name, constructor options, input shape); the seed profile's cases take no options.
CASES = (
    ("linear, bias, x(6,4)", {}, (6, INPUT_DIM)),
    ("tanh, bias, x(2,3,4)", {"activation": "tanh"}, (2, 3, INPUT_DIM)),
    ("relu, no bias, x(5,4)", {"activation": "relu", "use_bias": False}, (5, INPUT_DIM)),
)
QUANTITIES = ("output", "dL/dx", "dL/dkernel", "dL/dbias")
LEGACY_ENV = environment.LEGACY_KERAS


def parse_backends(text: str) -> list[str]:
    """``"tensorflow,jax"`` -> ``["tensorflow", "jax"]``; an unknown name is a usage error."""
    from spec_tests.backend import ALL_BACKENDS

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_BACKENDS]
    if unknown or not names:
        raise SystemExit(f"layer-spec: --backends {text!r}: expected names from {', '.join(ALL_BACKENDS)}")
    return list(dict.fromkeys(names))


def _env(backend: str) -> dict:
    from spec_tests.harness import launcher

    return launcher.child_environment({environment.KERAS_BACKEND: backend}, drop=(LEGACY_ENV,))


# --------------------------------------------------------------------------- stage 1: the spec per backend


def run_spec(args, backend: str, folder: Path, extra: list[str]) -> dict:
    """One pytest run on ``backend``: ``{"backend", "result" (RunResult or None), "exit", "message", "seconds"}``."""
    from spec_tests.harness import launcher
    from spec_tests.harness.records import RunResult

    report = folder / f"{backend}.json"
    args_ = launcher.check_args(argparse.Namespace(**{**vars(args), "report": str(report)}), ["-q", "-p", "no:randomly",
                                                                                             *extra])
    print(f"layer-spec: KERAS_BACKEND={backend} pytest {' '.join(args_)}", flush=True)
    child = launcher.run_child(launcher.python_command("pytest", *args_), _env(backend))
    result = None
    if report.is_file():
        try:
            result = RunResult.from_dict(json.loads(report.read_text()))
        except ValueError:
            result = None
    errors = [line.removeprefix("ERROR: ") for line in child.output.splitlines() if line.startswith("ERROR: ")]
    if result is not None and not child.unknown:
        message = result.headline()
    else:
        result = None  # a run that died or was killed gave no verdict, even where it left a report
        message = "could not run: " + (child.unknown or (errors[-1] if errors else
                                                         f"no report, pytest {launcher.how_it_ended(child.returncode)}"))
    print(f"layer-spec: backend {backend}: {message} ({child.seconds:.0f} s)", flush=True)
    return {"backend": backend, "result": result, "exit": child.returncode, "message": message,
            "seconds": child.seconds}


def spec_table(runs: list[dict]) -> list[str]:
    """Markdown: one row per area, one column per backend, cells ``passed / failed / skipped``."""
    areas: list[str] = []
    for run in runs:
        for area in (run["result"].areas() if run["result"] else {}):
            if area not in areas:
                areas.append(area)
    from spec_tests.harness.catalogue import area_sort_key

    lines = ["| area | " + " | ".join(run["backend"] for run in runs) + " |",
             "|---|" + "---:|" * len(runs)]

    def cell(counts: dict | None) -> str:
        if counts is None:
            return "not run"
        failed = counts["failed"] + counts.get("advisory", 0)
        return f"{counts['passed']} / {failed} / {counts['skipped']}"

    for area in sorted(areas, key=area_sort_key):
        lines.append(f"| {area} | " + " | ".join(cell(run["result"].area_counts(area) if run["result"] else None)
                                                 for run in runs) + " |")
    lines.append("| **total** | " + " | ".join(cell(run["result"].totals() if run["result"] else None)
                                               for run in runs) + " |")
    lines.append("| **verdict** | " + " | ".join(run["message"].replace("|", "\\|") for run in runs) + " |")
    return lines


# --------------------------------------------------------------------------- stages 2 and 3: the workers


def _case_layer(cls, profile: str, options: dict):
    return cls(UNITS) if profile == "seed" else cls(UNITS, **options)


def compute(impl: str, profile: str, folder: Path) -> dict:
    """In a worker: every case's values on this process's backend, and a ``.keras`` file per case."""
    from spec_tests import backend, generation, helpers
    from spec_tests.harness.selection import load_impl

    cls, _ = load_impl(impl)
    values: dict = {}
    for index, (name, options, shape) in enumerate(CASES):
        generation.clear_session()
        layer = _case_layer(cls, profile, options)
        layer(np.zeros((1, INPUT_DIM), "float32"))
        bias = helpers.layer_bias(layer)
        kernel_value = helpers.random_array((INPUT_DIM, UNITS), seed=100 + index)
        bias_value = None if bias is None else helpers.random_array((UNITS,), seed=200 + index)
        helpers.set_dense_weights(layer, kernel_value, bias_value)
        x = helpers.random_array(shape, seed=300 + index)
        g = helpers.random_array(shape[:-1] + (UNITS,), seed=400 + index)
        y, dx, grads = backend.gradients(layer, x, g, helpers.kernel_and_bias(layer))
        found = [y, dx, *grads] + ([None] if bias is None else [])
        values[name] = {q: None if v is None else helpers.to_numpy(v).tolist() for q, v in zip(QUANTITIES, found)}
        model = generation.keras.Sequential([generation.keras.Input(shape[1:]), layer])
        model.save(str(folder / f"{backend.BACKEND}-{index}{generation.MODEL_SUFFIX}"))
        np.save(folder / f"input-{index}.npy", x)
    return values


def load(impl: str, folder: Path, backends: list[str]) -> dict:
    """In a worker: every other backend's ``.keras`` files loaded here, and their outputs on the case's input."""
    from spec_tests import backend, generation, helpers
    from spec_tests.harness.selection import load_impl

    cls, _ = load_impl(impl)
    outputs: dict = {}
    for saver in backends:
        for index, (name, _, _) in enumerate(CASES):
            path = folder / f"{saver}-{index}{generation.MODEL_SUFFIX}"
            if saver == backend.BACKEND or not path.is_file():
                continue
            try:
                model = generation.keras.saving.load_model(str(path), custom_objects={cls.__name__: cls})
                y = model(backend.tensor(np.load(folder / f"input-{index}.npy")))
                outputs.setdefault(saver, {})[name] = helpers.to_numpy(y).tolist()
            except Exception as exc:  # noqa: BLE001 - reported in the file table
                outputs.setdefault(saver, {})[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return outputs


def _worker(stage: str, args, backend: str, folder: Path, backends: list[str]) -> dict | str:
    from spec_tests.harness import launcher

    out = folder / f"{stage}-{backend}.json"
    command = launcher.python_command("module", "spec_tests.harness.parity", stage, args.impl, "--profile", args.profile,
                                      "--folder", str(folder), "--backends", ",".join(backends))
    child = launcher.run_child(command, _env(backend))
    if child.unknown or child.returncode != 0 or not out.is_file():
        lines = [line for line in child.output.splitlines() if line.strip()]
        why = child.unknown or (lines[-1] if lines else launcher.how_it_ended(child.returncode))
        return f"the {stage} worker could not run: {why}"
    try:
        return json.loads(out.read_text())
    except ValueError as exc:
        return f"the {stage} worker wrote no readable values: {exc}"


def _difference(seen, expected) -> tuple[bool, str]:
    """Whether ``seen`` equals ``expected`` within the tolerance, and the largest absolute difference."""
    if isinstance(seen, str) or isinstance(expected, str):
        return False, seen if isinstance(seen, str) else expected
    if seen is None or expected is None:
        return seen is expected, "both absent" if seen is expected else "absent on one side"
    a, b = np.asarray(seen, np.float64), np.asarray(expected, np.float64)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    return bool(np.allclose(a, b, rtol=RTOL, atol=ATOL)), f"{diff:.1e}"


def value_table(values: dict[str, dict]) -> tuple[list[str], bool]:
    """Markdown: each case and quantity, the largest difference of each backend from the first."""
    names = list(values)
    reference, others = names[0], names[1:]
    lines = [f"| case | quantity | " + " | ".join(f"{b} vs {reference}" for b in others) + " |",
             "|---|---|" + "---:|" * len(others)]
    ok = True
    for case, _, _ in CASES:
        for quantity in QUANTITIES:
            cells = []
            for other in others:
                agree, text = _difference(values[other][case][quantity], values[reference][case][quantity])
                ok &= agree
                cells.append(text if agree else f"**{text}** ✗")
            lines.append(f"| {case} | {quantity} | " + " | ".join(cells) + " |")
    return lines, ok


def file_table(values: dict[str, dict], loaded: dict[str, dict]) -> tuple[list[str], bool]:
    """Markdown: saved under (rows) x loaded under (columns), the largest output difference over the cases."""
    names = list(values)
    lines = ["| saved under \\ loaded under | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    ok = True
    for saver in names:
        cells = []
        for loader in names:
            if loader == saver:
                cells.append("—")
                continue
            worst, agree_all = "0", True
            for case, _, _ in CASES:
                seen = loaded.get(loader, {}).get(saver, {}).get(case, "not loaded")
                agree, text = _difference(seen, values[saver][case]["output"])
                if not agree:
                    agree_all, worst = False, text
                elif agree_all and text not in ("both absent",) and float(text) >= float(worst):
                    worst = text
            ok &= agree_all
            cells.append(worst if agree_all else f"**{worst}** ✗")
        lines.append(f"| {saver} | " + " | ".join(cells) + " |")
    return lines, ok


# --------------------------------------------------------------------------- the command


def check_backends(args, extra: list[str]) -> int:
    """``layer-spec check IMPL --backends ...``: the three stages, the report, the exit status."""
    if args.legacy:
        print("layer-spec: --backends needs Keras 3: legacy Keras 2 (--legacy) runs on TensorFlow only",
              file=sys.stderr)
        return 4
    backends = parse_backends(args.backends)
    with tempfile.TemporaryDirectory(prefix="layer-spec-parity-") as tmp:
        folder = Path(tmp)
        runs = [run_spec(args, backend, folder, extra) for backend in backends]
        ran = [run["backend"] for run in runs if run["result"] is not None]
        values = {b: _worker("compute", args, b, folder, ran) for b in ran}
        failed = {b: v for b, v in values.items() if isinstance(v, str)}
        values = {b: v for b, v in values.items() if not isinstance(v, str)}
        loaded = {b: _worker("load", args, b, folder, list(values)) for b in values}
    lines = [f"# Backend parity: `{args.impl}`", "",
             f"Made by `layer-spec check {args.impl} --profile {args.profile} --backends {','.join(backends)}`.", "",
             "## The spec on each backend", "", "Cells: passed / failed / skipped clause cases.", "",
             *spec_table(runs), ""]
    for run in runs:
        if run["result"] is not None:
            lines.append(f"- {run['backend']}: {run['result'].versions.get('runtime', '')}, "
                         f"{run['seconds']:.0f} s")
        else:
            lines.append(f"- {run['backend']}: {run['message']}")
    ok = all(run["exit"] == 0 for run in runs) and not failed
    lines += ["", "## Same weights, same inputs: outputs and gradients", "",
              f"Each backend against the first, largest absolute difference; equal means within rtol {RTOL:g} and "
              f"atol {ATOL:g} element-wise (float32: different kernels sum in different orders). "
              "Gradients of `L = sum(y * g)`.", ""]
    lines += [f"- {b}: {message}" for b, message in failed.items()]
    if len(values) >= 2:
        table, same = value_table(values)
        files, portable = file_table(values, {b: v for b, v in loaded.items() if not isinstance(v, str)})
        ok &= same and portable
        lines += [*table, "", "## A `.keras` file saved under one backend, loaded under another", "",
                  "Largest absolute difference of the loaded model's outputs from the saving backend's, over the "
                  "cases, same tolerance.", "", *files]
        lines += [f"- load on {b}: {v}" for b, v in loaded.items() if isinstance(v, str)]
    else:
        ok = False
        lines.append("Fewer than two backends ran the layer: nothing to compare.")
    lines += ["", f"**{'PARITY' if ok else 'NO PARITY'}** across {', '.join(backends)}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.report:
        Path(args.report).write_text(text)
    return 0 if ok else 1


def main(argv=None) -> int:
    """The workers: ``python -m spec_tests.harness.parity compute|load IMPL --folder F --backends a,b``."""
    parser = argparse.ArgumentParser(prog="python -m spec_tests.harness.parity")
    parser.add_argument("stage", choices=("compute", "load"))
    parser.add_argument("impl")
    parser.add_argument("--profile", default="dense")
    parser.add_argument("--folder", required=True)
    parser.add_argument("--backends", required=True)
    args = parser.parse_args(argv)
    from spec_tests.backend import BACKEND

    folder = Path(args.folder)
    found = (compute(args.impl, args.profile, folder) if args.stage == "compute"
             else load(args.impl, folder, args.backends.split(",")))
    (folder / f"{args.stage}-{BACKEND}.json").write_text(json.dumps(found))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
