"""The benchmark plugin's logic: interleaving, the table, its ratios and flags, ratio tracking and the cross-backend
table, on fake stats and fake clocks; and that a default run times nothing."""

from __future__ import annotations

import json

import pytest

from spec_tests.harness.bench import __main__ as bench_main
from spec_tests.harness.bench.cases import (
    CONTENDERS, CYCLE, MODES, PEAK_FLOPS, QUICK_SHAPES, SHAPES, SKIPPED, SUITE, case_id, cases, modes_for,
)
from spec_tests.harness.bench.table import (
    COLUMNS, build_table, flag_lines, format_markdown, format_ratio, format_text, format_time, records_from_json,
    table_cells, target_lines,
)
from spec_tests.harness.bench.paired import (
    ORDERS, REPLAY_CLOCK, format_paired, interleave, measure_row, median_error, paired_summary, ratio_info, replay,
)
from spec_tests.harness.bench.backends import cross_cells, cross_columns, load_cross
from spec_tests.harness.bench.plot import write_plot
from spec_tests.harness.bench.track import compare_tables, comparison_lines, parse_threshold, regressions
from spec_tests.harness.bench.plugin import run_kind
from tests.support import MECHANICS, run_spec, tail


def record(mode, shape, contender, median, suite=SUITE, paired=None, backend=None):
    """A fake record; ``paired`` = {baseline: (q1, median, q3)} adds the interleaved ratios to its extra_info."""
    s = SHAPES[shape]
    info = {"suite": suite, "mode": mode, "shape": shape, "contender": contender,
            "shape_label": s.label, "flops": s.flops(mode), "impl": "fake:Layer", "keras": "Keras 9"}
    if paired is not None:
        info.update(paired_rounds=60, ratio_spread={})
        for baseline, (q1, q2, q3) in paired.items():
            info[f"ratio_to_{baseline}"] = q2
            info["ratio_spread"][f"to_{baseline}"] = [q1, q3]
    if backend is not None:
        info["backend"] = backend
    return {
        "name": f"test_bench_dense[{case_id(mode, shape, contender)}]",
        "fullname": f"spec_tests/test_benchmarks.py::test_bench_dense[{case_id(mode, shape, contender)}]",
        "extra_info": info,
        "stats": {"median": median, "min": median / 2},
    }


def paired_row(mode, shape, impl, raw, dense, to_raw, to_dense, backend=None):
    """The three records of one interleaved row: medians, and impl's paired ratios (spread +-10%)."""
    return [record(mode, shape, "impl", impl, backend=backend,
                   paired={"raw": (to_raw * 0.9, to_raw, to_raw * 1.1), "keras_dense": (to_dense * 0.9, to_dense,
                                                                                           to_dense * 1.1)}),
            record(mode, shape, "raw", raw, backend=backend), record(mode, shape, "keras_dense", dense, backend=backend)]


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


