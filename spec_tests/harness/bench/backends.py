"""The same layer across Keras backends: one benchmark run per backend, each in its own process, merged into one table.

``layer-spec bench backends [--impl SPEC] [--backends tensorflow,jax] [--out DIR] [-- PYTEST_ARGS]``
runs ``pytest --benchmark-only`` under ``KERAS_BACKEND=<backend>`` for each backend
(a process cannot switch backends), keeps each run's JSON in ``DIR``, and prints one
row per mode x shape with, per backend, the implementation's time and its paired
ratios. ``layer-spec bench merge A.json B.json`` merges runs saved earlier.

Within a backend the ratios are paired (interleaved in one process); across
backends only the times can be set side by side, and they come from runs minutes
apart, so the ``JAX/TF`` column is as noisy as the machine (each run's peak matmul
is printed to show how busy it was).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from spec_tests import environment
from spec_tests.harness.bench.cases import BACKENDS, FLAG
from spec_tests.harness.bench.table import build_table, format_ratio, format_time, records_from_json

#: Runs on TensorFlow and JAX alike (keras.ops); the reference MyDenseLayer is TensorFlow-only.
DEFAULT_IMPL = "layers:OpsDense"
SHORT = {"tensorflow": "TF", "jax": "JAX"}


def backend_of(data: dict) -> str:
    """The Keras backend a saved run ran on (runs from before the field: TensorFlow)."""
    for record in records_from_json(data):
        return (record.get("extra_info") or {}).get("backend", "tensorflow")
    return "tensorflow"


def run_backend(backend: str, impl: str, json_path: Path, pytest_args=(), timeout: float = 3600) -> str:
    """``pytest --benchmark-only`` of the suite under ``KERAS_BACKEND=backend``, in a child the launcher starts;
    why it gave no table ("" when it did)."""
    from spec_tests.harness import launcher

    env = launcher.child_environment({environment.KERAS_BACKEND: backend},
                                     drop=(environment.LEGACY_KERAS,))  # legacy Keras 2 has no backends
    args = ["-p", "no:randomly", "-q", "--pyargs", "spec_tests.test_benchmarks", "--benchmark-only", f"--impl={impl}",
            f"--benchmark-json={json_path}", *pytest_args]
    print(f"== {backend}: pytest {' '.join(args)}", flush=True)
    child = launcher.run_child(launcher.python_command("pytest", *args), env, timeout=timeout, capture=False)
    if child.unknown:
        return child.unknown
    if child.returncode not in (0, 1):
        return f"pytest ended with {launcher.how_it_ended(child.returncode)}"
    return "" if Path(json_path).exists() else "it wrote no --benchmark-json"


@dataclasses.dataclass
class CrossTable:
    """Rows of several runs, one per backend, by mode x shape."""

    tables: dict  # backend -> Table

    @property
    def keys(self) -> list:
        seen = []
        for table in self.tables.values():
            seen += [(r.mode, r.shape) for r in table.rows if (r.mode, r.shape) not in seen]
        return seen

    def row(self, backend: str, key):
        return next((r for r in self.tables[backend].rows if (r.mode, r.shape) == key), None)


def cross_columns(cross: CrossTable) -> list[str]:
    columns = ["mode", "shape"]
    for backend in cross.tables:
        short = SHORT.get(backend, backend)
        columns += [f"{short} impl", f"{short} impl/raw", f"{short} impl/Dense"]
    if len(cross.tables) == 2:
        a, b = (SHORT.get(k, k) for k in cross.tables)
        columns.append(f"{b}/{a} impl (unpaired)")
    return columns


def cross_cells(cross: CrossTable) -> list[list[str]]:
    cells = []
    for key in cross.keys:
        line, times = [key[0], key[1]], []
        for backend in cross.tables:
            row = cross.row(backend, key)
            impl = row.medians.get("impl") if row else None
            times.append(impl)
            line += [format_time(impl),
                     format_ratio(row.ratio("raw"), row.spread("raw")) if row else "-",
                     format_ratio(row.ratio("keras_dense"), row.spread("keras_dense")) if row else "-"]
        if len(cross.tables) == 2:
            line.append(f"{times[1] / times[0]:.2f}" if all(times) else "-")
        cells.append(line)
    return cells


def cross_header(cross: CrossTable) -> list[str]:
    lines = []
    for backend, table in cross.tables.items():
        peak = table.peak
        peak_text = f"peak matmul {peak.gflops:.0f} GFLOP/s" if peak else "peak not measured"
        lines.append(f"{SHORT.get(backend, backend)}: impl = {table.impl}; {table.keras}; {peak_text}")
    lines.append("impl: median time per call; ratios: paired medians (quartiles) within each backend's run")
    return lines


def format_cross(cross: CrossTable, markdown: bool = False) -> str:
    columns, cells = cross_columns(cross), cross_cells(cross)
    if markdown:
        out = [f"- {line}" for line in cross_header(cross)] + ["", "| " + " | ".join(columns) + " |",
                                                               "|" + "|".join("---" if i < 2 else "---:"
                                                                              for i in range(len(columns))) + "|"]
        out += ["| " + " | ".join(c).replace(FLAG, f"**{FLAG}**") + " |" for c in cells]
        return "\n".join(out) + "\n"
    widths = [max(len(c) for c in col) for col in zip(columns, *cells)]

    def line(values):
        return "  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths)))

    return "\n".join(cross_header(cross) + ["", line(columns), "  ".join("-" * w for w in widths)]
                     + [line(c) for c in cells])


def load_cross(paths) -> CrossTable:
    """Merge saved runs (``--benchmark-json`` files), keyed by the backend each ran on, in :data:`BACKENDS` order."""
    tables: dict = {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        tables[backend_of(data)] = build_table(records_from_json(data))
    order = {b: i for i, b in enumerate(BACKENDS)}
    return CrossTable({b: tables[b] for b in sorted(tables, key=lambda b: order.get(b, len(order)))})


def backends_main(argv) -> int:
    """``layer-spec bench backends``: the suite under each Keras backend, one process each, and the merged table."""
    import argparse

    parser = argparse.ArgumentParser(prog="layer-spec bench backends", description=backends_main.__doc__)
    parser.add_argument("--impl", default=DEFAULT_IMPL, help=f"the layer (default {DEFAULT_IMPL}: runs on every backend)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated (default: tensorflow,jax)")
    parser.add_argument("--out", default=".benchmarks/backends", help="folder for each run's JSON")
    parser.add_argument("--markdown", action="store_true", help="print the merged table as Markdown")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to each pytest run (e.g. -k small)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths, failed = [], []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend not in BACKENDS:
            parser.error(f"--backends: {backend!r} is not one of {', '.join(BACKENDS)}")
        path = out / f"{backend}.json"
        path.unlink(missing_ok=True)  # an earlier run's file is no result of this one
        why = run_backend(backend, args.impl, path, args.pytest_args)
        if why:
            failed.append(f"{backend}: could not run: {why}")
        else:
            paths.append(path)
    if paths:
        print(format_cross(load_cross(paths), markdown=args.markdown))
    for line in failed:
        print(f"- {line}" if args.markdown else line)
    return 2 if failed else 0


def merge_main(argv) -> int:
    """``layer-spec bench merge RUN.json RUN.json [--markdown]``: the cross-backend table of saved runs."""
    import argparse

    parser = argparse.ArgumentParser(prog="layer-spec bench merge", description=merge_main.__doc__)
    parser.add_argument("json", nargs="+", help="--benchmark-json files, one per backend")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    print(format_cross(load_cross(args.json), markdown=args.markdown))
    return 0


__all__ = [
    "DEFAULT_IMPL", "CrossTable", "backend_of", "backends_main", "cross_cells", "cross_columns", "format_cross",
    "load_cross", "merge_main", "run_backend",
]
