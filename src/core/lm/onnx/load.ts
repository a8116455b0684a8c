/**
 * A model by folder or by hub repo id, the one entry point for the CLI and the model worker: a repo id is
 * looked up in the Hugging Face cache and downloaded only when the caller allows downloads.
 */
import { defaultHubCacheDir } from '../../models/hubCache';
import { resolveModelSpec, type DownloadProgress } from '../../models/download';
import type { OnnxDtype } from './folder';
import { OnnxCausalLM } from './onnxModel';

export interface ModelSource {
  /** Off unless the user turned downloads on (tokenInspector.allowDownloads, the CLI's --allow-downloads). */
  readonly allowDownloads: boolean;
  /** Default: the standard Hugging Face cache. */
  readonly cacheDir?: string;
  readonly host?: string;
  readonly revision?: string;
  readonly token?: string;
  readonly dtype?: OnnxDtype;
  readonly threads?: number;
  readonly signal?: AbortSignal;
  readonly onDownloadProgress?: (p: DownloadProgress) => void;
}

/** The local folder of `spec`: a folder as it is, a repo id from the cache or, when allowed, downloaded. */
export function resolveModelSource(spec: string, source: ModelSource): Promise<string> {
  return resolveModelSpec(spec, {
    cacheDir: source.cacheDir ?? defaultHubCacheDir(),
    allowDownloads: source.allowDownloads,
    host: source.host,
    revision: source.revision,
    token: source.token,
    dtype: source.dtype,
    signal: source.signal,
    onProgress: source.onDownloadProgress,
  });
}

/** Loads `spec` (a model folder, a Hugging Face cache model folder, or `org/name`). */
export async function loadOnnxModel(spec: string, source: ModelSource): Promise<OnnxCausalLM> {
  const folder = await resolveModelSource(spec, source);
  return OnnxCausalLM.load(folder, { dtype: source.dtype, threads: source.threads, id: spec });
}