class FakeClock:
    """A clock that each fake call moves on by its contender's duration (no real time passes)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def calls(self, durations):
        """{contender: call} where each call advances the clock by ``durations[contender](round)``."""
        counters = {name: 0 for name in durations}

        def make(name):
            def call():
                self.now += durations[name](counters[name])
                counters[name] += 1
                return name
            return call

        return {name: make(name) for name in durations}


def test_every_order_of_the_contenders_comes_once_per_cycle():
    assert len(ORDERS) == CYCLE == 6 and len(set(ORDERS)) == 6
    for contender in CONTENDERS:  # each contender is first, second and last equally often
        assert sorted(order.index(contender) for order in ORDERS) == [0, 0, 1, 1, 2, 2]
    clock = FakeClock()
    seen = []
    calls = {name: (lambda name=name: seen.append(name)) for name in CONTENDERS}
    interleave(calls, 12, clock=clock)
    assert [tuple(seen[i:i + 3]) for i in range(0, 36, 3)] == list(ORDERS) * 2


def test_rounds_stop_when_precise_at_a_cycle_boundary():
    clock = FakeClock()
    steady = clock.calls({"impl": lambda i: 1.1, "raw": lambda i: 1.0, "keras_dense": lambda i: 1.0})
    times = interleave(steady, min_rounds=12, max_rounds=600, precision=0.01, clock=clock)
    assert len(times["impl"]) == 12, "identical rounds are precise at once: no round beyond min_rounds"


def test_noisy_rounds_run_on_until_the_cap_never_before_min_rounds():
    clock = FakeClock()
    noisy = clock.calls({"impl": lambda i: 1.0 + (i % 7) * 0.3, "raw": lambda i: 1.0 + (i % 5) * 0.3,
                         "keras_dense": lambda i: 1.0})
    times = interleave(noisy, min_rounds=12, max_rounds=600, cap=100.0, precision=1e-6, clock=clock)
    rounds = len(times["impl"])
    assert 12 < rounds < 600 and sum(map(sum, times.values())) >= 100.0
    assert len(interleave(noisy, min_rounds=12, max_rounds=600, cap=0.0, precision=1e-6, clock=clock)["raw"]) == 12


def test_median_error_reads_the_spread_around_the_median():
    assert median_error([1.0] * 50) == 0.0
    assert median_error([1.0, 2.0]) == float("inf"), "too few values to say"
    wide = [float(v) for v in range(100)]
    assert 4.0 < median_error(wide) < 6.0  # ranks 44.5 +- 5 of a uniform ramp: about 5


def test_measure_row_keeps_a_broken_contender_out_of_the_rounds():
    clock = FakeClock()
    calls = clock.calls({"impl": lambda i: 2.0, "raw": lambda i: 1.0, "keras_dense": lambda i: 1.0})

    def check(result):
        assert result != "impl", "impl computed something else"

    row = measure_row(lambda c: (calls[c], check), "xla", SHAPES["medium"], rounds=6, clock=clock)
    assert set(row.times) == {"raw", "keras_dense"} and "impl computed something else" in str(row.errors["impl"])
    info = row.info("keras_dense")
    assert info["ratio_to_raw"] == 1.0 and info["ratio_to_keras_dense"] == 1.0 and row.info("impl")["ratio_to_raw"] is None


def test_ratio_info_is_the_median_and_quartiles_of_per_round_ratios():
    # A load burst in round 2 slows every contender alike: the per-round ratios do not move.
    times = {"impl": [2.0, 20.0, 2.0, 2.2], "raw": [1.0, 10.0, 1.0, 1.0], "keras_dense": [2.0, 20.0, 2.0, 2.0]}
    info = ratio_info(times, "impl")
    assert info["ratio_to_raw"] == pytest.approx(2.0) and info["ratio_to_keras_dense"] == pytest.approx(1.0)
    assert info["ratio_spread"]["to_raw"] == pytest.approx([2.0, 2.05]) and info["paired_rounds"] == 4
    assert ratio_info(times, "raw")["ratio_to_keras_dense"] == pytest.approx(0.5)


class FakeBenchmark:
    """pytest-benchmark's pedantic loop, reduced to what ``replay`` relies on: its timer around each call."""

    def __init__(self, timer):
        self.timer, self.durations = timer, []

    def pedantic(self, target, setup, rounds, iterations):
        for _ in range(rounds):
            args, kwargs = setup()
            start = self.timer()
            target(*args, **kwargs)
            self.durations.append(self.timer() - start)


def test_replay_hands_the_measured_durations_to_the_benchmark_fixture():
    fake = FakeBenchmark(REPLAY_CLOCK)
    replay(fake, [0.5, 0.25, 2.0])
    assert fake.durations == [0.5, 0.25, 2.0]


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


@MECHANICS
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


def test_paired_ratios_win_over_the_ratio_of_medians_and_show_their_spread():
    # The medians say impl is 2x raw (the machine was busy during some impl calls); the paired rounds say 1.02.
    table = build_table(paired_row("tf_function", "medium", 2.0, 1.0, 1.0, 1.02, 0.98))
    row = table.rows[0]
    assert row.ratio("raw") == pytest.approx(1.02) and row.spread("raw") == pytest.approx((0.918, 1.122))
    cells = table_cells(table)[0]
    assert cells[COLUMNS.index("impl/raw")] == "1.02 (0.92-1.12)" and cells[COLUMNS.index("rounds")] == "60"
    assert "!!" not in " ".join(cells) and "per-round ratios of interleaved calls" in format_text(table)


def test_the_header_names_a_backend_other_than_tensorflow():
    assert "backend" not in format_text(build_table(fake_records())).splitlines()[0]
    jax = build_table(paired_row("xla", "small", 1e-4, 1e-4, 1e-4, 1.0, 1.0, backend="jax"))
    assert jax.backend == "jax" and "Keras 9, backend jax;" in format_text(jax)


def test_jax_has_no_tf_function_mode():
    assert "tf_function" in modes_for("tensorflow") and "tf_function" not in modes_for("jax")
    assert len(list(cases("jax"))) == len(list(cases())) - 4 * len(CONTENDERS)


# --- Tracking by ratios


def test_threshold_parsing():
    assert parse_threshold("10%") == pytest.approx(0.1) and parse_threshold("0.25") == 0.25
    for bad in ("ten", "0%", "-5%"):
        with pytest.raises(ValueError):
            parse_threshold(bad)


