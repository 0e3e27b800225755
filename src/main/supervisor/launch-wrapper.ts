/**
 * The Linux kernel's guarantee against orphans (reference c8.2): a child launched through
 * `setpriv --pdeathsig SIGTERM` gets SIGTERM when the thread that spawned it dies, even if the
 * supervisor is SIGKILLed. setpriv sets PR_SET_PDEATHSIG and then execs the command, so the pid the
 * supervisor sees is the command's own. The setting is not inherited by grandchildren: the group
 * kill and the start-up reconciliation still cover those. macOS and Windows have no such signal (on
 * Windows a job object would do, but Node cannot create one): there the start-up reconciliation
 * alone stops what a dead supervisor left running.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const SETPRIV_PATH = '/usr/bin/setpriv';

let supported: boolean | undefined;

/** Whether children can be tied to our life on this machine (checked once). */
export function parentDeathSignalSupported(): boolean {
  if (supported === undefined) {
    supported = false;
    if (process.platform === 'linux' && existsSync(SETPRIV_PATH)) {
      try {
        // util-linux added --pdeathsig in 2.33; older versions do not list it.
        const help = execFileSync(SETPRIV_PATH, ['--help'], {
          encoding: 'utf8',
          timeout: 2000,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        supported = help.includes('--pdeathsig');
      } catch {
        supported = false;
      }
    }
  }
  return supported;
}

/** The command to spawn so that the child gets SIGTERM when we die; unchanged where unsupported. */
export function withParentDeathSignal(file: string, args: string[]): { file: string; args: string[] } {
  if (!parentDeathSignalSupported()) return { file, args };
  return { file: SETPRIV_PATH, args: ['--pdeathsig', 'SIGTERM', '--', file, ...args] };
}
