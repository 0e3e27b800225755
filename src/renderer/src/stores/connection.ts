import { create } from 'zustand';
import type { ConnectionStatus } from '../transport/ws-transport';

interface ConnectionStore {
  status: ConnectionStatus;
  set(status: ConnectionStatus): void;
}

export const useConnectionStore = create<ConnectionStore>()((set) => ({
  status: { state: 'connecting', detail: null, retryAt: null, server: null },
  set: (status) => set({ status }),
}));
