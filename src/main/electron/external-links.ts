/**
 * Checklist item 15: `shell.openExternal` only for https links to a short list of hosts (the
 * exchanges' status and docs pages, GitHub). Anything else — other schemes, other hosts, credentials
 * or odd ports in the URL — is refused, since an OS URL handler can launch programs.
 */

/** A host here also allows its subdomains (www.binance.com, status.okx.com, docs.deribit.com). */
export const EXTERNAL_HOSTS: readonly string[] = ['binance.com', 'okx.com', 'deribit.com', 'github.com'];

export function isSafeExternalUrl(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (
    parsed.protocol !== 'https:' ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    parsed.port !== ''
  ) {
    return false;
  }
  const host = parsed.hostname; // lowercased and punycoded by the parser
  return hosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

export interface ShellLike {
  openExternal(url: string): Promise<void>;
}

/** Opens an allowlisted link in the user's browser; returns whether it did. */
export function openExternalSafely(
  shell: ShellLike,
  url: string,
  hosts: readonly string[] = EXTERNAL_HOSTS,
): boolean {
  if (!isSafeExternalUrl(url, hosts)) {
    console.warn(`[shell] refused to open ${JSON.stringify(url.slice(0, 200))}`);
    return false;
  }
  shell.openExternal(url).catch((error: unknown) => console.warn('[shell] openExternal failed:', error));
  return true;
}
