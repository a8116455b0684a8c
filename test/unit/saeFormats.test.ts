/**
 * Loading SAEs: what each fixture format yields (hook, model, dtype, normalization), the Hugging Face cache
 * layout, and a clear message for each broken file: wrong shapes, a missing hook, truncated safetensors, a
 * header that lies about offsets, an .npz that is not one, a pickle.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  encodeNpy,
  findSaeFolders,
  gemmaScopeHookFromPath,
  loadSae,
  memorySource,
  openSafetensors,
  readNpy,
  readNpzBytes,
  SaeError,
  validateAgainstModel,
} from '../../src/core/sae';
import { convertToFloat32 } from '../../src/core/sae/bytes';
import { packedWeight } from '../../src/core/sae/kernel';
import { hookFromModulePath } from '../../src/core/sae/hooks';

const FIXTURES = join(__dirname, '..', 'fixtures', 'sae');
const SNAPSHOT = '0123456789abcdef0123456789abcdef01234567';
const SPARSIFY = join(FIXTURES, 'hf-cache', 'models--fixture--sparsify-tiny-gpt2');
const GEMMA = join(FIXTURES, 'hf-cache', 'models--fixture--gemma-scope-tiny-res');

const tmp = mkdtempSync(join(tmpdir(), 'sae-formats-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let tmpCount = 0;
function copyFixture(name: string): string {
  const dir = join(tmp, `${name}-${tmpCount++}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** safetensors bytes from a header object and a data section. */
