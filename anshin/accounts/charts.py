"""Small charts for the profile figures, drawn on the server as inline SVG (no JavaScript, nothing loaded
from elsewhere). Every piece of text goes through `format_html`, so a name in a label is escaped; each chart
is an image with a text alternative (`role="img"`, `aria-label`, `<title>`) and each bar says its number on
hover (its own `<title>`)."""

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

BRAND = "#0b6e4f"
INK = "#1f2933"
MUTED = "#616e7c"
LINE = "#d9e2ec"
EMPTY = "#eef2f7"


def _svg(*, width: int, height: int, label: str, testid: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-testid="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" role="img" aria-label="{}" font-family="sans-serif"><title>{}</title>{}</svg>',
        testid, width, height, width, height, label, label, body,
    )


def rating_distribution(distribution: dict[int, int], *, label: str = "評価の分布") -> SafeString:
    """Horizontal bars ★5 (top) to ★1 with the number of reviews of each (rounded) star count."""
    width, row, left, right = 280, 22, 34, 36
    bar_max = width - left - right
    top = max(distribution.values(), default=0) or 1
    parts = []
    for index, stars in enumerate(range(5, 0, -1)):
        n = int(distribution.get(stars, 0))
        y = index * row + 4
        length = round(bar_max * n / top) if n else 0
        parts.append(format_html(
            '<g class="bar" data-stars="{}">'
            '<text x="0" y="{}" font-size="12" fill="{}">★{}</text>'
            '<rect x="{}" y="{}" width="{}" height="14" rx="3" fill="{}"/>'
            '<rect x="{}" y="{}" width="{}" height="14" rx="3" fill="{}"><title>★{}: {}件</title></rect>'
            '<text x="{}" y="{}" font-size="12" fill="{}" text-anchor="end">{}件</text></g>',
            stars, y + 12, INK, stars,
            left, y, bar_max, EMPTY,
            left, y, length, BRAND, stars, n,
            width, y + 12, MUTED, n,
        ))
    return _svg(width=width, height=5 * row + 4, label=label, testid="chart-rating",
                body=mark_safe("".join(parts)))  # noqa: S308 - each part was built by format_html


def reply_histogram(buckets: list[tuple[str, int]], *, label: str = "返信時間の分布") -> SafeString:
    """Vertical bars, one per reply-time bucket, with the count above each bar and the bucket below."""
    width, height, bottom, top_pad = 420, 150, 24, 16
    column = width / max(len(buckets), 1)
    plot = height - bottom - top_pad
    top = max((n for _, n in buckets), default=0) or 1
    parts = [format_html('<line x1="0" y1="{}" x2="{}" y2="{}" stroke="{}"/>', height - bottom, width,
                         height - bottom, LINE)]
    for index, (name, n) in enumerate(buckets):
        bar_height = round(plot * n / top) if n else 0
        x = round(index * column + column * 0.18, 1)
        bar_width = round(column * 0.64, 1)
        y = height - bottom - bar_height
        center = round(index * column + column / 2, 1)
        parts.append(format_html(
            '<g class="bar">'
            '<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}"><title>{}: {}回</title></rect>'
            '<text x="{}" y="{}" font-size="11" fill="{}" text-anchor="middle">{}</text>'
            '<text x="{}" y="{}" font-size="10" fill="{}" text-anchor="middle">{}</text></g>',
            x, y, bar_width, bar_height, BRAND, name, n,
            center, y - 4, INK, n,
            center, height - 8, MUTED, name,
        ))
    return _svg(width=width, height=height, label=label, testid="chart-replies", body=mark_safe("".join(parts)))  # noqa: S308

