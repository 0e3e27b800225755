/** Saving text as a file and copying it, with what works inside Electron as well as in a browser. */

/** Offers `text` as a download named `filename` (Electron asks where to save it). */
export function downloadText(filename: string, text: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${mime};charset=utf-8` }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL by now; give slow machines a moment anyway.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Puts `text` on the clipboard. The async clipboard needs a permission that Electron's guard denies
 * and that a plain http page may lack, so a hidden selection with the copy command is the fallback.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const focused = document.activeElement;
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    } finally {
      area.remove();
      if (focused instanceof HTMLElement) focused.focus();
    }
  }
}

/** vigil-config-20251122-1337.yaml */
export function exportFileName(format: 'json' | 'yaml', at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}`;
  return `vigil-config-${stamp}.${format}`;
}
