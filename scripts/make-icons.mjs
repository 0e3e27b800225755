// Draws Vigil's icons and writes them under resources/: the app icon (icon.png, and the installers'
// icon.icns for macOS, icon.ico for Windows and icons/NxN.png for Linux), and per tray status
// (healthy, degraded, failing, trading) a colour PNG at 1x and @2x (Linux), a macOS template image
// at 1x and @2x (`<state>Template.png`: black plus alpha, which macOS tints for light and dark menu
// bars), and a Windows .ico. Shapes are signed-distance functions, supersampled for antialiasing;
// PNG, ICNS and ICO bytes are written by hand with zlib, so no image library is needed.
// Deterministic: rerunning it rewrites identical files.  Usage: node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32, deflateSync, inflateSync } from 'node:zlib';

const root = join(import.meta.dirname, '..', 'resources');

// ---- PNG ----------------------------------------------------------------------------------------

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** RGBA, 8 bits per channel, straight alpha. */
function png(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, no filter method, no interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- ICO ----------------------------------------------------------------------------------------

/**
 * ICO (Windows): a 6-byte header, a 16-byte directory entry per image (size, 32 bpp, byte length,
 * offset), then the images as they are: PNG files (read by Windows since Vista) or BMP bitmaps
 * (icoBitmap below).
 */
function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, bytes }, i) => {
    const entry = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, entry); // width (0 means 256)
    header.writeUInt8(size >= 256 ? 0 : size, entry + 1); // height
    header.writeUInt8(0, entry + 2); // no palette
    header.writeUInt8(0, entry + 3); // reserved
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(bytes.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += bytes.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.bytes)]);
}

// ---- Shapes (in a unit square, y down; negative distance = inside) ---------------------------------

const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;
const ring = (cx, cy, r, width) => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2;

function roundedSquare(inset, radius) {
  return (x, y) => {
    const h = 0.5 - inset - radius;
    const qx = Math.abs(x - 0.5) - h;
    const qy = Math.abs(y - 0.5) - h;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
  };
}

function segmentDistance(x, y, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - ax - t * dx, y - ay - t * dy);
}

/** A stroked polyline with round caps and joins. */
const polyline = (points, width) => (x, y) => {
  let d = Infinity;
  for (let i = 1; i < points.length; i++) d = Math.min(d, segmentDistance(x, y, points[i - 1], points[i]));
  return d - width / 2;
};

const union =
  (...shapes) =>
  (x, y) =>
    Math.min(...shapes.map((s) => s(x, y)));
const subtract = (a, b) => (x, y) => Math.max(a(x, y), -b(x, y));

// ---- Rendering ----------------------------------------------------------------------------------

const hex = (h, a = 1) => [
  parseInt(h.slice(1, 3), 16),
  parseInt(h.slice(3, 5), 16),
  parseInt(h.slice(5, 7), 16),
  a,
];

/**
 * Layers are painted bottom to top; each is [shape, colour] where colour is an RGBA array or a
 * function of (x, y). Each pixel averages `samples`² points, which antialiases every edge.
 */
function render(size, layers, samples = 8) {
  const out = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0; // premultiplied sums
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          let cr = 0,
            cg = 0,
            cb = 0,
            ca = 0;
          for (const [shape, colour] of layers) {
            if (shape(x, y) > 0) continue;
            const [lr, lg, lb, la] = typeof colour === 'function' ? colour(x, y) : colour;
            cr = lr * la + cr * (1 - la);
            cg = lg * la + cg * (1 - la);
            cb = lb * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const n = samples * samples;
      const i = (py * size + px) * 4;
      const alpha = a / n;
      out[i + 3] = Math.round(alpha * 255);
      if (alpha > 0) {
        out[i] = Math.round(r / n / alpha);
        out[i + 1] = Math.round(g / n / alpha);
        out[i + 2] = Math.round(b / n / alpha);
      }
    }
  }
  return png(size, size, out);
}

// ---- Vigil's motifs -----------------------------------------------------------------------------

