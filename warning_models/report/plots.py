"""The daily report's charts as PNG files (matplotlib, no screen needed): each key indicator over time with its
thresholds and the days its alerts fired, and the market VaR against the realised returns with the exceptions."""

from __future__ import annotations

from pathlib import Path

from warning_models.report.data import ReportData, Series

WIDTH_IN, HEIGHT_IN, DPI = 9.0, 3.2, 100
ALERT_COLOUR, THRESHOLD_COLOUR, LINE_COLOUR = "#c0392b", "#7f8c8d", "#1f4e79"


def _figure():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    ax.grid(True, alpha=0.3)
    return plt, fig, ax


def series_chart(series: Series, path: Path) -> Path:
    plt, fig, ax = _figure()
    spec = series.spec
    if series.by_entity and spec.key == "macro_gap":  # one line per economy
        for entity, (dates, values) in sorted(series.by_entity.items()):
            ax.plot(dates, values, linewidth=1, label=entity)
        ax.legend(ncol=5, fontsize=7, loc="upper left")
    else:
        ax.plot(series.dates, series.values, color=LINE_COLOUR, linewidth=1.4, label=spec.unit)
    lines = ([(series.threshold, "alert threshold")] if series.threshold is not None else []) + list(spec.extra_lines)
    for value, label in lines:
        ax.axhline(value, color=THRESHOLD_COLOUR, linestyle="--", linewidth=1)
        ax.annotate(f"{label} ({value:g})", xy=(0.995, value), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=7, color=THRESHOLD_COLOUR)
    if series.alert_dates and series.dates:
        value_on = dict(zip(series.dates, series.values))
        marked = [d for d in series.alert_dates if d in value_on]
        ax.scatter(marked, [value_on[d] for d in marked], color=ALERT_COLOUR, s=14, zorder=3, label="alert day")
        if spec.key != "macro_gap":
            ax.legend(fontsize=7, loc="upper left")
    ax.set_title(spec.title, fontsize=10, loc="left")
    ax.set_ylabel(spec.unit, fontsize=8)
    ax.tick_params(labelsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def var_chart(data: ReportData, path: Path) -> Path:
    plt, fig, ax = _figure()
    dates = [p[0] for p in data.var_points]
    ax.bar(dates, [p[2] for p in data.var_points], color=LINE_COLOUR, width=1.0, label="realised return %")
    ax.plot(dates, [p[1] for p in data.var_points], color=THRESHOLD_COLOUR, linewidth=1.2, label="-VaR 99 % (historical)")
    exceptions = [p for p in data.var_points if p[3]]
    ax.scatter([p[0] for p in exceptions], [p[2] for p in exceptions], color=ALERT_COLOUR, s=18, zorder=3,
               label=f"exception ({len(exceptions)})")
    ax.set_title("Market: index return against the VaR published the day before", fontsize=10, loc="left")
    ax.set_ylabel("%", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
