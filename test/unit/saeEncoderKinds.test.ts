/**
 * The encoder table against what reads it without importing it: package.json's `tokenInspector.saeEncoder`
 * (VS Code reads the manifest as it is, so it is checked here rather than generated at build), the torch
 * references every kind must have, and each kind's declared budgets against what its plan does.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encoderChoiceLabel, ENCODER_KINDS, ENCODERS, encoderSettingDescription, isEncoderKind, OWN_ENCODER } from '../../src/core/sae/encoderKinds';
import { planEncoding } from '../../src/core/sae/encode';

const ROOT = join(__dirname, '..', '..');

interface SettingSchema {
  readonly enum?: string[];
  readonly enumDescriptions?: string[];
}

test("package.json's saeEncoder setting lists the table's kinds, in order, with their descriptions", () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, SettingSchema> } | { properties: Record<string, SettingSchema> }[] } };
  const sections = Array.isArray(manifest.contributes.configuration) ? manifest.contributes.configuration : [manifest.contributes.configuration];
  const setting = sections.map((s) => s.properties['tokenInspector.saeEncoder']).find((s) => s !== undefined);
  assert.ok(setting, 'package.json has no tokenInspector.saeEncoder setting');
  const want = { enum: ['', ...ENCODER_KINDS], enumDescriptions: [OWN_ENCODER.help, ...ENCODERS.map(encoderSettingDescription)] };
  assert.deepEqual(
    { enum: setting.enum, enumDescriptions: setting.enumDescriptions },
    want,
    `package.json's tokenInspector.saeEncoder differs from src/core/sae/encoderKinds.ts; its enum and enumDescriptions should be:\n${JSON.stringify(want, null, 2)}`,
  );
});

test('every kind has a distinct id, a label, help and a torch reference case among the SAE fixtures', () => {
  assert.equal(new Set(ENCODER_KINDS).size, ENCODERS.length);
  const referenced = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name === 'expected.json') for (const c of (JSON.parse(readFileSync(path, 'utf8')) as { cases: { encoder: string }[] }).cases) referenced.add(c.encoder);
    }
  };
  walk(join(ROOT, 'test', 'fixtures', 'sae'));
  for (const e of ENCODERS) {
    assert.match(e.id, /^[a-z][a-z-]*$/, `${e.id}: an id fit for settings and --encoder`);
    assert.ok(e.label.trim() && e.help.trim(), `${e.id}: label and help`);
    assert.ok(referenced.has(e.id), `${e.id} has no case in test/fixtures/sae/**/expected.json: add it to test/fixtures/make_sae_fixtures.py and regenerate`);
  }
  // The chooser shows the budget beside the name; the first entry leaves the choice to the SAE.
  assert.equal(encoderChoiceLabel(ENCODERS.find((e) => e.id === 'topk') ?? ENCODERS[0]), 'TopK (k per token)');
  assert.ok(!isEncoderKind('') && !isEncoderKind('ReLU') && !isEncoderKind(undefined));
});

test("each kind's declared budgets are the ones its plan reads", () => {
  // An SAE with thresholds and no k of its own, so that only the options given can supply budgets.
  const sae = { architecture: 'standard', dSae: 64, k: undefined, threshold: new Float32Array(64), path: 'plan' } as const;
  const n = 10;
  for (const e of ENCODERS) {
    const readsK = e.budgets.k !== undefined;
    const readsM = e.budgets.m !== undefined;
    assert.equal(planEncoding(sae, n, { encoder: e.id, k: 3 }).k, readsK ? 3 : undefined, `${e.id}: k`);
    assert.equal(planEncoding(sae, n, { encoder: e.id, k: 3, m: 2 }).m, readsM ? 2 : undefined, `${e.id}: m`);
    // A kind that reads a budget and is given none (the SAE has no k) refuses, naming what it needs.
    if (readsK || readsM) assert.throws(() => planEncoding(sae, n, { encoder: e.id }), new RegExp(`the ${e.id} encoder needs ${readsK ? 'k' : 'm'}`));
    else assert.deepEqual(planEncoding(sae, n, { encoder: e.id }), { encoder: e.id });
  }
});
