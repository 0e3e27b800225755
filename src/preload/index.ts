/**
 * The preload (sandboxed, bundled to CommonJS): exposes `window.vigil` and nothing else. All logic is
 * in ./bridge, tested under plain Node.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeVigil } from './bridge';

exposeVigil(contextBridge, ipcRenderer);
