/**
 * The settings as the server has them: read with `settings.get` when the connection comes up, then
 * replaced by every `config.changed` (a save here, in another window, or an import) and by the reply
 * of a save. Loaded by the pages that show them, while they are shown.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { Settings } from '../../../shared/settings';

interface SettingsStore {
  settings: Settings | null;
  error: ApiErrorShape | null;
  set(settings: Settings): void;
}

export const useSettingsStore = create<SettingsStore>()((set) => ({
  settings: null,
  error: null,
  set: (settings) => set({ settings, error: null }),
}));

export async function loadSettings(api: VigilApi): Promise<void> {
  const res = await api.settings.get();
  if (res.ok) useSettingsStore.getState().set(res.result);
  else useSettingsStore.setState({ error: res.error });
}

/** Follows `config.changed` until the returned function is called. */
export function followSettings(api: VigilApi): () => void {
  return api.on('config.changed', (payload) => {
    if (typeof payload === 'object' && payload !== null && typeof payload.settings === 'object') {
      useSettingsStore.getState().set(payload.settings);
    }
  });
}
