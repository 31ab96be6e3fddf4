"""The benchmark plugin's logic: the table, its ratios and flags, on fake stats; and that a default run times nothing."""

from __future__ import annotations

import json

import pytest

from spec_tests.harness.bench import __main__ as bench_main
from spec_tests.harness.bench.cases import (
    CASE_CAP, CONTENDERS, MODES, PEAK_FLOPS, QUICK_SHAPES, SHAPES, SKIPPED, SUITE, case_id, cases,
)
from spec_tests.harness.bench.table import (
    COLUMNS, build_table, flag_lines, format_markdown, format_ratio, format_text, format_time, records_from_json,
    table_cells, target_lines,
)
from spec_tests.harness.bench.paired import format_paired, paired_summary
from spec_tests.harness.bench.plot import write_plot
from spec_tests.harness.bench.plugin import run_kind
from tests.support import run_spec, tail


def record(mode, shape, contender, median, suite=SUITE):
    s = SHAPES[shape]
    return {
        "name": f"test_bench_dense[{case_id(mode, shape, contender)}]",
        "extra_info": {"suite": suite, "mode": mode, "shape": shape, "contender": contender,
                       "shape_label": s.label, "flops": s.flops(mode), "impl": "fake:Layer", "keras": "Keras 9"},
        "stats": {"median": median, "min": median / 2},
    }


def peak(median=0.1, when="first"):
    return {"extra_info": {"suite": SUITE, "mode": "peak", "contender": "peak", "shape": when,
                           "flops": PEAK_FLOPS},
            "stats": {"median": median, "min": median}}


def fake_records():
    return [
        record("tf_function", "medium", "impl", 2.2e-3),
        record("tf_function", "medium", "raw", 2.0e-3),
        record("tf_function", "medium", "keras_dense", 2.1e-3),
        record("eager", "small", "impl", 3.0e-3),  # 10x raw, 1.2x Dense: Keras's call overhead
        record("eager", "small", "raw", 3.0e-4),
        record("eager", "small", "keras_dense", 2.5e-3),
        peak(),
    ]


def test_rows_are_grouped_per_mode_and_shape_in_run_order():
    table = build_table(fake_records())
    assert [(r.mode, r.shape) for r in table.rows] == [("eager", "small"), ("tf_function", "medium")]
    assert table.impl == "fake:Layer" and table.keras == "Keras 9"


def test_ratios_gflops_and_percent_of_peak():
    table = build_table(fake_records())
    row = table.rows[1]
    assert row.ratio("raw") == pytest.approx(1.1)
    assert row.ratio("keras_dense") == pytest.approx(2.2 / 2.1)
    flops = 2 * 256 * 1024 * 1024
    assert row.gflops == pytest.approx(flops / 2.2e-3 / 1e9)
    assert table.peak.gflops == pytest.approx(PEAK_FLOPS / 0.1 / 1e9)
    assert table.percent_of_peak(row) == pytest.approx(100 * row.gflops / table.peak.gflops)


def test_peak_is_the_best_measurement_and_a_load_change_is_reported():
    steady = build_table(fake_records() + [peak(0.11, "last")])
    assert steady.peak.seconds == 0.1 and steady.load_changed is None
    assert "warning" not in format_text(steady)
    busy = build_table(fake_records() + [peak(0.3, "last")])
    assert busy.peak.seconds == 0.1 and busy.load_changed == pytest.approx(3.0)
    assert "warning: the machine's load changed during the run (peak matmul first 100 ms, last 300 ms: 3.0x apart)" \
        in format_text(busy)


def test_table_of_another_statistic():
    table = build_table(fake_records(), stat="min")
    assert table.rows[0].medians["impl"] == pytest.approx(1.5e-3)
    assert "min time per call" in format_text(table)


