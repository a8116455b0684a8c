/**
 * Every message between the extension host, its workers and its webviews, typed and validated in this folder:
 * requests.ts (the typed-request machinery), one file per worker (tokenWorker.ts, workspaceWorker.ts,
 * modelWorker.ts), webview.ts, and payloads.ts for what more than one of them carries.
 */
export * from './payloads';
export * from './webview';
export type { FeaturesPayload } from './modelWorker';
