#!/usr/bin/env python3
"""Renders a terminal capture with ANSI colours (tmux capture-pane -e -p) to a PNG.

Usage: ansi_to_png.py CAPTURE.txt OUT.png [COLUMNS ROWS]

Only what tmux writes is understood: SGR (colours, bold, dim, italic,
underline, reverse) and text. Block elements and shades are drawn as
rectangles so bars and charts are solid; everything else comes from
DejaVu Sans Mono. Needs Pillow (pip install pillow).
"""

import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
BACKGROUND = (24, 24, 28)
FOREGROUND = (220, 220, 220)

# xterm's 16 colours (a dark theme).
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def color256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    level = 8 + (n - 232) * 10
    return (level, level, level)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def apply(self, params):
        params = params or [0]
        i = 0
        while i < len(params):
            p = params[i]
            if p == 0:
                self.reset()
            elif p == 1:
                self.bold = True
            elif p == 2:
                self.dim = True
            elif p == 3:
                self.italic = True
            elif p == 4:
                self.underline = True
            elif p == 7:
                self.reverse = True
            elif p == 22:
                self.bold = self.dim = False
            elif p == 23:
                self.italic = False
            elif p == 24:
                self.underline = False
            elif p == 27:
                self.reverse = False
            elif 30 <= p <= 37:
                self.fg = BASE16[p - 30]
            elif 90 <= p <= 97:
                self.fg = BASE16[p - 90 + 8]
            elif 40 <= p <= 47:
                self.bg = BASE16[p - 40]
            elif 100 <= p <= 107:
                self.bg = BASE16[p - 100 + 8]
            elif p == 39:
                self.fg = None
            elif p == 49:
                self.bg = None
            elif p in (38, 48) and i + 1 < len(params):
                if params[i + 1] == 5 and i + 2 < len(params):
                    value = color256(params[i + 2])
                    i += 2
                elif params[i + 1] == 2 and i + 4 < len(params):
                    value = tuple(params[i + 2:i + 5])
                    i += 4
                else:
                    value = None
                if p == 38:
                    self.fg = value
                else:
                    self.bg = value
            i += 1


SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-ln-z]|\][^\x07]*\x07|[()][A-Z0-9])")


def parse(text):
    """Lines of (char, style, width) cells."""
    lines = []
    style = Style()
    for raw in text.split("\n"):
        cells = []
        pos = 0
        raw = OTHER_ESCAPE.sub("", raw)
        for m in SGR.finditer(raw + "\x1b[m"):
            for ch in raw[pos:m.start()]:
                if ch == "\r":
                    continue
                width = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
                cells.append((ch, style.copy(), width))
            if m.start() < len(raw):
                params = [int(x) if x else 0 for x in m.group(1).replace(":", ";").split(";")] if m.group(1) else [0]
                style.apply(params)
            pos = m.end()
        lines.append(cells)
    while lines and not lines[-1]:
        lines.pop()
    return lines


# Block elements drawn as rectangles: (x0, y0, x1, y1) as fractions of the cell.
BLOCKS = {"█": (0, 0, 1, 1), "▀": (0, 0, 1, 0.5), "▐": (0.5, 0, 1, 1)}
for i, ch in enumerate("▁▂▃▄▅▆▇"):
    BLOCKS[ch] = (0, 1 - (i + 1) / 8, 1, 1)
for i, ch in enumerate("▏▎▍▌▋▊▉"):
    BLOCKS[ch] = (0, 0, (i + 1) / 8, 1)


def render(lines, out, columns=None, rows=None):
    fonts = {
        (False, False): ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE),
        (True, False): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE),
        (False, True): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Oblique.ttf", SIZE),
        (True, True): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-BoldOblique.ttf", SIZE),
    }
    regular = fonts[(False, False)]
    ascent, descent = regular.getmetrics()
    cw = round(regular.getlength("M"))
    ch_ = ascent + descent
    columns = columns or max((sum(c[2] for c in line) for line in lines), default=80)
    rows = rows or len(lines)
    pad = 12
    image = Image.new("RGB", (columns * cw + 2 * pad, rows * ch_ + 2 * pad), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for y, line in enumerate(lines[:rows]):
        x = 0
        for char, style, width in line:
            fg = style.fg or FOREGROUND
            bg = style.bg
            if style.reverse:
                fg, bg = (bg or BACKGROUND), fg
            if style.dim:
                fg = tuple(int(c * 0.6) for c in fg)
            left, top = pad + x * cw, pad + y * ch_
            if bg:
                draw.rectangle([left, top, left + width * cw - 1, top + ch_ - 1], fill=bg)
            if char in BLOCKS:
                x0, y0, x1, y1 = BLOCKS[char]
                draw.rectangle(
                    [left + x0 * cw, top + y0 * ch_, left + x1 * cw - 1, top + y1 * ch_ - 1],
                    fill=fg,
                )
            elif char != " ":
                draw.text((left, top), char, font=fonts[(style.bold, style.italic)], fill=fg)
            if style.underline:
                draw.line([left, top + ch_ - 2, left + width * cw - 1, top + ch_ - 2], fill=fg)
            x += width
    image.save(out)


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        lines = parse(f.read())
    columns, rows = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) == 5 else (None, None)
    render(lines, sys.argv[2], columns, rows)


if __name__ == "__main__":
    main()