def test_rounds_fill_the_budget_within_bounds():
    small = SHAPES["small"]
    assert small.rounds(small.budget / (small.min_rounds + 5)) == small.min_rounds + 5
    assert small.rounds(0.05) == small.min_rounds
    assert small.rounds(1e-9) == small.max_rounds
    # On a busy machine a slow call gets fewer rounds than min_rounds, but never fewer than 3.
    slow = CASE_CAP / 5
    assert small.rounds(slow) == 5 and small.rounds(CASE_CAP * 10) == 3


def test_training_step_counts_three_matmuls_and_predict_counts_batches():
    medium = SHAPES["medium"]
    assert medium.flops("train_step") == 3 * medium.flops("tf_function") == 3 * 2 * 256 * 1024 * 1024
    assert medium.flops("predict") == medium.predict_batches * medium.forward_flops
    rank3 = SHAPES["rank3"]
    assert rank3.rows == 32 * 128 and rank3.label == "32x128x512->512"


def test_ratio_above_limit_is_flagged_and_named():
    table = build_table(fake_records())
    cells = table_cells(table)
    eager = cells[0]
    assert eager[COLUMNS.index("impl/raw")] == "10.00 !!"
    assert eager[COLUMNS.index("impl/Dense")] == "1.20"
    assert "!!" not in " ".join(cells[1])
    (line,) = flag_lines(table)
    assert line.startswith("!! eager small (32x64->64): impl is slower than baseline raw by 10.0x (3 ms vs 300 µs)")
    # keras_dense is 8.3x slower than raw too, and impl is in line with it: Keras's overhead, said so.
    assert "keras_dense/raw is 8.3x too, so this is Keras's own layer overhead" in line


def test_no_overhead_excuse_when_impl_is_far_slower_than_dense_too():
    records = [record("train_step", "medium", "impl", 12.0), record("train_step", "medium", "raw", 0.035),
               record("train_step", "medium", "keras_dense", 0.06)]
    raw_line, dense_line = flag_lines(build_table(records))
    assert "baseline raw by 342.9x" in raw_line and "overhead" not in raw_line
    assert "baseline keras_dense by 200.0x" in dense_line


def test_exactly_the_limit_is_not_flagged():
    assert format_ratio(1.5) == "1.50"
    assert format_ratio(1.51) == "1.51 !!"
    assert format_ratio(None) == "-"


def test_overhead_note_only_when_dense_is_slow_too():
    records = [record("xla", "large", "impl", 2.0), record("xla", "large", "raw", 1.0),
               record("xla", "large", "keras_dense", 1.0)]
    raw_line, dense_line = flag_lines(build_table(records))
    assert "baseline raw by 2.0x" in raw_line and "overhead" not in raw_line
    assert "baseline keras_dense by 2.0x" in dense_line


def test_missing_contender_and_peak_leave_blank_cells():
    table = build_table([record("xla", "small", "impl", 1e-4), record("xla", "small", "raw", 1e-4)])
    (cells,) = table_cells(table)
    assert cells[COLUMNS.index("keras_dense")] == "-"
    assert cells[COLUMNS.index("impl/Dense")] == "-"
    assert cells[COLUMNS.index("% peak")] == "-"
    assert "not measured" in format_text(table)


def test_other_suites_records_are_ignored():
    table = build_table([record("xla", "small", "impl", 1e-4, suite="someone-else")])
    assert table.rows == []


def test_targets_met_and_missed():
    records = [record("tf_function", "medium", "impl", 1.04), record("tf_function", "medium", "raw", 1.0),
               record("xla", "medium", "impl", 1.10), record("xla", "medium", "raw", 1.0),
               record("eager", "small", "impl", 0.9), record("eager", "small", "keras_dense", 1.0)]
    results = dict(target_lines(build_table(records)))
    assert sum(results.values()) == 2
    met = [text for text, ok in results.items() if ok]
    assert any("tf_function medium" in t for t in met) and any("eager small" in t for t in met)
    assert any("xla medium" in t and t.endswith("MISSED") for t in results)
    assert not any("large" in t for t in results), "targets this run did not measure are left out"


