"""The headline ratio tables from a pytest-benchmark JSON file.

Why ratios: absolute step times depend on the machine and on its load; a
ratio of two timings taken in the same run (optimizer step / raw step, XLA /
tf.function, ``fit`` / custom loop, Keras sampling / NumPy sampling) is what
carries over to another machine and what two TensorFlow versions should be
compared on.

Where a benchmark recorded a *paired* ratio (the two steps timed in
alternating rounds within one test, so both saw the same load -- see
``models.paired_ratio``) the table uses its ratio of minima; otherwise it divides the
two benchmarks' statistics.  Eager / tf.function is always the unpaired
division (context, not a headline).

Results are matched by their ``extra_info`` (``kind``, ``model``, ``batch``,
``mode``, ``optimizer``...), never by test name, so renaming a test does not
break the table.  The statistic is the *minimum* over rounds by default: on a
shared machine, noise only ever adds time, so the minimum is the least
contaminated estimate (``--stat median`` is available).

Usage::

    python benchmarks/ratios.py .benchmarks/run.json            # markdown to stdout
    python benchmarks/ratios.py .benchmarks/run.json --out docs/performance_tables.md
    python benchmarks/ratios.py .benchmarks/run.json --charts DIR   # + bar charts (DIR/index.html)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterable, Optional

__all__ = ["compute", "markdown", "main", "STATISTICS"]

STATISTICS = ("min", "median", "mean")
#: Every training-step mode a table can show, with its title: TensorFlow's, then the other backends'.
MODE_TITLES: tuple[tuple[str, str], ...] = (
    ("function", "tf.function"), ("eager", "eager"), ("xla", "tf.function(jit_compile=True)"),
    ("jax-jit", "JAX, jax.jit"), ("jax-eager", "JAX, eager"),
    ("torch-compile", "PyTorch, torch.compile"), ("torch-eager", "PyTorch, eager"))
#: A non-TensorFlow backend's compiled mode -> its eager mode (the "compiled ÷ eager" table).
COMPILED_MODES: dict[str, str] = {"jax-jit": "jax-eager", "torch-compile": "torch-eager"}
MODEL_ORDER = ("mlp64", "mlp128", "cnn")


def _mb(info: dict) -> str:
    return f"{info['model']} b{info['batch']}"


def _mb_key(label: str) -> tuple:
    model, batch = label.split(" b")
    return (MODEL_ORDER.index(model) if model in MODEL_ORDER else 99, int(batch))


def _index(doc: dict, kind: str, stat: str) -> list[tuple[dict, float]]:
    out = []
    for bench in doc.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if info.get("kind") == kind:
            out.append((info, float(bench["stats"][stat])))
    return out


def _ratio(info: dict, paired_key: str, a: float, b: Optional[float]) -> float:
    """The paired (alternating-rounds) ratio of minima when recorded, else ``a / b``."""
    paired = info.get(paired_key)
    if isinstance(paired, dict) and "ratio_of_mins" in paired:
        return float(paired["ratio_of_mins"])
    return a / b


def compute(doc: dict, stat: str = "min") -> dict:
    """Every ratio the docs page shows, as a JSON-able dict.

    Args:
        doc: A pytest-benchmark JSON document (loaded file or the dict the
            ``pytest_benchmark_update_json`` hook receives).
        stat: ``min``, ``median`` or ``mean`` of each benchmark's rounds.
    """
    if stat not in STATISTICS:
        raise ValueError(f"unknown statistic {stat!r}; expected one of {STATISTICS}")
    steps: dict[tuple[str, str, str], float] = {}
    paired: dict[tuple[str, str, str], dict] = {}
    for info, t in _index(doc, "train_step", stat):
        steps[(info["mode"], _mb(info), info["optimizer"])] = t
        paired[(info["mode"], _mb(info), info["optimizer"])] = info

    over_raw: dict[str, dict[str, dict[str, float]]] = {}
    xla_over_fn: dict[str, dict[str, float]] = {}
    eager_over_fn: dict[str, dict[str, float]] = {}
    compiled_over_eager: dict[str, dict[str, dict[str, float]]] = {}
    step_ms: dict[str, dict[str, dict[str, float]]] = {}
    for (mode, mb, opt), t in steps.items():
        step_ms.setdefault(mode, {}).setdefault(opt, {})[mb] = t * 1e3
        info = paired[(mode, mb, opt)]
        raw = steps.get((mode, mb, "raw"))
        if opt != "raw" and (raw or "paired_over_raw" in info):
            over_raw.setdefault(mode, {}).setdefault(opt, {})[mb] = _ratio(info, "paired_over_raw", t, raw)
        fn = steps.get(("function", mb, opt))
        if mode == "xla" and (fn or "paired_over_function" in info):
            xla_over_fn.setdefault(opt, {})[mb] = _ratio(info, "paired_over_function", t, fn)
        if fn and mode == "eager":
            eager_over_fn.setdefault(opt, {})[mb] = t / fn
        eager = steps.get((COMPILED_MODES[mode], mb, opt)) if mode in COMPILED_MODES else None
        if eager:
            compiled_over_eager.setdefault(mode, {}).setdefault(opt, {})[mb] = t / eager

    fit_infos = {_mb(i): i for i, _ in _index(doc, "fit_epoch", stat)}
    fits = {_mb(i): t for i, t in _index(doc, "fit_epoch", stat)}
    loops = {_mb(i): t for i, t in _index(doc, "loop_epoch", stat)}
    fit_over_loop = {}
    for mb in sorted(fits, key=_mb_key):
        info, loop = fit_infos[mb], loops.get(mb)
        if loop is None and "paired_over_loop" not in info:
            continue
        fit_over_loop[mb] = {"fit_ms": fits[mb] * 1e3, "loop_ms": None if loop is None else loop * 1e3,
                             "ratio": _ratio(info, "paired_over_loop", fits[mb], loop)}

    sampling: dict[str, dict[str, Any]] = {}
    for info, t in _index(doc, "init_sampling", stat):
        row = sampling.setdefault(info["initializer"], {"values": info["values"], "shape": info["shape"],
                                                         "law": info.get("law", "")})
        row[f"{info['sampler']}_s"] = t
        row[f"{info['sampler']}_values_per_s"] = info["values"] / t
        if "paired_over_numpy" in info:
            row["paired"] = info["paired_over_numpy"]["ratio_of_mins"]
    for row in sampling.values():
        if "paired" in row:
            row["keras_over_numpy"] = row.pop("paired")
        elif "keras_s" in row and "numpy_s" in row:
            row["keras_over_numpy"] = row["keras_s"] / row["numpy_s"]

    gate: dict[str, dict[str, dict[str, Any]]] = {}
    for info, t in _index(doc, "gate", stat):
        gate.setdefault(info["spec"], {})[info["family"]] = {
            "seconds": t, "checks": len(info.get("checks", [])), "statuses": info.get("statuses", {})}

    return {"statistic": stat, "optimizer_over_raw": over_raw, "xla_over_function": xla_over_fn,
            "eager_over_function": eager_over_fn, "compiled_over_eager": compiled_over_eager, "fit_over_loop": fit_over_loop, "step_ms": step_ms,
            "init_sampling": sampling, "gate_seconds": gate}


def _fmt(x: Optional[float], digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _table(rows: dict[str, dict[str, float]], first: str, digits: int = 2,
           order: Optional[Iterable[str]] = None) -> list[str]:
    cols = sorted({c for r in rows.values() for c in r}, key=_mb_key)
    names = list(order) if order is not None else sorted(rows, key=lambda n: (n != "raw", n.lower()))
    lines = [f"| {first} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name in names:
        if name in rows:
            lines.append(f"| {name} | " + " | ".join(_fmt(rows[name].get(c), digits) for c in cols) + " |")
    return lines


def _geomean(values: list[float]) -> Optional[float]:
    import math

    vals = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None


def headline(ratios: dict) -> dict:
    """A few numbers that summarise the tables (geometric means over cells)."""
    def flat(d: dict) -> list[float]:
        return [v for r in d.values() for v in r.values()]

    out = {}
    for mode, rows in ratios["optimizer_over_raw"].items():
        out[f"optimizer/raw ({mode}), geomean"] = _geomean(flat(rows))
    for mode, rows in ratios.get("compiled_over_eager", {}).items():
        out[f"{mode}/{COMPILED_MODES[mode]}, geomean"] = _geomean(flat(rows))
    out["xla/tf.function, geomean"] = _geomean(flat(ratios["xla_over_function"]))
    out["eager/tf.function, geomean"] = _geomean(flat(ratios["eager_over_function"]))
    out["fit/custom loop, geomean"] = _geomean([r["ratio"] for r in ratios["fit_over_loop"].values()])
    out["keras/numpy sampling time, geomean"] = _geomean(
        [r["keras_over_numpy"] for r in ratios["init_sampling"].values() if "keras_over_numpy" in r])
    return out


def markdown(doc: dict, stat: str = "min") -> str:
    """The performance tables (with date, versions and machine) as markdown."""
    r = compute(doc, stat)
    mi = doc.get("machine_info", {})
    ic = mi.get("initcheck", {})
    backend = ic.get("backend", "tensorflow")
    if backend == "tensorflow":
        runtime = (f"TensorFlow {ic.get('tensorflow', '?')}, Keras {ic.get('keras', '?')} (Keras "
                   f"{ic.get('keras_api', '?')} API); CPU {ic.get('cpu_model', mi.get('cpu', {}).get('brand_raw', '?'))}, "
                   f"{ic.get('logical_cpus', '?')} logical cores, TF intra/inter-op threads "
                   f"{ic.get('intra_op_threads', '?')}/{ic.get('inter_op_threads', '?')} (0 = TF default); "
                   f"XLA on CPU: {ic.get('xla_cpu', '?')}")
    else:
        runtime = (f"backend {backend}" + "".join(f" ({lib} {ic[lib]})" for lib in ("jax", "torch") if ic.get(lib))
                   + f"; TensorFlow {ic.get('tensorflow') or 'not in use'}, Keras {ic.get('keras', '?')}; CPU "
                   f"{ic.get('cpu_model', '?')}, {ic.get('logical_cpus', '?')} logical cores")
    lines = [
        f"Run of {doc.get('datetime', '?')[:19]} UTC; {runtime}; load average at start "
        f"{ic.get('loadavg_at_start', '?')}, at end {ic.get('loadavg_at_end', '?')}; statistic: {stat} over rounds.",
        "",
        "### Headline (geometric means over the cells below)",
        "",
        "| ratio | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in headline(r).items() if v is not None]
    for mode, title in MODE_TITLES:
        if mode in r["optimizer_over_raw"]:
            lines += ["", f"### Optimizer step ÷ raw SGD step, {title}", ""]
            lines += _table(r["optimizer_over_raw"][mode], "optimizer")
    if r["xla_over_function"]:
        lines += ["", "### XLA ÷ non-XLA (tf.function(jit_compile=True) ÷ tf.function), same step", ""]
        lines += _table(r["xla_over_function"], "step")
    if r["eager_over_function"]:
        lines += ["", "### Eager ÷ tf.function, same step", ""]
        lines += _table(r["eager_over_function"], "step")
    for mode, rows in r["compiled_over_eager"].items():
        lines += ["", f"### {dict(MODE_TITLES)[mode]} ÷ {dict(MODE_TITLES)[COMPILED_MODES[mode]]}, same step", ""]
        lines += _table(rows, "step", 3)
    if r["fit_over_loop"]:
        lines += ["", "### Keras fit ÷ custom tf.function loop (SGD, one epoch of the same batches)", "",
                  "| model | fit (ms) | custom loop (ms) | fit ÷ loop |", "|---|---|---|---|"]
        for mb, row in r["fit_over_loop"].items():
            lines.append(f"| {mb} | {_fmt(row['fit_ms'], 1)} | {_fmt(row['loop_ms'], 1)} | {_fmt(row['ratio'])} |")
    if r["fit_over_loop"]:
        lines += ["", "(fit ÷ loop is the paired ratio; the two ms columns are separate benchmarks.)"]
    if "raw" in {o for m in r["step_ms"].values() for o in m}:
        lines += ["", "### Raw SGD step, absolute (ms)", ""]
        lines += _table({m: rows["raw"] for m, rows in r["step_ms"].items() if "raw" in rows}, "mode", 2,
                        order=("eager", "function", "xla"))
    if r["init_sampling"]:
        lines += ["", "### Initializer sampling throughput (float32)", "",
                  "| initializer | shape | Keras (M values/s) | NumPy (M values/s) | Keras time ÷ NumPy time |",
                  "|---|---|---|---|---|"]
        for name, row in sorted(r["init_sampling"].items()):
            lines.append(
                f"| {name} | {'x'.join(str(s) for s in row['shape'])} | "
                f"{_fmt(row.get('keras_values_per_s', 0) / 1e6 or None, 1)} | "
                f"{_fmt(row.get('numpy_values_per_s', 0) / 1e6 or None, 1)} | {_fmt(row.get('keras_over_numpy'))} |")
    if r["gate_seconds"]:
        lines += ["", "### Gate cost per check family per spec (seconds, ci profile, one round)", "",
                  "| spec | family | checks | seconds | verdicts |", "|---|---|---|---|---|"]
        for spec, fams in r["gate_seconds"].items():
            for fam, row in fams.items():
                verdicts = ", ".join(f"{k} {v}" for k, v in sorted(row["statuses"].items()))
                lines.append(f"| {spec} | {fam} | {row['checks']} | {_fmt(row['seconds'], 1)} | {verdicts} |")
    skipped = doc.get("initcheck_skipped") or []
    if skipped:
        lines += ["", "### Skipped benchmarks", ""]
        lines += [f"- `{s['nodeid']}`: {s['reason']}" for s in skipped]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    """CLI: print (or write) the markdown tables of one JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json_path", help="a file written by pytest --benchmark-json / --benchmark-autosave")
    parser.add_argument("--stat", default="min", choices=STATISTICS)
    parser.add_argument("--out", help="write the markdown here instead of stdout")
    parser.add_argument("--json", action="store_true", help="print the computed ratios as JSON instead")
    parser.add_argument("--charts", metavar="DIR", help="also write bar charts of the tables (DIR/index.html; "
                        "needs pip install \"initcheck[report]\")")
    args = parser.parse_args(argv)
    with open(args.json_path, encoding="utf-8") as fh:
        doc = json.load(fh)
    text = json.dumps(compute(doc, args.stat), indent=2) + "\n" if args.json else markdown(doc, args.stat)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    if args.charts:
        from ratio_charts import write

        ratios, ic = compute(doc, args.stat), doc.get("machine_info", {}).get("initcheck", {})
        subtitle = (f"run of {doc.get('datetime', '?')[:19]} UTC · TensorFlow {ic.get('tensorflow', '?')} · "
                    f"Keras {ic.get('keras', '?')} · {ic.get('logical_cpus', '?')} logical cores · "
                    f"statistic: {args.stat}")
        index = write(ratios, headline(ratios), args.charts, subtitle=subtitle,
                      generated=doc.get("datetime", "")[:19], column_key=_mb_key)
        print(f"charts: {index}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
