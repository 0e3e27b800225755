/**
 * electron-builder.yml, checked where Electron is not installed: against electron-builder's own JSON
 * schema (the check `electron-builder` runs first, which otherwise shows only on a packaging machine),
 * and for what the app needs: its targets and archs, icons each OS can read, native addons outside the
 * asar, the fuses (checklist item 19), and the pre-pack check of the Electron build of better-sqlite3.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nativeBuildProblem } from '../../scripts/before-pack.mjs';

const root = join(import.meta.dirname, '..', '..');
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  optionalDependencies: { electron: string };
};

// The schema and the validator electron-builder itself uses (app-builder-lib's scheme.json and ajv,
// with the options of app-builder-lib/out/util/config/schemaValidator.js).
const builderLib = createRequire(createRequire(import.meta.url).resolve('app-builder-lib/package.json'));
interface AjvError {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}
type Validate = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
const Ajv = (builderLib('ajv') as { default: new (options: object) => { compile(schema: object): Validate } })
  .default;
const validate = new Ajv({ allErrors: true, verbose: true, coerceTypes: true, strict: false }).compile(
  builderLib('./scheme.json') as object,
);

function schemaErrors(candidate: unknown): string[] {
  if (validate(structuredClone(candidate))) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
  );
}

type Target = { target: string; arch: string[] };
const platform = (name: string) => config[name] as Record<string, unknown> & { target: Target[] };
const targets = (name: string) =>
  Object.fromEntries(platform(name).target.map((t) => [t.target, t.arch] as const));

describe('electron-builder.yml', () => {
  it("matches electron-builder 26's schema", () => {
    expect(schemaErrors(config)).toEqual([]);
    // The validator is not vacuous: a misspelt key is caught.
    const typo = { ...config, mac: { ...platform('mac'), hardendRuntime: true } };
    expect(schemaErrors(typo).join('\n')).toContain('hardendRuntime');
  });

  it('builds NSIS for Windows x64, DMG and ZIP for macOS arm64 and x64, AppImage and deb for Linux x64', () => {
    expect(targets('win')).toEqual({ nsis: ['x64'] });
    expect(targets('mac')).toEqual({ dmg: ['arm64', 'x64'], zip: ['arm64', 'x64'] });
    expect(targets('linux')).toEqual({ AppImage: ['x64'], deb: ['x64'] });
    // Per-arch file names, so the two macOS builds never overwrite each other.
    expect(platform('mac').artifactName).toContain('${arch}');
  });

  it('ships native addons outside the asar and never rebuilds them while packaging', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config.files).toContain('native/**/*');
    expect(config.npmRebuild).toBe(false);
    expect(config.electronVersion).toBe(pkg.optionalDependencies.electron);
    expect(config.beforePack).toBe('./scripts/before-pack.mjs');
  });

  it('sets the fuses of checklist item 19, leaving runAsNode on for the children', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: true, // children run as process.execPath with ELECTRON_RUN_AS_NODE=1
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
      resetAdHocDarwinSignature: true, // unsigned macOS builds stay launchable
    });
  });
});

describe('installer icons (scripts/make-icons.mjs)', () => {
  const read = (path: unknown) => readFileSync(join(root, String(path)));
  const pngSize = (png: Buffer) => {
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    return [png.readUInt32BE(16), png.readUInt32BE(20)];
  };

  it('macOS: an ICNS whose PNG entries have the sizes their types promise, up to 1024 px', () => {
    const icns = read(platform('mac').icon);
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const pixels: Record<string, number> = {
      ic07: 128,
      ic08: 256,
      ic09: 512,
      ic10: 1024,
      ic11: 32,
      ic12: 64,
      ic13: 256,
      ic14: 512,
    };
    const seen: string[] = [];
    for (let at = 8; at < icns.length;) {
      const type = icns.toString('ascii', at, at + 4);
      const length = icns.readUInt32BE(at + 4);
      const size = pixels[type];
      expect(size, `ICNS entry ${type}`).toBeDefined();
      expect(pngSize(icns.subarray(at + 8, at + length))).toEqual([size, size]);
      seen.push(type);
      at += length;
    }
    expect(seen.sort()).toEqual(Object.keys(pixels).sort());
  });

  it('Windows: an ICO with a 256 px PNG (electron-builder requires it) and BMP images below', () => {
    const ico = read(platform('win').icon);
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    const count = ico.readUInt16LE(4);
    const sizes: number[] = [];
    for (let k = 0; k < count; k++) {
      const entry = 6 + 16 * k;
      const size = ico[entry] || 256;
      const data = ico.subarray(
        ico.readUInt32LE(entry + 12),
        ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8),
      );
      if (size === 256) {
        expect(pngSize(data)).toEqual([256, 256]);
      } else {
        // BITMAPINFOHEADER: width, doubled height (colour + mask), 32 bits per pixel.
        expect([
          data.readUInt32LE(0),
          data.readInt32LE(4),
          data.readInt32LE(8),
          data.readUInt16LE(14),
        ]).toEqual([40, size, 2 * size, 32]);
        expect(data.length).toBe(40 + size * size * 4 + Math.ceil(size / 32) * 4 * size);
      }
      sizes.push(size);
    }
    expect(sizes).toEqual([16, 24, 32, 48, 64, 128, 256]);
  });

  it('Linux: a folder of NxN.png files, each N pixels square, 16 to 512', () => {
    const dir = String(platform('linux').icon);
    const files = readdirSync(join(root, dir)).sort((a, b) => parseInt(a) - parseInt(b));
    expect(files).toEqual([
      '16x16.png',
      '24x24.png',
      '32x32.png',
      '48x48.png',
      '64x64.png',
      '128x128.png',
      '256x256.png',
      '512x512.png',
    ]);
    for (const file of files) {
      const n = parseInt(file);
      expect(pngSize(read(join(dir, file))), file).toEqual([n, n]);
    }
  });
});

describe('before-pack: the Electron build of better-sqlite3 must fit the package', () => {
  const want = { electron: '40.9.3', platform: 'darwin', arch: 'x64' };

  function withBuild(info: object | null, body: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-before-pack-'));
    try {
      if (info !== null) {
        mkdirSync(join(dir, 'native', 'electron'), { recursive: true });
        writeFileSync(join(dir, 'native', 'electron', 'better_sqlite3.node'), 'addon');
        writeFileSync(join(dir, 'native', 'electron', 'build-info.json'), JSON.stringify(info));
      }
      body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('accepts a build for this Electron, OS and arch', () => {
    withBuild(want, (dir) => expect(nativeBuildProblem({ root: dir, ...want })).toBeNull());
  });

  it('refuses a missing build, naming the command that makes it', () => {
    withBuild(null, (dir) =>
      expect(nativeBuildProblem({ root: dir, ...want })).toMatch(
        /better_sqlite3\.node is missing.*npm run rebuild:electron -- --arch=x64/,
      ),
    );
  });

  it('refuses a build for another arch, Electron or OS, saying which', () => {
    withBuild({ ...want, arch: 'arm64' }, (dir) =>
      expect(nativeBuildProblem({ root: dir, ...want })).toContain(
        'built for Electron 40.9.3 on darwin-arm64, but this package is for Electron 40.9.3 on darwin-x64',
      ),
    );
    withBuild({ ...want, electron: '39.0.0' }, (dir) =>
      expect(nativeBuildProblem({ root: dir, ...want })).toContain('Electron 39.0.0'),
    );
    withBuild({ ...want, platform: 'linux' }, (dir) =>
      expect(nativeBuildProblem({ root: dir, ...want })).toContain('on linux-x64'),
    );
  });
});
