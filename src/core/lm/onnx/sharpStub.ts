/**
 * Stands in for `sharp` in the model worker bundle (esbuild `alias: { sharp: … }`): transformers.js imports
 * it for image inputs, which language models never use, and the real package is native code for each
 * platform. transformers.js refuses to load without some image backend, so this one exists and throws if
 * it is ever called.
 */
export default function sharp(): never {
  throw new Error('image inputs are not supported in Token Inspector');
}
