"""One self-contained HTML report: the summary table, the parameters and the PNG embedded as base64.

No external scripts, styles or images: the file can be mailed or archived and opens offline.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from market_maker.backtest.metrics import summary_pairs

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222;max-width:1500px}
table{border-collapse:collapse;margin:1em 0}
td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}
th{background:#f3f5f7}td.v{font-family:ui-monospace,Menlo,monospace;text-align:right}
img{max-width:100%;border:1px solid #ddd}.note{color:#666;font-size:90%}
"""


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(
        f"<tr><td>{html.escape(k)}</td><td class='v'>{html.escape(v)}</td></tr>" for k, v in pairs
    )


def render_html(summary: dict[str, Any], png: bytes, title: str = "Backtest report") -> str:
    """The report as an HTML string."""
    metrics = summary_pairs(summary)
    params = [(str(k), str(v)) for k, v in sorted(summary.get("params", {}).items())]
    img = base64.b64encode(png).decode("ascii")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="note">Data: {html.escape(str(summary.get("source", "")))}; {summary.get("candles", 0)} candles.
Fills follow the documented fill model (docs/backtesting.md); equity is marked at candle closes.</p>
<h2>Summary</h2>
<table><tr><th>metric</th><th>value</th></tr>
{_rows(metrics)}
</table>
<h2>Parameters</h2>
<table><tr><th>parameter</th><th>value</th></tr>
{_rows(params)}
</table>
<h2>Price, fills, inventory, equity, drawdown</h2>
<img alt="price with the grid's fills, inventory, equity and drawdown" src="data:image/png;base64,{img}">
</body></html>
"""


def write_html(summary: dict[str, Any], png: bytes, path: Path, title: str = "Backtest report") -> None:
    """Write the self-contained report to ``path``."""
    path.write_text(render_html(summary, png, title), encoding="utf-8")
