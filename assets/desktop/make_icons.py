#!/usr/bin/env python3
"""Draws the app icon: the first digit of MNIST's training set (a 5), its 28x28 pixels as rounded tiles on a dark
card, as an SVG and as PNGs for the hicolor theme. Standard library only, so anyone can redraw it:

    python3 assets/desktop/make_icons.py     # rewrites assets/desktop/icons/
"""
import gzip, os, struct, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "assets", "desktop", "icons")
SIZES = [16, 32, 48, 64, 128, 256, 512]
BG = (0x1B, 0x26, 0x3B)      # dark blue card
LOW = (0x3A, 0x7C, 0xA5)     # faint ink: steel blue
HIGH = (0xFF, 0xD1, 0x66)    # full ink: warm yellow
CARD, PAD, RADIUS = 32.0, 2.0, 5.0   # the card is 32 units, the 28 tiles sit inside a 2-unit margin


def first_digit():
    with gzip.open(os.path.join(ROOT, "assets", "mnist", "train-images-idx3-ubyte.gz")) as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051 and rows == cols == 28
        return list(f.read(28 * 28))


def ink(v):
    t = v / 255.0
    return tuple(round(a + (b - a) * t) for a, b in zip(LOW, HIGH))


def svg(px):
    tiles = []
    for i, v in enumerate(px):
        if v < 24:
            continue
        x, y = PAD + i % 28, PAD + i // 28
        r, g, b = ink(v)
        tiles.append(f'<rect x="{x + 0.06:.2f}" y="{y + 0.06:.2f}" width="0.88" height="0.88" rx="0.22" '
                     f'fill="#{r:02x}{g:02x}{b:02x}" fill-opacity="{0.35 + 0.65 * v / 255:.2f}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CARD:g} {CARD:g}" width="512" height="512">\n'
            f'<title>LeNet-5 Playground</title>\n'
            f'<rect width="{CARD:g}" height="{CARD:g}" rx="{RADIUS:g}" fill="#{BG[0]:02x}{BG[1]:02x}{BG[2]:02x}"/>\n'
            + "\n".join(tiles) + "\n</svg>\n")


def coverage_rounded(x, y, w, h, r, sx, sy):
    """1 if the point (sx, sy) lies inside the rounded rectangle, else 0."""
    if not (x <= sx <= x + w and y <= sy <= y + h):
        return 0.0
    cx = min(max(sx, x + r), x + w - r)
    cy = min(max(sy, y + r), y + h - r)
    return 1.0 if (sx - cx) ** 2 + (sy - cy) ** 2 <= r * r else 0.0


def render(px, size, ss=4):
    """RGBA rows, 4x4 supersampled: the card, then each tile blended over it."""
    unit = size / CARD
    rows = []
    for py in range(size):
        row = bytearray()
        for pxl in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for j in range(ss):
                for i in range(ss):
                    sx, sy = (pxl + (i + 0.5) / ss) / unit, (py + (j + 0.5) / ss) / unit
                    a = coverage_rounded(0, 0, CARD, CARD, RADIUS, sx, sy)
                    if a == 0:
                        continue
                    col = list(BG)
                    tx, ty = int(sx - PAD), int(sy - PAD)
                    if 0 <= tx < 28 and 0 <= ty < 28 and sx >= PAD and sy >= PAD:
                        v = px[ty * 28 + tx]
                        if v >= 24 and coverage_rounded(PAD + tx + 0.06, PAD + ty + 0.06, 0.88, 0.88, 0.22, sx, sy):
                            o = 0.35 + 0.65 * v / 255
                            col = [c * (1 - o) + k * o for c, k in zip(BG, ink(v))]
                    acc[0] += col[0]; acc[1] += col[1]; acc[2] += col[2]; acc[3] += 255
            n = ss * ss
            alpha = acc[3] / n
            if alpha == 0:
                row += bytes(4)
            else:
                k = 255 / alpha
                row += bytes(round(min(255, c / n * k)) for c in acc[:3]) + bytes([round(alpha)])
        rows.append(bytes(row))
    return rows


def png(rows, size):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    px = first_digit()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "lenet-playground.svg"), "w") as f:
        f.write(svg(px))
    for s in SIZES:
        with open(os.path.join(OUT, f"lenet-playground-{s}.png"), "wb") as f:
            f.write(png(render(px, s), s))


if __name__ == "__main__":
    main()