function safetensorsBytes(header: unknown, data: Uint8Array, headerOverride?: string): Uint8Array {
  const h = new TextEncoder().encode(headerOverride ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function throwsSae(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SaeError, `expected a SaeError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

// ---------------------------------------------------------------------------------------------- formats

test('SAELens 6.x configs: architecture, hook and metadata from metadata{...}; dtypes F32, BF16, F16', () => {
  const std = loadSae(join(FIXTURES, 'saelens-standard'));
  assert.equal(std.format, 'saelens');
  assert.equal(std.architecture, 'standard');
  assert.equal(std.dIn, 32);
  assert.equal(std.dSae, 64);
  assert.equal(std.hook, 'blocks.1.hook_resid_pre');
  assert.equal(std.modelName, 'tiny-gpt2');
  assert.equal(std.neuronpediaId, 'tiny-gpt2/1-res-fixture');
  assert.equal(std.prependBos, true);
  assert.equal(std.contextSizeTokens, 128);
  assert.equal(std.storedDtype, 'F32');
  assert.equal(std.applyBDecToInput, true);
  assert.equal(std.normalization, 'none');
  assert.equal(std.threshold, undefined);

  const jump = loadSae(join(FIXTURES, 'saelens-jumprelu'));
  assert.equal(jump.architecture, 'jumprelu');
  assert.equal(jump.storedDtype, 'BF16');
  assert.equal(jump.threshold?.length, 128);
  assert.equal(jump.applyBDecToInput, false);
  assert.equal(jump.hook, 'blocks.0.hook_resid_post');

  const topk = loadSae(join(FIXTURES, 'saelens-topk'));
  assert.equal(topk.architecture, 'topk');
  assert.equal(topk.k, 8);
  assert.equal(topk.storedDtype, 'F16');
  assert.equal(topk.normalization, 'layer_norm');
  assert.equal(topk.hook, 'blocks.1.hook_mlp_out');
});

test('old flat SAELens configs: hook_point, hook_name + hook_layer, activation_fn_str, expansion_factor', () => {
  const relu = loadSae(join(FIXTURES, 'saelens-flat-relu'));
  assert.equal(relu.architecture, 'standard');
  assert.equal(relu.dSae, 64); // d_in × expansion_factor
  assert.equal(relu.hook, 'blocks.0.hook_resid_pre');
  assert.equal(relu.normalization, 'constant_norm_rescale');
  const topk = loadSae(join(FIXTURES, 'saelens-flat-topk'));
  assert.equal(topk.architecture, 'topk');
  assert.equal(topk.k, 6);
  assert.equal(topk.hook, 'blocks.1.hook_resid_post');
  assert.equal(topk.applyBDecToInput, false);
  assert.equal(topk.neuronpediaId, undefined);
});

test('sparsify in the Hugging Face cache: refs/main → snapshot, one SAE per module folder, the hook from the folder name', () => {
  throwsSae(() => loadSae(SPARSIFY), /holds 2 SAEs; give one of them \(layers\.0, layers\.1\)/);
  const sae = loadSae(SPARSIFY, { subfolder: 'layers.1' });
  assert.equal(sae.format, 'sparsify');
  assert.equal(sae.architecture, 'topk');
  assert.equal(sae.k, 8);
  assert.equal(sae.dSae, 128); // expansion_factor 4, num_latents 0
  assert.equal(sae.storedDtype, 'BF16');
  assert.equal(sae.hook, 'blocks.1.hook_resid_post');
  assert.equal(sae.repoId, 'fixture/sparsify-tiny-gpt2');
  assert.equal(sae.applyBDecToInput, true);
  assert.ok(sae.path.includes(join('snapshots', SNAPSHOT, 'layers.1')));
  // The same SAE through the snapshot folder, its weights file, or its cfg.json.
  const folder = join(SPARSIFY, 'snapshots', SNAPSHOT, 'layers.1');
  for (const p of [folder, join(folder, 'sae.safetensors'), join(folder, 'cfg.json')]) {
    const again = loadSae(p);
    assert.deepEqual(again.encoder.weights, sae.encoder.weights);
  }
  // encoder.weight is [d_sae, d_in]: packed the other way round from SAELens's W_enc.
  const raw = openSafetensors(memorySource(readFileSync(join(folder, 'sae.safetensors')), 'sae.safetensors'));
  const w = raw.readFloat32('encoder.weight');
  assert.equal(packedWeight(sae.encoder, 5, 77), w[77 * 32 + 5]);
  assert.deepEqual(findSaeFolders(join(SPARSIFY, 'snapshots', SNAPSHOT)), ['layers.0', 'layers.1']);
  throwsSae(() => loadSae(SPARSIFY, { subfolder: 'layers.9' }), /has no folder layers\.9/);
});

test('Gemma Scope params.npz: stored (zip64) and deflated archives, w_ keys, the hook from the path', () => {
  const sae = loadSae(GEMMA);
  assert.equal(sae.format, 'gemma-scope');
  assert.equal(sae.architecture, 'jumprelu');
  assert.equal(sae.dSae, 128);
  assert.equal(sae.hook, 'blocks.1.hook_resid_post');
  assert.equal(sae.repoId, 'fixture/gemma-scope-tiny-res');
  assert.equal(sae.applyBDecToInput, false);
  const compressed = loadSae(join(FIXTURES, 'gemma-scope-compressed', 'params.npz'));
  assert.equal(compressed.dSae, 64);
  assert.equal(compressed.hook, undefined); // nothing in the path says
  assert.equal(loadSae(join(FIXTURES, 'gemma-scope-compressed'), { hook: 'blocks.0.hook_resid_post' }).hook, 'blocks.0.hook_resid_post');
  assert.deepEqual(gemmaScopeHookFromPath('/c/models--google--gemma-scope-2b-pt-res/snapshots/x/layer_20/width_16k/average_l0_71'), {
    hook: 'blocks.20.hook_resid_post',
    modelName: 'gemma-2-2b',
  });
  assert.deepEqual(gemmaScopeHookFromPath('/c/models--google--gemma-scope-9b-it-mlp/snapshots/x/layer_9/width_131k/average_l0_12'), {
    hook: 'blocks.9.hook_mlp_out',
    modelName: 'gemma-2-9b-it',
  });
  assert.equal(gemmaScopeHookFromPath('/c/models--google--gemma-scope-2b-pt-att/snapshots/x/layer_3/width_16k/a').hook, 'blocks.3.attn.hook_z');
});

test('module paths map to TransformerLens hooks', () => {
  assert.equal(hookFromModulePath('layers.6'), 'blocks.6.hook_resid_post');
  assert.equal(hookFromModulePath('model.layers.6.mlp'), 'blocks.6.hook_mlp_out');
  assert.equal(hookFromModulePath('transformer.h.11'), 'blocks.11.hook_resid_post');
  assert.equal(hookFromModulePath('gpt_neox.layers.0'), 'blocks.0.hook_resid_post');
  assert.equal(hookFromModulePath('embed_tokens'), undefined);
});

// ---------------------------------------------------------------------------------------------- bad files

test('wrong shapes are named with what the config says', () => {
  const dir = copyFixture('saelens-standard');
  const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...cfg, d_sae: 65 }));
  throwsSae(() => loadSae(dir), /W_enc has shape \[32, 64\] but cfg\.json says d_in=32, d_sae=65 \(expected \[32, 65\]\)/);
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...cfg, d_in: 16 }));
  throwsSae(() => loadSae(dir), /W_enc has shape \[32, 64\] but cfg\.json says d_in=16/);
  throwsSae(() => loadSae(join(FIXTURES, 'bad', 'gemma-wrong-shapes')), /W_dec has shape \[32, 64\] but W_enc is \[32, 64\] \(expected \[64, 32\]\)/);
  const sp = join(tmp, 'sparsify-shape');
  cpSync(join(SPARSIFY, 'snapshots', SNAPSHOT, 'layers.0'), sp, { recursive: true });
  const spCfg = JSON.parse(readFileSync(join(sp, 'cfg.json'), 'utf8'));
  writeFileSync(join(sp, 'cfg.json'), JSON.stringify({ ...spCfg, expansion_factor: 2 }));
  throwsSae(() => loadSae(sp), /encoder\.weight has shape \[128, 32\] but cfg\.json says d_in=32 and 64 latents/);
});

test('a config without a hook loads; checking it against a model says the hook is missing', () => {
  const dir = copyFixture('saelens-standard');
  const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
  delete cfg.metadata.hook_name;
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg));
  const sae = loadSae(dir);
  assert.equal(sae.hook, undefined);
  const model = { dModel: 32, availableHooks: ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre'] };
  throwsSae(() => validateAgainstModel(sae, model), /does not say which hook it reads \(no hook_name in its config\)/);
  assert.deepEqual(validateAgainstModel(loadSae(dir, { hook: 'blocks.1.hook_resid_pre' }), model), []);
});

test('truncated safetensors files', () => {
  const dir = copyFixture('saelens-standard');
  const weights = join(dir, 'sae_weights.safetensors');
  const size = readFileSync(weights).length;
  truncateSync(weights, size - 100);
  throwsSae(() => loadSae(dir), /tensor \S+ ends at byte \d+ of the data section, which has only \d+ bytes \(the file is truncated or its header lies\)/);
  truncateSync(weights, 40);
  throwsSae(() => loadSae(dir), /declares a \d+-byte header but the file has only 32 bytes after the length field/);
  truncateSync(weights, 5);
  throwsSae(() => loadSae(dir), /is 5 bytes long, too short to be a safetensors file/);
});

test('headers that lie about offsets, shapes or dtypes', () => {
  const data = new Uint8Array(16 * 4);
  const src = (header: unknown, override?: string, extra = 0) => memorySource(safetensorsBytes(header, new Uint8Array(data.length + extra), override), 'w.safetensors');
  const ok = { a: { dtype: 'F32', shape: [2, 4], data_offsets: [0, 32] }, b: { dtype: 'F32', shape: [8], data_offsets: [32, 64] }, __metadata__: { format: 'pt' } };
  const file = openSafetensors(src(ok));
  assert.deepEqual(file.metadata, { format: 'pt' });
  assert.equal(file.readFloat32('b').length, 8);
  throwsSae(() => openSafetensors(src({ ...ok, b: { dtype: 'F32', shape: [8], data_offsets: [32, 60] } })), /tensor b has shape \[8\] of F32 \(32 bytes\) but its data_offsets span 28 bytes: the header lies about the offsets/);
  throwsSae(() => openSafetensors(src({ ...ok, b: { dtype: 'F32', shape: [8], data_offsets: [16, 48] } })), /tensors a and b overlap/);
  throwsSae(() => openSafetensors(src(ok, undefined, 8)), /the last 8 bytes belong to no tensor/);
  throwsSae(() => openSafetensors(src({ b: ok.b })), /bytes 0\.\.32 of the data section belong to no tensor/);
  // An absurd shape is refused from the header alone: nothing is allocated.
  throwsSae(() => openSafetensors(src({ a: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 4e12] } })), /ends at byte 4000000000000 of the data section, which has only 64 bytes/);
  throwsSae(() => openSafetensors(src({ a: { dtype: 'F32', shape: [-1, 4], data_offsets: [0, 64] } })), /invalid shape \[-1,4\]/);
  throwsSae(() => openSafetensors(src({ a: { dtype: 'F33', shape: [16], data_offsets: [0, 64] } })), /unknown dtype "F33"/);
  throwsSae(() => openSafetensors(src({ a: { dtype: 'F32', shape: [16], data_offsets: [64, 0] } })), /invalid data_offsets \[64,0\]/);
  throwsSae(() => openSafetensors(src(null, '{"a": {"dtype": "F32", ')), /the header is not valid JSON/);
  throwsSae(() => openSafetensors(src(null, '[1, 2, 3]')), /does not start with '\{'/);
  const i32 = openSafetensors(src({ a: { dtype: 'I32', shape: [16], data_offsets: [0, 64] } }));
  throwsSae(() => i32.readFloat32('a'), /tensor a is I32; SAE weights must be F32, F16, BF16 or F64/);
  throwsSae(() => i32.readFloat32('zz'), /has no tensor zz \(it has a\)/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(0, 0xfffffff0, true);
  throwsSae(() => openSafetensors(memorySource(huge, 'h.safetensors')), /declares a 4294967280-byte header \(the format allows 100000000\): not a safetensors file/);
});

test('an .npz that is not one, or is truncated', () => {
  const dir = join(tmp, 'not-npz');
  cpSync(join(FIXTURES, 'gemma-scope-compressed'), dir, { recursive: true });
  writeFileSync(join(dir, 'params.npz'), 'this is not a zip archive at all, just some text\n'.repeat(4));
  throwsSae(() => loadSae(dir), /params\.npz is not a zip archive \(no end-of-central-directory record\); an \.npz file is a zip of \.npy arrays/);
  const bytes = readFileSync(join(GEMMA, 'snapshots', SNAPSHOT, 'layer_1', 'width_128', 'average_l0_20', 'params.npz'));
  assert.equal(readNpzBytes(bytes, 'p.npz').get('W_enc')?.shape.join(','), '32,128');
  throwsSae(() => readNpzBytes(bytes.subarray(0, bytes.length - 30), 'p.npz'), /p\.npz is a truncated zip archive \(its end-of-central-directory record is missing\)/);
  const corrupt = Uint8Array.from(bytes);
  corrupt[200] ^= 0xff; // inside W_enc's data
  throwsSae(() => readNpzBytes(corrupt, 'p.npz'), /CRC mismatch \(the archive is corrupt\)/);
});

test('pickles are refused with the reason and how to convert them', () => {
  for (const p of [join(FIXTURES, 'bad', 'openai-topk.pt'), join(FIXTURES, 'bad', 'legacy.pt'), join(FIXTURES, 'bad', 'pickle-as-safetensors')]) {
    throwsSae(() => loadSae(p), /is a pickled PyTorch file: Token Inspector does not open pickles, because unpickling can run arbitrary code\. Convert it once to safetensors/);
  }
  // A folder with only a .pt file, and a pickle renamed to something else.
  const dir = join(tmp, 'pt-only');
  cpSync(join(FIXTURES, 'bad', 'openai-topk.pt'), join(dir, 'ae.pt'));
  throwsSae(() => loadSae(dir), /ae\.pt is a pickled PyTorch file/);
  cpSync(join(FIXTURES, 'bad', 'legacy.pt'), join(dir, 'weights.dat'));
  throwsSae(() => loadSae(join(dir, 'weights.dat')), /weights\.dat is a pickled PyTorch file/);
});

test('configs that cannot be honoured are refused', () => {
  const dir = copyFixture('saelens-standard');
  const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
  const withCfg = (over: Record<string, unknown>) => writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...cfg, ...over }));
  withCfg({ architecture: 'gated' });
  throwsSae(() => loadSae(dir), /architecture "gated" is not supported \(standard, jumprelu and topk are\)/);
  withCfg({ normalize_activations: 'expected_average_only_in' });
  throwsSae(() => loadSae(dir), /normalize_activations is expected_average_only_in, which scales inputs by a dataset-wide factor this folder does not hold/);
  assert.equal(loadSae(dir, { normScalingFactor: 1.7 }).normScalingFactor, 1.7);
  withCfg({ normalize_activations: 'whiten' });
  throwsSae(() => loadSae(dir), /normalize_activations "whiten" is not one of/);
  withCfg({ architecture: 'topk' });
  throwsSae(() => loadSae(dir), /a topk SAE needs k/);
  withCfg({ d_in: 'x' });
  throwsSae(() => loadSae(dir), /d_in is missing or not a positive integer/);
  writeFileSync(join(dir, 'cfg.json'), '{"d_in": 32,');
  throwsSae(() => loadSae(dir), /cfg\.json is not valid JSON/);
  rmSync(join(dir, 'cfg.json'));
  throwsSae(() => loadSae(dir), /has sae_weights\.safetensors but no cfg\.json/);
  throwsSae(() => loadSae(join(tmp, 'nope')), /does not exist/);
  throwsSae(() => loadSae(join(FIXTURES, 'labels')), /holds no SAE/);
});

test('NaN weights are refused', () => {
  const st = openSafetensors(memorySource(readFileSync(join(FIXTURES, 'saelens-standard', 'sae_weights.safetensors')), 'w'));
  const dir = copyFixture('saelens-standard');
  const bytes = readFileSync(join(dir, 'sae_weights.safetensors'));
  const wEnc = st.tensors.get('W_enc');
  assert.ok(wEnc);
  new DataView(bytes.buffer, bytes.byteOffset).setFloat32(wEnc.beginByte + 4 * 10, NaN, true);
  writeFileSync(join(dir, 'sae_weights.safetensors'), bytes);
  throwsSae(() => loadSae(dir), /W_enc holds a NaN or infinite value \(element 10\)/);
});

// ---------------------------------------------------------------------------------------------- arrays

test('F16 and BF16 convert exactly, special values included', () => {
  const out = new Float32Array(6);
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x7e00, 0x3555]).buffer);
  convertToFloat32(f16, 'F16', 6, out);
  assert.deepEqual([...out].slice(0, 4), [1, -2, 2 ** -24, Infinity]);
  assert.ok(Number.isNaN(out[4]));
  assert.equal(out[5], Math.fround(0.333251953125));
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x7f80, 0x0001, 0x3eaa, 0x8000]).buffer);
  convertToFloat32(bf16, 'BF16', 6, out);
  assert.deepEqual([...out], [1, -3, Infinity, 2 ** -133, 0.33203125, -0]);
});

test('.npy: C and Fortran order, little and big endian, f2/f4/f8; round trip', () => {
  const npy = (descr: string, fortran: boolean, shape: number[], body: Uint8Array) => {
    let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const out = new Uint8Array(10 + header.length + body.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, header.length, true);
    out.set(new TextEncoder().encode(header), 10);
    out.set(body, 10 + header.length);
    return memorySource(out, 'a.npy');
  };
  const values = [1, 2, 3, 4, 5, 6];
  const f8be = new Uint8Array(48);
  values.forEach((v, i) => new DataView(f8be.buffer).setFloat64(8 * i, v, false));
  // Fortran order [2, 3]: column-major storage of [[1, 3, 5], [2, 4, 6]].
  const a = readNpy(npy('>f8', true, [2, 3], f8be));
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [1, 3, 5, 2, 4, 6]);
  assert.equal(a.storedDtype, 'F64');
  const f2 = new Uint8Array(new Uint16Array([0x3c00, 0x4000]).buffer);
  assert.deepEqual([...readNpy(npy('<f2', false, [2], f2)).data], [1, 2]);
  throwsSae(() => readNpy(npy('<i4', false, [2], new Uint8Array(8))), /holds <i4 data; only float16, float32 and float64 arrays are read/);
  throwsSae(() => readNpy(npy('<f4', false, [4], new Uint8Array(8))), /16 bytes\) but only 8 bytes of data \(truncated\?\)/);
  throwsSae(() => readNpy(memorySource(new TextEncoder().encode('PK not npy at all'), 'x.npy')), /is not a \.npy array/);
  const data = Float32Array.from([0.5, -1.25, 3, 7, 9, 11]);
  const round = readNpy(memorySource(encodeNpy(data, [3, 2]), 'r.npy'));
  assert.deepEqual(round.shape, [3, 2]);
  assert.deepEqual([...round.data], [...data]);
});
