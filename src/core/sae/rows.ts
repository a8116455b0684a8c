/**
 * Reading per-token feature rows, whether an encoding in the core or the payload the editor receives (pure, so
 * the panel's webview can use it too).
 */

/** Token t's features are entries rowStart[t] .. rowStart[t+1]-1 of featureIndex/activation. */
interface FeatureRows {
  readonly tokenCount: number;
  readonly rowStart: Uint32Array;
  readonly featureIndex: Uint32Array;
  readonly activation: Float32Array;
}

/** Feature f's activation at every token (0 where not selected): the heatmap across the document. */
export function featureAcrossTokens(enc: FeatureRows, f: number): Float32Array {
  const out = new Float32Array(enc.tokenCount);
  for (let t = 0; t < enc.tokenCount; t++) {
    for (let e = enc.rowStart[t]; e < enc.rowStart[t + 1]; e++) {
      if (enc.featureIndex[e] === f) {
        out[t] = enc.activation[e];
        break;
      }
    }
  }
  return out;
}