const TEAL = hex('#2dd4bf');
const WHITE = hex('#ffffff');
const BLACK = hex('#000000');

/** The watchful pulse: a heartbeat line across the icon. */
const pulse = (x0, x1, yMid, amp, width) =>
  polyline(
    [
      [x0, yMid],
      [0.38, yMid],
      [0.44, yMid - amp * 0.55],
      [0.52, yMid + amp],
      [0.58, yMid - amp],
      [0.64, yMid],
      [x1, yMid],
    ],
    width,
  );

function appIcon(size = 1024) {
  // macOS-style body: a rounded square inset from the canvas edge.
  const body = roundedSquare(0.09, 0.19);
  const background = (x, y) => {
    const t = Math.min(1, Math.max(0, (y - 0.09) / 0.82));
    const top = hex('#172033');
    const bottom = hex('#0b1120');
    return top.map((c, k) => (k === 3 ? 1 : c + (bottom[k] - c) * t));
  };
  const watchRing = ring(0.5, 0.5, 0.27, 0.045);
  const line = pulse(0.17, 0.83, 0.5, 0.16, 0.05);
  // The line passes over the ring; a dark gap around it keeps the two readable.
  const gap = polyline(
    [
      [0.17, 0.5],
      [0.83, 0.5],
    ],
    0.12,
  );
  return render(
    size,
    [
      [body, background],
      [subtract(watchRing, gap), hex('#2dd4bf', 0.35)],
      [line, TEAL],
    ],
    // 16 samples a pixel are plenty at 512 px and up; small sizes need more to keep thin lines smooth.
    size >= 512 ? 4 : 8,
  );
}

// ---- App icon containers for the installers (electron-builder.yml: mac/win/linux.icon) ------------

const appIconPngs = new Map();
/** One rendering per size, shared by the three containers. */
function appIconPng(size) {
  if (!appIconPngs.has(size)) appIconPngs.set(size, appIcon(size));
  return appIconPngs.get(size);
}

/**
 * ICNS (macOS): 'icns' and the file length, then one entry per image: a type, the entry length
 * (its 8-byte header included) and a PNG, all big-endian. These types hold PNGs since macOS 10.7/10.8;
 * ic11-ic14 and ic10 are the @2x images of 16, 32, 128, 256 and 512 points.
 */
const ICNS_ENTRIES = [
  ['ic11', 32],
  ['ic12', 64],
  ['ic07', 128],
  ['ic13', 256],
  ['ic08', 256],
  ['ic14', 512],
  ['ic09', 512],
  ['ic10', 1024],
];

function icns() {
  const entries = ICNS_ENTRIES.map(([type, size]) => {
    const data = appIconPng(size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + entries.reduce((n, e) => n + e.length, 0), 4);
  return Buffer.concat([head, ...entries]);
}

/** The RGBA pixels of a PNG written by png() above (RGBA, 8 bits, filter 0 on every row, no interlace). */
function pngPixels(bytes) {
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const idat = [];
  for (let at = 8; at < bytes.length;) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('ascii', at + 4, at + 8) === 'IDAT')
      idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  return { width, height, rgba };
}

/**
 * An ICO image in BMP form: a BITMAPINFOHEADER (height doubled: colour rows, then the mask), 32-bit
 * BGRA rows bottom-up, then a 1-bit AND mask (set where fully transparent) with rows padded to 4 bytes.
 */
function icoBitmap(pngBytes) {
  const { width: size, rgba } = pngPixels(pngBytes);
  const header = Buffer.alloc(40);
  const maskRow = Math.ceil(size / 32) * 4;
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8);
  header.writeUInt16LE(1, 12); // planes
  header.writeUInt16LE(32, 14); // bits per pixel
  header.writeUInt32LE(size * size * 4 + maskRow * size, 20); // image size (BI_RGB: no compression)
  const pixels = Buffer.alloc(size * size * 4);
  const mask = Buffer.alloc(maskRow * size);
  for (let y = 0; y < size; y++) {
    const row = size - 1 - y; // bottom-up
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const o = (row * size + x) * 4;
      pixels[o] = rgba[i + 2];
      pixels[o + 1] = rgba[i + 1];
      pixels[o + 2] = rgba[i];
      pixels[o + 3] = rgba[i + 3];
      if (rgba[i + 3] === 0) mask[row * maskRow + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return Buffer.concat([header, pixels, mask]);
}

/**
 * The installer's ICO: BMP below 256 px, PNG at 256 (width and height 0 mean 256), as Windows' own
 * icons are; electron-builder needs a 256 px image to accept the file.
 */
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];

const appIco = () =>
  ico(
    ICO_SIZES.map((size) => ({ size, bytes: size === 256 ? appIconPng(size) : icoBitmap(appIconPng(size)) })),
  );

/** Linux: electron-builder installs every NxN.png of the folder into the hicolor icon theme. */
const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];

