# Writes MNIST test digits in another hand (dilated, rotated 28°, dark on light, 84 px) as PNGs: OUT/<digit>/<n>.png.
# python3 styled_digits.py OUT PER_CLASS SKIP MNIST_DIR   (pure Python: no PIL needed)
import gzip, struct, zlib, math, sys, os
out, per_class, skip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = sys.argv[4]
imgs = gzip.open(f"{root}/t10k-images-idx3-ubyte.gz").read()[16:]
labels = gzip.open(f"{root}/t10k-labels-idx1-ubyte.gz").read()[8:]
def png(path, side, px):
    raw = b"".join(b"\x00" + bytes(px[y*side:(y+1)*side]) for y in range(side))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)
seen = [0]*10; n = [0]*10
for i in range(10000):
    c = labels[i]; seen[c] += 1
    if seen[c] <= skip or n[c] >= per_class: continue
    img = [imgs[i*784 + k]/255 for k in range(784)]
    th = [max(img[yy*28+xx] for yy in range(max(0,y-1),min(28,y+2)) for xx in range(max(0,x-1),min(28,x+2))) for y in range(28) for x in range(28)]
    s, co = math.sin(math.radians(28)), math.cos(math.radians(28))
    side = 84; px = []
    for y in range(side):
        for x in range(side):
            tx, ty = (x+0.5)/3-14, (y+0.5)/3-14
            sx, sy = co*tx + s*ty + 14 - 0.5, -s*tx + co*ty + 14 - 0.5
            x0, y0 = math.floor(sx), math.floor(sy); fx, fy = sx-x0, sy-y0
            def at(a, b): return th[b*28+a] if 0 <= a < 28 and 0 <= b < 28 else 0
            v = at(x0,y0)*(1-fx)*(1-fy) + at(x0+1,y0)*fx*(1-fy) + at(x0,y0+1)*(1-fx)*fy + at(x0+1,y0+1)*fx*fy
            px.append(255 - round(min(1, max(0, v))*255))
    n[c] += 1
    png(f"{out}/{c}/{n[c]}.png", side, px)
print(sum(n))
