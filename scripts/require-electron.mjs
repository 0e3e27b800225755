// The desktop app needs Electron's binary, which `npm install` downloads where it can. Where it could
// not (no route to Electron's download host), say so plainly instead of failing deep inside a tool.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let binary;
try {
  binary = require('electron'); // under plain Node this is the binary's path; it throws if the package is missing
} catch {
  binary = undefined;
}
// The path can also point at nothing, when the download failed half-way.
if (typeof binary !== 'string' || !existsSync(binary)) {
  console.error(
    [
      'Electron is not installed on this machine (its binary download was refused or skipped).',
      'Reinstall where Electron can be downloaded:  rm -rf node_modules/electron && npm install',
      'or run Vigil without the desktop shell:        npm run headless',
    ].join('\n'),
  );
  process.exit(1);
}
