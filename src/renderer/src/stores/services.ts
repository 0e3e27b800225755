/** The live list of services: loaded with `services.list`, then kept current by `service.state`. */
import { useMemo } from 'react';
import { create } from 'zustand';
import type { ApiErrorShape } from '../../../shared/errors';
import type { ServiceInfo } from '../../../shared/services';

interface ServicesStore {
  byName: Readonly<Record<string, ServiceInfo>>;
  /** Names in the order the supervisor lists them; events for new names append. */
  names: readonly string[];
  loaded: boolean;
  error: ApiErrorShape | null;
  replaceAll(list: ServiceInfo[]): void;
  upsert(info: ServiceInfo): void;
  /** A service was removed (`service.removed`, e.g. by a configuration import). */
  remove(name: string): void;
  fail(error: ApiErrorShape): void;
  clear(): void;
}

export const useServicesStore = create<ServicesStore>()((set) => ({
  byName: {},
  names: [],
  loaded: false,
  error: null,
  replaceAll: (list) =>
    set({
      byName: Object.fromEntries(list.map((s) => [s.name, s])),
      names: list.map((s) => s.name),
      loaded: true,
      error: null,
    }),
  upsert: (info) =>
    set((s) => ({
      byName: { ...s.byName, [info.name]: info },
      names: s.names.includes(info.name) ? s.names : [...s.names, info.name],
    })),
  remove: (name) =>
    set((s) => ({
      byName: Object.fromEntries(Object.entries(s.byName).filter(([n]) => n !== name)),
      names: s.names.filter((n) => n !== name),
    })),
  fail: (error) => set({ error }),
  clear: () => set({ byName: {}, names: [], loaded: false, error: null }),
}));

/** Cheap shape check for data arriving over the wire, before it goes into the store. */
export function isServiceInfo(value: unknown): value is ServiceInfo {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.state === 'string' && typeof v.kind === 'string';
}

/** The services in list order, as a stable array (recomputed only when the store changes). */
export function useServiceList(): ServiceInfo[] {
  const byName = useServicesStore((s) => s.byName);
  const names = useServicesStore((s) => s.names);
  return useMemo(() => names.flatMap((n) => byName[n] ?? []), [byName, names]);
}
