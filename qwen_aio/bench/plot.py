"""The benchmark's chart: mood latency against length, time to first token against depth.

matplotlib comes with the `bench` extra and is imported only when a chart is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLORS = {"app_ms": "tab:blue", "naive_ms": "tab:orange", "seed_ms": "tab:green"}


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    typing = r.get("typing_label_by_length", [])
    fig, axes = plt.subplots(1, 3 if typing else 2, figsize=(16 if typing else 11, 4.2))
    left, right = axes[0], axes[1]
    rows = r.get("mood_by_length", [])
    x = [p["tokens"] for p in rows]
    for key, label, style in (("app_ms", "app", "o-"), ("naive_ms", "naive llama-cpp-python",
                                                          "s--"),
                              ("seed_ms", "seed stack (transformers FP32)", "^:")):
        pts = [(xi, p[key]) for xi, p in zip(x, rows, strict=True) if p[key] is not None]
        if pts:
            left.plot(*zip(*pts, strict=True), style, label=label, color=COLORS[key])
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("message length (tokens)")
    left.set_ylabel("mood label latency, p50 (ms)")
    left.set_title("Mood label against message length")
    left.axhline(100, color="grey", lw=0.8, ls=":")
    left.legend(fontsize=8)
    left.grid(True, which="both", alpha=0.3)

    curve = r.get("ttft_by_turn", [])
    if curve:
        right.plot([c["turn"] for c in curve], [c["ttft_ms"] for c in curve], ".-", alpha=0.4,
                   color=COLORS["app_ms"], label="app, each turn of one conversation")
    pts = r.get("ttft_by_depth", [])
    if pts:
        right.plot([p["depth"] for p in pts], [p["app_ms"] for p in pts], "o-",
                   color=COLORS["app_ms"], label="app, p50")
        right.plot([p["depth"] for p in pts], [p["naive_ms"] for p in pts], "s--",
                   color=COLORS["naive_ms"], label="naive (full prompt), p50")
    right.set_yscale("log")
    right.set_xlabel("conversation turn")
    right.set_ylabel("time to first token (ms)")
    right.set_title("Chat time to first token against depth")
    right.axhline(150, color="grey", lw=0.8, ls=":")
    right.legend(fontsize=8)
    right.grid(True, which="both", alpha=0.3)

    if typing:
        _typing_panel(axes[2], typing)
    plain = matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}")
    for ax in axes:
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    for ax in (left, *axes[2:]):
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.suptitle(f"{Path(r['model']).name}, {r['threads']} threads, {r['cpu']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _typing_panel(ax: Any, rows: list[dict[str, Any]]) -> None:
    """Issue 10: the label after Enter when the message was prepared while typed, or not."""
    x = [p["tokens"] for p in rows]
    for key, label, style, color in (
            ("prepared_ms", "prepared while typing (0 ms: there at Enter, drawn at 0.1)", "o-",
             COLORS["app_ms"]),
            ("unprepared_ms", "evaluated at Enter", "s--", COLORS["naive_ms"])):
        # a cache hit can take well under a millisecond: floor it so the log scale shows it
        pts = [(xi, max(p[key], 0.1)) for xi, p in zip(x, rows, strict=True)
               if p[key] is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), style, label=label, color=color)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("message length (tokens)")
    ax.set_ylabel("Enter to mood label, p50 (ms)")
    ax.set_title("Typing: label after Enter (300 ms pause)")
    ax.axhline(16, color="grey", lw=0.8, ls=":")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
