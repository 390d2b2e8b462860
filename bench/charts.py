"""Hand-written SVG charts for docs/benchmarks.md (no plotting dependency): grouped horizontal bars, one group per
category, one bar per series, the value at the end of each bar and an optional dashed target line."""

from html import escape

COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2")
WIDTH, LABEL_W, RIGHT_PAD, BAR_H, GAP = 760, 210, 90, 13, 12


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def bars(title: str, categories: list[str], series: list[tuple[str, list[float | None]]], unit: str,
         target: float | None = None, target_label: str = "") -> str:
    values = [v for _, vs in series for v in vs if v is not None]
    top = max([*values, target or 0, 1e-9]) * 1.08
    plot_w = WIDTH - LABEL_W - RIGHT_PAD
    legend_y, first_y = 44, 70
    group_h = BAR_H * len(series) + GAP
    height = first_y + group_h * len(categories) + 24

    def x(value: float) -> float:
        return LABEL_W + plot_w * value / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
           f'<text x="12" y="22" font-size="15" font-weight="bold">{escape(title)}</text>']
    lx = LABEL_W
    for i, (name, _) in enumerate(series):
        out.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{COLOURS[i % len(COLOURS)]}"/>')
        out.append(f'<text x="{lx + 16}" y="{legend_y}">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    for c, category in enumerate(categories):
        y0 = first_y + c * group_h
        out.append(f'<text x="{LABEL_W - 8}" y="{y0 + BAR_H * len(series) / 2 + 4:.1f}" '
                   f'text-anchor="end">{escape(category)}</text>')
        for s, (_, vs) in enumerate(series):
            value = vs[c]
            y = y0 + s * BAR_H
            if value is None:
                out.append(f'<text x="{LABEL_W + 4}" y="{y + BAR_H - 3}" fill="#888">n/a</text>')
                continue
            out.append(f'<rect x="{LABEL_W}" y="{y}" width="{max(0.5, x(value) - LABEL_W):.1f}" '
                       f'height="{BAR_H - 2}" fill="{COLOURS[s % len(COLOURS)]}"/>')
            out.append(f'<text x="{x(value) + 4:.1f}" y="{y + BAR_H - 3}" font-size="11">{_number(value)}</text>')
    axis_bottom = first_y + group_h * len(categories) - GAP / 2
    out.append(f'<line x1="{LABEL_W}" y1="{first_y - 6}" x2="{LABEL_W}" y2="{axis_bottom}" stroke="#333"/>')
    out.append(f'<text x="{WIDTH - RIGHT_PAD + 80}" y="{axis_bottom + 16}" text-anchor="end" fill="#555">'
               f'{escape(unit)}</text>')
    if target is not None:
        out.append(f'<line x1="{x(target):.1f}" y1="{first_y - 10}" x2="{x(target):.1f}" y2="{axis_bottom}" '
                   f'stroke="#c00" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{x(target):.1f}" y="{first_y - 14}" text-anchor="middle" fill="#c00">'
                   f'target {escape(target_label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
