"""The optimization report: one self-contained HTML page in the backtest report's style (PNGs embedded)
plus the PNGs, the trials CSV and the result JSON beside it."""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from market_maker.backtest.html_report import _STYLE
from market_maker.backtest.optimize import plots
from market_maker.backtest.optimize.evaluate import KEPT
from market_maker.backtest.optimize.objectives import feasible
from market_maker.backtest.optimize.space import SearchSpace
from market_maker.backtest.optimize.study import constraint_values
from market_maker.backtest.optimize.summary import SHOWN

if TYPE_CHECKING:
    import optuna

    from market_maker.backtest.optimize.runner import OptimizeResult


def importances(study: optuna.Study, minimize: bool) -> dict[str, float]:
    """PED-ANOVA importance (Optuna's; fANOVA would need scikit-learn) of each parameter for the first
    objective ({} with too few trials)."""
    import warnings

    import optuna

    try:
        with warnings.catch_warnings():  # it warns that it ranks low values, whatever the target
            warnings.simplefilter("ignore", UserWarning)
            return dict(
                optuna.importance.get_param_importances(
                    study,
                    evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                    target=lambda t: t.values[0] if minimize else -t.values[0],  # it ranks what makes it low
                )
            )
    except (ValueError, RuntimeError):
        return {}


def write_trials_csv(study: optuna.Study, space: SearchSpace, path: Path) -> None:
    """One row per trial: number, state, feasibility, the values as configuration texts, the metrics."""
    names = [p.name for p in space.params]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("trial", "state", "feasible", *names, *KEPT, "interval_margin_ticks", "error"))
        for t in study.get_trials(deepcopy=False):
            m = t.user_attrs.get("metrics", {})
            values = space.overrides(t.params) if len(t.params) == len(names) else {}
            w.writerow(
                (
                    t.number,
                    t.state.name,
                    t.state.name == "COMPLETE" and feasible(constraint_values(t)),
                    *(values.get(n, "") for n in names),
                    *("" if m.get(k) is None else m[k] for k in KEPT),
                    m.get("interval_margin_ticks", ""),
                    t.user_attrs.get("error", ""),
                )
            )


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return html.escape(f"{v:.4g}" if isinstance(v, float) else str(v))


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def render_html(
    result: OptimizeResult, space: SearchSpace, summary: dict[str, Any], pngs: dict[str, bytes]
) -> str:
    """The report page."""
    rec = summary["recommended"]
    wf_rows = []
    for w in summary["walk_forward"]:
        cells = "".join(
            f"<td class='v'>{_cell(w['in_sample'][k])}</td><td class='v'>{_cell(w['out_of_sample'][k])}</td>"
            for k in SHOWN[:3]
        )
        chosen = ", ".join(f"{k}={v}" for k, v in w["chosen"].items())
        wf_rows.append(
            f"<tr><td>{w['window']}</td><td>{w['train'][0]} .. {w['train'][1]}</td>"
            f"<td>{w['test'][0]} .. {w['test'][1]}</td>{cells}"
            f"<td>{'yes' if w['feasible_out_of_sample'] else 'no'}</td><td>{html.escape(chosen)}</td>"
            f"<td class='note'>{html.escape(w['note'])}</td></tr>"
        )
    head = "".join(f"<th>{k}<br>in</th><th>{k}<br>out</th>" for k in SHOWN[:3])
    rec_rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td class='v'>{html.escape(v)}</td></tr>"
        for k, v in rec["values"].items()
    )
    score_rows = "".join(
        f"<tr><td>{k}</td><td class='v'>{_cell(v)}</td></tr>" for k, v in rec["scores"].items()
    )
    objs = ", ".join(f"{o.metric} ({'min' if o.minimize else 'max'})" for o in space.objectives)
    c = space.constraints
    cons = (
        ", ".join(
            s
            for s in (
                f"max drawdown {c.max_drawdown_pct} %" if c.max_drawdown_pct is not None else "",
                f"at least {c.min_round_trips} round trips" if c.min_round_trips is not None else "",
                "interval above the fee break-even" if c.interval_above_break_even else "",
            )
            if s
        )
        or "none"
    )
    title = f"Optimization: {result.name}"
    warn = "" if rec["feasible"] else " (<b>no trial met the constraints</b>)"
    wf = pngs.get("walkforward.png")
    wf_img = _img(wf, "walk-forward in and out of sample") if wf is not None else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="note">Data: {html.escape(result.candles.name)}; {len(result.candles)} candles.
Objectives: {html.escape(objs)}. Constraints: {html.escape(cons)}.
{summary["trials_run"]} trials run on {result.workers} {result.executor} worker(s) in {summary["seconds"]} s:
{summary["trials_x_candles_per_second"]:,} trials x candles per second.</p>
<h2>Recommended configuration</h2>
<p>Trial {rec["trial"]} of the whole-history study{warn};
written to <code>{html.escape(rec["file"])}</code>.</p>
<table><tr><th>key</th><th>value</th></tr>{rec_rows}</table>
<table><tr><th>metric (whole history)</th><th>value</th></tr>{score_rows}</table>
<h2>Walk-forward</h2>
<p class="note">Each window's parameters were chosen on its train span only, then replayed on the test
span after it: a large fall from "in" to "out" is overfitting.</p>
<table><tr><th>window</th><th>train</th><th>test</th>{head}
<th>feasible out</th><th>chosen</th><th>note</th></tr>
{"".join(wf_rows)}</table>
{wf_img}
<h2>Pareto front</h2>
{_img(pngs["pareto.png"], "Pareto front")}
<h2>Parameter importance</h2>
{_img(pngs["importance.png"], "parameter importance")}
<h2>Optimization history</h2>
{_img(pngs["history.png"], "optimization history")}
</body></html>
"""


def write_report(
    result: OptimizeResult, space: SearchSpace, directory: Path, summary: dict[str, Any]
) -> list[Path]:
    """Write the report files into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    study = result.final
    trials = [t for t in study.get_trials(deepcopy=False) if t.values is not None]
    pngs = {
        "history.png": plots.history_png(trials, space, "whole-history study: objective per trial"),
        "pareto.png": plots.pareto_png(
            trials, space, result.chosen, "whole-history study: trials and Pareto front"
        ),
        "importance.png": plots.importance_png(
            importances(study, space.objectives[0].minimize), f"what moves {space.objectives[0].metric}"
        ),
    }
    if result.windows:
        pngs["walkforward.png"] = plots.walkforward_png(result, space)
    paths = []
    for name, data in pngs.items():
        (directory / name).write_bytes(data)
        paths.append(directory / name)
    csv_path, js, page = directory / "trials.csv", directory / "result.json", directory / "report.html"
    write_trials_csv(study, space, csv_path)
    js.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    page.write_text(render_html(result, space, summary, pngs), encoding="utf-8")
    return [*paths, csv_path, js, page]
