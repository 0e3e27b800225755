/**
 * The market read thread (a build entry of its own: out/main/market-read-worker.js): answers the
 * core's gap-ledger and series requests one at a time, off the core's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { answer, type MarketReadRequest, type MarketReadWorkerData } from './market-read-protocol';

if (!parentPort) throw new Error('market-read-worker runs as a worker thread of the Vigil core');
const port = parentPort;
const files = workerData as MarketReadWorkerData;

port.on('message', (request: MarketReadRequest) => port.postMessage(answer(files, request)));
