import { create } from 'zustand';
import type { AppInfo } from '../../../shared/api';
import type { ApiErrorShape } from '../../../shared/errors';

interface AppInfoStore {
  info: AppInfo | null;
  error: ApiErrorShape | null;
  set(info: AppInfo): void;
  fail(error: ApiErrorShape): void;
  clear(): void;
}

export const useAppInfoStore = create<AppInfoStore>()((set) => ({
  info: null,
  error: null,
  set: (info) => set({ info, error: null }),
  fail: (error) => set({ error }),
  clear: () => set({ info: null, error: null }),
}));