def test_time_formatting():
    assert format_time(0.2) == "200 ms"
    assert format_time(1.234) == "1.23 s"
    assert format_time(4.5e-5) == "45 µs"
    assert format_time(3.21e-4) == "321 µs"
    assert format_time(None) == "-"


def test_text_and_markdown_tables():
    table = build_table(fake_records())
    text = format_text(table)
    assert "impl/raw" in text and "impl/Dense" in text and "GFLOP/s" in text and "% peak" in text
    assert "machine peak" in text and "172 GFLOP/s" in text
    assert "10.00 !!" in text and "!! eager small" in text
    markdown = format_markdown(table, "context line")
    lines = markdown.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| mode"))
    assert lines[header + 1].startswith("|---|---|---:")
    assert len([line for line in lines if line.startswith("| ")]) == 1 + len(table.rows)
    assert "10.00 **!!**" in markdown and lines[0] == "context line"


def test_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = write_plot(build_table(fake_records()), tmp_path / "sub" / "bench.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_from_a_saved_json_run(tmp_path, capsys):
    path = tmp_path / "0001_run.json"
    path.write_text(json.dumps({"datetime": "today", "benchmarks": fake_records() + [
        {"name": "test_other", "extra_info": {}, "stats": {"median": 1.0}}]}))
    assert len(records_from_json(json.loads(path.read_text()))) == len(fake_records())
    assert bench_main.main([str(path), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Run of today") and "| eager | small 32x64->64 |" in out


def test_cases_cover_every_mode_shape_and_contender_but_the_skipped():
    ids = [case_id(m, s.name, c) for m, s, c in cases()]
    assert len(ids) == len(set(ids))
    expected = len(MODES) * len(SHAPES) * len(CONTENDERS) - len(SKIPPED) * len(CONTENDERS)
    assert len(ids) == expected
    for (mode, shape), why in SKIPPED.items():
        assert why and not any(i.startswith(f"{mode}-{shape}-") for i in ids)
    assert set(QUICK_SHAPES) <= set(SHAPES)


class FakeConfig:
    def __init__(self, **options):
        self.options = options

    def getoption(self, name):
        if name not in ("benchmark_only", "benchmark_disable", "benchmark_enable"):
            raise ValueError(name)
        return self.options.get(name, False)


@pytest.mark.parametrize("options, kind", [
    ({}, "off"),
    ({"benchmark_only": True}, "timed"),
    ({"benchmark_disable": True}, "quick"),
    ({"benchmark_disable": True, "benchmark_enable": True}, "timed"),
    ({"benchmark_enable": True}, "timed"),
])
def test_run_kind(options, kind):
    assert run_kind(FakeConfig(**options)) == kind


def test_default_run_deselects_every_benchmark():
    proc = run_spec("spec_tests/test_benchmarks.py", "--collect-only", "-q", timeout=300)
    n = sum(1 for _ in cases()) + 2  # and the two peak matmuls
    assert f"{n} deselected" in proc.output, tail(proc.output)
    assert "test_bench_dense[" not in proc.output.replace("benchmarks deselected", ""), tail(proc.output)
    assert "pytest --benchmark-only" in proc.output, tail(proc.output)


def test_paired_summary_takes_ratios_round_by_round():
    # A load burst in round 2 slows every contender alike: per-round ratios stay 1.1 and 2.0.
    times = {"impl": [1.1, 11.0, 1.1], "raw": [1.0, 10.0, 1.0], "keras_dense": [0.55, 5.5, 0.55]}
    summary = paired_summary(times)
    assert summary["rounds"] == 3
    assert summary["medians"]["impl"] == 1.1
    assert summary["impl/raw"] == pytest.approx((1.1, 1.1, 1.1))
    assert summary["impl/keras_dense"] == pytest.approx((2.0, 2.0, 2.0))
    line = format_paired("xla", "medium", summary)
    assert "impl/raw=1.100" in line and "impl/Dense=2.000" in line and "rounds=3" in line
