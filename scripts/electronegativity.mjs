// `npm run check:electron-security`: @doyensec/electronegativity over src/, offline. Prints every
// finding; fails on any finding above informational that scripts/electronegativity-accepted.json does
// not accept (by check and file, each with its reason), on an accepted entry that no longer matches a
// finding (the list stays honest), and on any file the tool could not parse (an unparsed file is an
// unchecked one). Needs no Electron binary and no build.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const INPUT = 'src';
const accepted = JSON.parse(
  readFileSync(join(import.meta.dirname, 'electronegativity-accepted.json'), 'utf8'),
);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const require = createRequire(join(root, 'package.json'));
let runnerPath;
try {
  runnerPath = require.resolve('@doyensec/electronegativity');
} catch {
  console.error('@doyensec/electronegativity is not installed (a devDependency): run `npm install` first.');
  process.exit(1);
}
const tool = createRequire(runnerPath);
const toolVersion = JSON.parse(readFileSync(join(dirname(runnerPath), '..', 'package.json'), 'utf8')).version;

// The tool fetches translations from the internet on every run (1 s timeout). Answer its HTTP client
// with a 404 so it keeps its bundled English text and the check never leaves this machine.
const gotPath = tool.resolve('got');
const offline = () => Promise.resolve({ statusCode: 404, body: '' });
offline.default = offline;
require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: offline };

const run = tool(runnerPath);
const result = await run({
  input: join(root, INPUT),
  // Electron is an optional dependency the tool does not look at; tell it the pinned version.
  electronVersionOverride: pkg.optionalDependencies.electron,
  // Downloads Electron's release list; checklist item 16 is checked against the registry on CI instead.
  excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
});

const rel = (file) => relative(root, file).split(sep).join('/');
const key = (check, file) => `${check} ${file}`;
const reasons = new Map(accepted.map((a) => [key(a.check, a.file), a.reason]));
const used = new Set();
const failures = [];

console.log(
  `electronegativity ${toolVersion}: ${result.atomicChecks} atomic and ${result.globalChecks} global checks over ${INPUT}/ ` +
    `(Electron ${pkg.optionalDependencies.electron})\n`,
);
for (const issue of result.issues) {
  const file = rel(issue.file);
  const reason = reasons.get(key(issue.id, file));
  const informational = issue.severity.value === 0;
  let verdict;
  if (reason !== undefined) {
    used.add(key(issue.id, file));
    verdict = 'accepted';
  } else if (informational) {
    verdict = 'informational';
  } else {
    verdict = 'FAIL';
    failures.push(`${issue.id} in ${file}`);
  }
  console.log(
    `${verdict.padEnd(13)} ${issue.id} ${issue.severity.name}/${issue.confidence.name}` +
      `${issue.manualReview ? ' (review)' : ''}  ${file}:${issue.location.line}:${issue.location.column}`,
  );
  console.log(`              ${issue.description} ${issue.shortenedURL}`);
  if (reason !== undefined) console.log(`              accepted: ${reason}`);
}
for (const error of result.errors) {
  console.log(
    `${error.tolerable ? 'warning' : 'FAIL'}       could not fully parse ${rel(error.file)}: ${error.message}`,
  );
  if (!error.tolerable) failures.push(`${rel(error.file)} was not parsed, so not checked`);
}
for (const entry of accepted) {
  if (!used.has(key(entry.check, entry.file))) {
    failures.push(
      `accepted ${entry.check} in ${entry.file} is no longer reported: remove it from scripts/electronegativity-accepted.json`,
    );
  }
}

if (failures.length > 0) {
  console.error(
    `\nelectronegativity: ${failures.length} problem(s):\n${failures.map((f) => `  - ${f}`).join('\n')}`,
  );
  console.error(
    'Fix the code, or accept a finding with its reason in scripts/electronegativity-accepted.json',
  );
  console.error('and list it in README.md (Security).');
  process.exit(1);
}
console.log(
  `\nelectronegativity: ${result.issues.length} finding(s), none above informational left unaccepted.`,
);