function writeAppIcons() {
  write('icon.png', appIconPng(1024));
  write('icon.icns', icns());
  write('icon.ico', appIco());
  for (const size of LINUX_SIZES) write(`icons/${size}x${size}.png`, appIconPng(size));
}

/** Tray icons: a status-coloured disc with a white glyph; shape and colour both tell the status. */
const trayStates = {
  healthy: {
    colour: hex('#22c55e'),
    glyph: (w) =>
      polyline(
        [
          [0.29, 0.52],
          [0.44, 0.67],
          [0.72, 0.36],
        ],
        w,
      ),
  },
  degraded: {
    colour: hex('#f59e0b'),
    glyph: (w) =>
      union(
        polyline(
          [
            [0.5, 0.27],
            [0.5, 0.56],
          ],
          w,
        ),
        circle(0.5, 0.73, w * 0.62),
      ),
  },
  failing: {
    colour: hex('#ef4444'),
    glyph: (w) =>
      union(
        polyline(
          [
            [0.33, 0.33],
            [0.67, 0.67],
          ],
          w,
        ),
        polyline(
          [
            [0.67, 0.33],
            [0.33, 0.67],
          ],
          w,
        ),
      ),
  },
  trading: {
    colour: hex('#3b82f6'),
    glyph: (w) =>
      polyline(
        [
          [0.24, 0.62],
          [0.41, 0.45],
          [0.54, 0.57],
          [0.76, 0.35],
        ],
        w,
      ),
  },
};

// Thicker strokes at small sizes, where a hairline would vanish.
const trayStroke = (size) => (size <= 20 ? 0.15 : 0.12);

function trayIcon(state, size) {
  const { colour, glyph } = trayStates[state];
  return render(size, [
    [circle(0.5, 0.5, 0.47), colour],
    [glyph(trayStroke(size)), WHITE],
  ]);
}

/** macOS template: only alpha counts, so the glyph is cut out of the disc and the shape alone tells the status. */
function trayTemplate(state, size) {
  const { glyph } = trayStates[state];
  return render(size, [[subtract(circle(0.5, 0.5, 0.47), glyph(trayStroke(size))), BLACK]]);
}

/** Windows picks the size for the display's scaling: 16 px at 100 %, 20 at 125 %, 24 at 150 %, 32 at 200 %. */
const WINDOWS_TRAY_SIZES = [16, 20, 24, 32, 40, 48];

// ---- Output -------------------------------------------------------------------------------------

function write(relative, bytes) {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  console.log(`${relative}  ${bytes.length} bytes`);
}

writeAppIcons();
for (const state of Object.keys(trayStates)) {
  write(`tray/${state}.png`, trayIcon(state, 16));
  write(`tray/${state}@2x.png`, trayIcon(state, 32));
  write(`tray/${state}Template.png`, trayTemplate(state, 16));
  write(`tray/${state}Template@2x.png`, trayTemplate(state, 32));
  write(`tray/${state}.ico`, ico(WINDOWS_TRAY_SIZES.map((size) => ({ size, bytes: trayIcon(state, size) }))));
}
