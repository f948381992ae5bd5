"""Bar charts of the ratio tables of :mod:`ratios`, as a static page in the HTML report's style.

``write(ratios, headline, out_dir, ...)`` takes what :func:`ratios.compute` and
:func:`ratios.headline` computed (this module imports nothing back from
``ratios``) and writes ``out_dir/index.html`` with one grouped bar chart per
table (SVG beside it) above the table itself.  A ratio of 1 (the dashed line)
means "as fast as the baseline".  Needs the ``[report]`` extra (Matplotlib,
Jinja2)::

    python benchmarks/ratios.py .benchmarks/run.json --charts benchmarks-report/
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

__all__ = ["write"]

_MODES = {"function": "tf.function", "eager": "eager", "xla": "tf.function(jit_compile=True)"}


def _fmt(x: Optional[float], digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _bars(plt: Any, rows: Mapping[str, Mapping[str, float]], cols: list[str], title: str, ylabel: str,
          ref: Optional[float], log: bool) -> Any:
    from initcheck.reports.figures import LAW, PALETTE

    names = sorted(rows, key=lambda n: (n != "raw", n.lower()))
    width = 0.8 / max(1, len(cols))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(names) * max(1, len(cols)) ** 0.5 + 3), 3.4))
    fig.subplots_adjust(left=0.1, right=0.78, top=0.88, bottom=0.3 if len(names) > 5 else 0.14)
    for j, col in enumerate(cols):
        xs = [i + (j - (len(cols) - 1) / 2) * width for i in range(len(names))]
        pairs = [(x, rows[n][col]) for x, n in zip(xs, names) if rows[n].get(col) is not None]
        ax.bar([x for x, _ in pairs], [y for _, y in pairs], width=width * 0.95, color=PALETTE[j % len(PALETTE)],
               label=col)
    if ref is not None:
        ax.axhline(ref, color=LAW, lw=1, ls="--", label="baseline (1)")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center")
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def write(ratios: Mapping[str, Any], headline: Mapping[str, float], out_dir: Union[str, Path], *,
          subtitle: str = "", generated: str = "", column_key: Callable[[str], Any] = str) -> Path:
    """Charts and tables of computed ``ratios`` into ``out_dir``; returns ``index.html``.

    ``column_key`` orders a table's columns (``ratios`` sorts model/batch
    labels by model, then batch size); columns it cannot order stay alphabetical.
    """
    from initcheck.reports.html import require

    require()
    import jinja2

    from initcheck.reports import figures

    plt = figures._pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = []

    def add(tid: str, title: str, rows: Mapping[str, Mapping[str, float]], first: str, ylabel: str, caption: str,
            ref: Optional[float] = 1.0, log: bool = False) -> None:
        if not rows:
            return
        cols = sorted({c for r in rows.values() for c in r})
        try:
            cols.sort(key=column_key)
        except (ValueError, IndexError, TypeError):  # labels that are not model/batch: alphabetical
            pass
        fig = _bars(plt, rows, cols, title, ylabel, ref, log)
        fig.savefig(out / f"{tid}.svg", format="svg", metadata={"Date": None})
        plt.close(fig)
        body = [[n] + [_fmt(rows[n].get(c)) for c in cols] for n in sorted(rows, key=lambda n: (n != "raw", n.lower()))]
        tables.append({"id": tid, "title": title, "figure": f"{tid}.svg", "caption": caption,
                       "header": [first] + cols, "rows": body})

    for mode, rows in ratios["optimizer_over_raw"].items():
        add(f"optimizer-over-raw-{mode}", f"Optimizer step ÷ raw SGD step, {_MODES.get(mode, mode)}", rows,
            "optimizer", "time ÷ raw SGD step", "Per model and batch size; 1 = as fast as the raw SGD step.")
    add("xla-over-function", "XLA ÷ non-XLA, same step", ratios["xla_over_function"], "step",
        "XLA time ÷ tf.function time", "Below 1: XLA compilation pays off.")
    add("eager-over-function", "Eager ÷ tf.function, same step", ratios["eager_over_function"], "step",
        "eager time ÷ tf.function time", "Context, not a headline (unpaired division).", log=True)
    if ratios["fit_over_loop"]:
        add("fit-over-loop", "Keras fit ÷ custom tf.function loop",
            {"fit ÷ loop": {mb: row["ratio"] for mb, row in ratios["fit_over_loop"].items()}}, "",
            "fit time ÷ loop time", "One epoch of the same batches (paired ratio).")
    if ratios["init_sampling"]:
        add("keras-over-numpy", "Initializer sampling: Keras time ÷ NumPy time",
            {name: {"Keras ÷ NumPy": row["keras_over_numpy"]} for name, row in ratios["init_sampling"].items()
             if "keras_over_numpy" in row}, "initializer", "Keras time ÷ NumPy time",
            "float32 sampling of the same number of values.", log=True)
    if ratios["gate_seconds"]:
        add("gate-seconds", "Gate cost per check family per spec (seconds)",
            {spec: {fam: row["seconds"] for fam, row in fams.items()} for spec, fams in ratios["gate_seconds"].items()},
            "spec", "seconds", "ci profile, one round.", ref=None)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(figures.__file__).parent / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    index = out / "index.html"
    index.write_text(env.get_template("benchmarks.html.j2").render(
        subtitle=subtitle, headline=[(k, _fmt(v)) for k, v in headline.items()], tables=tables, generated=generated),
        encoding="utf-8")
    return index
