// The demo's one saved training run, in IndexedDB: the checkpoint bytes the library hands to
// `fit`'s `checkpoint.save` after each epoch, the epoch to resume at and the run's settings.
// Both threads reach it (IndexedDB works in workers), so the trainer saves and loads it where it
// trains, and the page only asks whether there is one.

import type { Settings } from './types.js';

/** A run saved after an epoch: `epoch` is the `initialEpoch` that goes on with it. */
export interface SavedRun {
  readonly bytes: Uint8Array;
  readonly epoch: number;
  readonly settings: Settings;
}

const DB = 'webgpu-softmax-demo';
const STORE = 'checkpoints';
const KEY = 'last-run';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB would not open'));
  });
}

/** Runs one request in its own transaction and closes the database after it. */
async function withStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = use(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    });
  } finally {
    db.close();
  }
}

export function saveRun(run: SavedRun): Promise<unknown> {
  return withStore('readwrite', (store) => store.put(run, KEY));
}

export async function loadRun(): Promise<SavedRun | null> {
  return ((await withStore('readonly', (store) => store.get(KEY))) as SavedRun | undefined) ?? null;
}

export function clearRun(): Promise<unknown> {
  return withStore('readwrite', (store) => store.delete(KEY));
}
