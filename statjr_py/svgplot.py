"""A few SVG drawing primitives: panels with axes, lines, bars and text.

Written straight out as text: a six-panel diagnostic plot takes a few
milliseconds instead of matplotlib's second (its layout engine and text
rendering dominate), the file is a third of the size, and the text stays
text.  Every string shown goes through :func:`xml_text`, so no parameter or
variable name can break out of the SVG.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Panel", "Figure", "xml_text", "nice_ticks"]

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


def xml_text(value) -> str:
    """Text for an SVG element: XML-escaped, control characters dropped."""
    text = "".join(ch if ch >= " " or ch in "\t" else " " for ch in str(value))
    return html.escape(text, quote=True)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi] (1, 2 or 5 times a power of 10)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = start
    while v <= hi + 1e-9 * step and len(ticks) < 20:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.4g}"


@dataclass
class Panel:
    """One plotting area: pixel box, data limits, and the elements drawn in it."""

    x0: float
    y0: float
    width: float
    height: float
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    parts: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    _series: list = field(default_factory=list)

    # ------------------------------------------------------------- drawing
    def line(self, x, y, colour="#000", width=1.0, label=None, dash=None) -> None:
        """A polyline through (x, y); NaNs are dropped."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        self._series.append(("line", x[ok], y[ok], colour, width, dash))
        if label:
            self.legend.append((label, colour))

    def vlines(self, x, y, colour="#000") -> None:
        """Vertical lines from 0 to y at each x (ACF bars)."""
        self._series.append(("vlines", np.asarray(x, float), np.asarray(y, float), colour, 1.5, None))

    def bars(self, x, y, width, colour, label=None) -> None:
        """Bars of height y centred at x."""
        self._series.append(("bars", np.asarray(x, float), np.asarray(y, float), colour, width, None))
        if label:
            self.legend.append((label, colour))

    def hline(self, y, colour="#999", dash="4,3") -> None:
        self._series.append(("hline", np.array([y], float), np.array([y], float), colour, 0.8, dash))

    def note(self, text: str) -> None:
        """A message in the middle of the panel (when there is nothing to draw)."""
        self.parts.append(f"<text x='{self.x0 + self.width / 2:.1f}' y='{self.y0 + self.height / 2:.1f}' "
                          f"text-anchor='middle' font-size='12' {FONT}>{xml_text(text)}</text>")

    # ------------------------------------------------------------ rendering
    def _limits(self) -> tuple[float, float, float, float]:
        xs = [s[1] for s in self._series if s[0] != "hline" and s[1].size]
        ys = [s[2] for s in self._series if s[2].size] + ([np.zeros(1)] if any(
            s[0] in ("vlines", "bars") for s in self._series) else [])
        xlo, xhi = self.xlim or ((min(a.min() for a in xs), max(a.max() for a in xs)) if xs else (0, 1))
        ylo, yhi = self.ylim or ((min(a.min() for a in ys), max(a.max() for a in ys)) if ys else (0, 1))
        if not xhi > xlo:
            xlo, xhi = xlo - 0.5, xhi + 0.5
        if not yhi > ylo:
            ylo, yhi = ylo - 0.5, yhi + 0.5
        if self.ylim is None:
            pad = 0.05 * (yhi - ylo)
            ylo, yhi = ylo - pad, yhi + pad
        return xlo, xhi, ylo, yhi

    def render(self) -> str:
        xlo, xhi, ylo, yhi = self._limits()
        sx = self.width / (xhi - xlo)
        sy = self.height / (yhi - ylo)

        def px(v):
            return self.x0 + (v - xlo) * sx

        def py(v):
            return self.y0 + self.height - (v - ylo) * sy

        out = [f"<rect x='{self.x0:.1f}' y='{self.y0:.1f}' width='{self.width:.1f}' "
               f"height='{self.height:.1f}' fill='none' stroke='#444' stroke-width='0.8'/>"]
        clip = f"clip{int(self.x0)}_{int(self.y0)}"
        out.append(f"<clipPath id='{clip}'><rect x='{self.x0:.1f}' y='{self.y0:.1f}' "
                   f"width='{self.width:.1f}' height='{self.height:.1f}'/></clipPath><g clip-path='url(#{clip})'>")
        for kind, x, y, colour, width, dash in self._series:
            style = f"stroke='{colour}' stroke-width='{width}'" + (f" stroke-dasharray='{dash}'" if dash else "")
            if kind == "line" and x.size:
                # Python floats (np.float64 is a float subclass: the same text) iterate faster
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(x).tolist(), py(y).tolist()))
                out.append(f"<polyline fill='none' {style} points='{pts}'/>")
            elif kind == "vlines":
                base = py(0.0)
                out.append("<path " + style + " d='" + "".join(
                    f"M{a:.1f} {base:.1f}V{b:.1f}" for a, b in zip(px(x).tolist(), py(y).tolist())) + "'/>")
            elif kind == "bars":
                for a, b in zip(x, y):
                    left, top = px(a - width / 2), py(max(b, 0.0))
                    out.append(f"<rect x='{left:.1f}' y='{top:.1f}' width='{width * sx:.1f}' "
                               f"height='{abs(py(0.0) - py(b)):.1f}' fill='{colour}'/>")
            elif kind == "hline":
                out.append(f"<line x1='{self.x0:.1f}' x2='{self.x0 + self.width:.1f}' "
                           f"y1='{py(y[0]):.1f}' y2='{py(y[0]):.1f}' {style}/>")
        out.append("</g>")
        for t in nice_ticks(xlo, xhi):
            out.append(f"<line x1='{px(t):.1f}' x2='{px(t):.1f}' y1='{self.y0 + self.height:.1f}' "
                       f"y2='{self.y0 + self.height + 4:.1f}' stroke='#444'/>"
                       f"<text x='{px(t):.1f}' y='{self.y0 + self.height + 15:.1f}' font-size='10' "
                       f"text-anchor='middle' {FONT}>{_fmt(t)}</text>")
        for t in nice_ticks(ylo, yhi):
            out.append(f"<line x1='{self.x0 - 4:.1f}' x2='{self.x0:.1f}' y1='{py(t):.1f}' y2='{py(t):.1f}' "
                       f"stroke='#444'/><text x='{self.x0 - 6:.1f}' y='{py(t) + 3.5:.1f}' font-size='10' "
                       f"text-anchor='end' {FONT}>{_fmt(t)}</text>")
        cx = self.x0 + self.width / 2
        out.append(f"<text x='{cx:.1f}' y='{self.y0 - 6:.1f}' font-size='12' font-weight='bold' "
                   f"text-anchor='middle' {FONT}>{xml_text(self.title)}</text>")
        if self.xlabel:
            out.append(f"<text x='{cx:.1f}' y='{self.y0 + self.height + 30:.1f}' font-size='11' "
                       f"text-anchor='middle' {FONT}>{xml_text(self.xlabel)}</text>")
        if self.ylabel:
            ly = self.y0 + self.height / 2
            out.append(f"<text x='{self.x0 - 48:.1f}' y='{ly:.1f}' font-size='11' text-anchor='middle' "
                       f"transform='rotate(-90 {self.x0 - 48:.1f} {ly:.1f})' {FONT}>{xml_text(self.ylabel)}</text>")
        for i, (label, colour) in enumerate(self.legend):
            ty = self.y0 + 14 + 13 * i
            tx = self.x0 + self.width - 8
            out.append(f"<line x1='{tx - 118:.1f}' x2='{tx - 104:.1f}' y1='{ty - 4:.1f}' y2='{ty - 4:.1f}' "
                       f"stroke='{colour}' stroke-width='2'/><text x='{tx - 100:.1f}' y='{ty:.1f}' "
                       f"font-size='9' {FONT}>{xml_text(label)}</text>")
        return "\n".join(out + self.parts)


@dataclass
class Figure:
    """A grid of panels in one SVG, with a title."""

    width: int
    height: int
    title: str = ""
    panels: list[Panel] = field(default_factory=list)

    def grid(self, rows: int, cols: int, left=70, right=20, top=50, bottom=45, hgap=80, vgap=75):
        """Panels laid out in a fixed grid (no layout engine: the sizes are known)."""
        w = (self.width - left - right - (cols - 1) * hgap) / cols
        h = (self.height - top - bottom - (rows - 1) * vgap) / rows
        self.panels = [Panel(left + c * (w + hgap), top + r * (h + vgap), w, h)
                       for r in range(rows) for c in range(cols)]
        return self.panels

    def svg(self) -> str:
        head = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{self.width}' height='{self.height}' "
                f"viewBox='0 0 {self.width} {self.height}'>\n<rect width='100%' height='100%' fill='white'/>\n"
                f"<text x='{self.width / 2:.1f}' y='22' font-size='14' text-anchor='middle' {FONT}>"
                f"{xml_text(self.title)}</text>\n")
        return ("<?xml version='1.0' encoding='utf-8'?>\n" + head
                + "\n".join(p.render() for p in self.panels) + "\n</svg>\n")
