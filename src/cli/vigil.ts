#!/usr/bin/env node
/**
 * `vigil`: the operator's command line over the headless server's control API (see CLI_USAGE). The
 * server and token come from --url/--token or VIGIL_URL/VIGIL_TOKEN; the exit code says how it went.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CLI_USAGE, EXIT, parseCliArgs, UsageError } from './args';
import { CommandError, runCommand, type CliIo } from './commands';
import { connect, ConnectError } from './connection';

async function main(): Promise<number> {
  let args;
  try {
    args = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`vigil: ${error.message}\n(vigil --help lists the commands)\n`);
    return EXIT.usage;
  }
  if (args.help || args.command === null) {
    process.stdout.write(`${CLI_USAGE}\n`);
    return EXIT.ok;
  }

  let connection;
  try {
    connection = await connect(args.wsUrl, args.server, args.token);
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    process.stderr.write(`vigil: ${error.message}\n`);
    return error.kind === 'unauthorized' ? EXIT.unauthorized : EXIT.unreachable;
  }
  const io: CliIo = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    ask,
    readText: (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
    writeText: (path, text) => writeFile(path, text),
    // Installed only when a command waits for it: elsewhere Ctrl-C ends the process as usual.
    untilInterrupted: () => new Promise((resolve) => process.once('SIGINT', () => resolve())),
    style: { color: !args.json && process.stdout.isTTY === true && !process.env.NO_COLOR },
  };
  try {
    return await runCommand(args.command, { api: connection.api, io, args, lost: connection.lost });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    process.stderr.write(`vigil: ${error.message}\n`);
    return error.exitCode;
  } finally {
    connection.close();
  }
}

/** y or yes on standard input; anything else, or its end, is no (a script without --yes never trades). */
function ask(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({
      input: process.stdin,
      output: process.stderr,
      terminal: process.stdin.isTTY,
    });
    let answered = false;
    rl.question(`${question} [y/N] `, (answer) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
    rl.once('close', () => {
      if (!answered) {
        process.stderr.write('\n');
        resolve(false);
      }
    });
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vigil: unexpected failure: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