def test_a_machine_slowing_down_uniformly_cannot_trip_the_ratio_comparison():
    saved = build_table(paired_row("tf_function", "small", 1e-4, 1e-4, 1e-4, 1.0, 1.0))
    slower_machine = build_table(paired_row("tf_function", "small", 5e-4, 5e-4, 5e-4, 1.03, 0.99))  # every time x5
    changes = compare_tables(saved, slower_machine)
    assert len(changes) == 2 and not regressions(changes, 0.10)
    assert "no ratio regression beyond 10%" in comparison_lines(changes, 0.10, "0001_run.json")


def test_a_row_slower_against_both_baselines_is_a_regression_and_named():
    saved = build_table(paired_row("xla", "medium", 1e-2, 1e-2, 1e-2, 1.0, 1.0)
                        + paired_row("eager", "small", 1e-3, 3e-4, 1e-3, 3.0, 1.0))
    now = build_table(paired_row("xla", "medium", 2e-2, 1e-2, 1e-2, 1.95, 2.05)
                      + paired_row("eager", "small", 1e-3, 3e-4, 1e-3, 3.3, 1.15))
    (row,) = regressions(compare_tables(saved, now), 0.10)
    assert [(c.mode, c.shape, c.baseline) for c in row] == [("xla", "medium", "raw"), ("xla", "medium", "keras_dense")]
    lines = comparison_lines(compare_tables(saved, now), 0.10, "0001_run.json")
    assert ("RATIO REGRESSION xla medium: impl/raw 1.000 -> 1.950 (+95.0%), impl/Dense 1.000 -> 2.050 (+105.0%) > +10%"
            in lines), lines
    assert not any("eager small" in line and "REGRESSION" in line for line in lines), "+10.0% is not beyond 10%"


def test_one_ratio_moving_alone_is_a_note_not_a_regression():
    # Between two runs of the same layer, predict's impl/raw moved 13% (Keras's predict loop against a plain loop)
    # while impl/Dense stayed: a baseline moved, not the implementation.
    saved = build_table(paired_row("predict", "medium", 4e-2, 3e-2, 4e-2, 1.38, 0.99))
    now = build_table(paired_row("predict", "medium", 4e-2, 2.6e-2, 4e-2, 1.56, 1.00))
    changes = compare_tables(saved, now)
    assert not regressions(changes, 0.10)
    assert any(line.startswith("note: predict medium impl/raw") and "one baseline only" in line
               for line in comparison_lines(changes, 0.10, "old"))


def test_compare_command_exits_1_on_a_ratio_regression(tmp_path, capsys):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"benchmarks": paired_row("xla", "medium", 1e-2, 1e-2, 1e-2, 1.0, 1.0)}))
    new.write_text(json.dumps({"benchmarks": paired_row("xla", "medium", 2e-2, 1e-2, 1e-2, 2.0, 2.0)}))
    assert bench_main.main(["compare", str(old), str(new), "--fail", "10%"]) == 1
    assert "RATIO REGRESSION xla medium" in capsys.readouterr().out
    assert bench_main.main(["compare", str(old), str(old)]) == 0


def test_saved_runs_without_paired_ratios_compare_by_medians_and_say_so():
    old = build_table([record("xla", "medium", "impl", 1.0), record("xla", "medium", "raw", 1.0)])
    now = build_table(paired_row("xla", "medium", 1.0, 1.0, 1.0, 1.0, 1.0))
    lines = comparison_lines(compare_tables(old, now), 0.1, "old")
    assert any(line.startswith("note: some ratios are not paired") for line in lines)


# --- The same layer across backends


def test_cross_backend_table_merges_runs_by_backend(tmp_path, capsys):
    tf_run, jax_run = tmp_path / "tensorflow.json", tmp_path / "jax.json"
    tf_run.write_text(json.dumps({"benchmarks": paired_row("xla", "medium", 2e-3, 2e-3, 2e-3, 1.0, 1.01)
                                  + paired_row("tf_function", "medium", 3e-3, 3e-3, 3e-3, 1.0, 1.0)}))
    jax_run.write_text(json.dumps({"benchmarks": paired_row("xla", "medium", 1e-3, 1e-3, 1e-3, 0.99, 1.02,
                                                            backend="jax")}))
    cross = load_cross([jax_run, tf_run])
    assert list(cross.tables) == ["tensorflow", "jax"], "ordered TensorFlow first, whatever the files' order"
    columns, cells = cross_columns(cross), cross_cells(cross)
    assert columns[-1] == "JAX/TF impl (unpaired)"
    xla = next(c for c in cells if c[0] == "xla")
    assert xla[columns.index("JAX impl/Dense")] == "1.02 (0.92-1.12)" and xla[-1] == "0.50"
    tf_only = next(c for c in cells if c[0] == "tf_function")
    assert tf_only[columns.index("JAX impl")] == "-" and tf_only[-1] == "-"
    assert bench_main.main(["merge", str(tf_run), str(jax_run), "--markdown"]) == 0
    assert "| xla | medium | 2 ms |" in capsys.readouterr().out
