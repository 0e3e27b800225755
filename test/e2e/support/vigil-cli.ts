/** Runs the built `vigil` command line (`out/cli/vigil.js`) as a real process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './headless-server';

const entry = join(repoRoot, 'out/cli/vigil.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Replaces VIGIL_URL and VIGIL_TOKEN of this process (undefined: unset). */
  env?: { VIGIL_URL?: string; VIGIL_TOKEN?: string };
  /** Written to standard input, which then closes (default: closed at once). */
  input?: string;
}

function start(args: string[], options: CliOptions): ChildProcess {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.VIGIL_URL;
  delete env.VIGIL_TOKEN;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(options.input ?? '');
  return child;
}

export function vigil(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = start(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} did not finish in 60 s\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A command that keeps running (logs --follow): its output so far, and a way to interrupt it. */
export function vigilRunning(args: string[], options: CliOptions = {}) {
  const child = start(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<CliResult>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    output: () => stdout,
    errors: () => stderr,
    /** Ctrl-C, then the result; SIGKILL if it does not end within 10 s. */
    interrupt: async (): Promise<CliResult> => {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await closed;
      clearTimeout(timer);
      return result;
    },
  };
}
