/**
 * The extension's tables against its manifest (package.json), without VS Code: the command table's ids are
 * the contributed commands, the settings table knows every contributed setting and reads its default as
 * package.json states it, a bad configured value falls back to that default, a change refreshes only what the
 * setting shows, and the panel's tab list is what the webview protocol accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findModel, MODELS } from '../../src/core/models/catalog';
import { findBundled } from '../../src/core/tokenizers/catalog';
import { COMMAND_IDS, WEBVIEW_RUN_COMMANDS } from '../../src/extension/commandIds';
import { DEFAULTS, isScopedByDocument, readSetting, REFRESH_TARGETS, refreshesFor, SETTING_KEYS, SETTINGS, WORKSPACE_NGRAM } from '../../src/extension/settingsTable';
import { PANEL_TAB_IDS, PANEL_TABS } from '../../src/panelTabs';
import { isWebviewToHost } from '../../src/protocol';

interface Manifest {
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
    configuration: { properties: Record<string, { default?: unknown; scope?: string }> };
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
const properties = manifest.contributes.configuration.properties;
const manifestKeys = Object.keys(properties).map((k) => k.replace(/^tokenInspector\./, ''));

test("the command table's ids are exactly package.json's contributed commands, and every menu names one of them", () => {
  const contributed = manifest.contributes.commands.map((c) => c.command);
  assert.equal(new Set(contributed).size, contributed.length, 'no command is contributed twice');
  assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length, 'no command is in the table twice');
  assert.deepEqual([...COMMAND_IDS].sort(), [...contributed].sort());
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok((COMMAND_IDS as readonly string[]).includes(item.command), `menu ${menu} names ${item.command}, which the table lacks`);
  }
  for (const id of Object.values(WEBVIEW_RUN_COMMANDS)) assert.ok(contributed.includes(id), `a webview button runs ${id}`);
});

test('the settings table knows every tokenInspector.* setting of package.json, and nothing else', () => {
  assert.ok(Object.keys(properties).every((k) => k.startsWith('tokenInspector.')), 'every contributed setting is in the section');
  assert.deepEqual([...SETTING_KEYS].sort(), [...manifestKeys].sort());
});

test("every default is package.json's, read as it is stated there (no second copy in code)", () => {
  for (const key of SETTING_KEYS) {
    const declared = properties[`tokenInspector.${key}`].default;
    assert.deepEqual(readSetting(key, declared), declared, `${key}: the reader takes package.json's default unchanged`);
    assert.deepEqual(DEFAULTS[key], declared, `${key}: the settings object's default`);
  }
});

test('the defaults name things that exist: bundled tokenizers, a catalog model, the built-in probability model', () => {
  assert.ok(findBundled(DEFAULTS.tokenizer), DEFAULTS.tokenizer);
  assert.ok(findBundled(DEFAULTS.referenceTokenizer), DEFAULTS.referenceTokenizer);
  for (const id of DEFAULTS.compareTokenizers) assert.ok(findBundled(id), `compareTokenizers default ${id}`);
  assert.ok(findModel(DEFAULTS.model, MODELS), DEFAULTS.model);
  assert.equal(DEFAULTS.probabilityModel, WORKSPACE_NGRAM);
});

test('a configured value of the wrong shape is not used (the default applies); usable ones are read as the code uses them', () => {
  // Wrong types and shapes: undefined means "use the default".
  assert.equal(readSetting('showBoundaries', 'no'), undefined);
  assert.equal(readSetting('tokenizer', 42), undefined);
  assert.equal(readSetting('tokenizer', '   '), undefined);
  assert.equal(readSetting('compareTokenizers', []), undefined, 'an empty compare list is the default list');
  assert.equal(readSetting('compareTokenizers', 'gpt2'), undefined);
  assert.equal(readSetting('probabilityColors', 'loudness'), undefined);
  assert.equal(readSetting('saeEncoder', 'softmax'), undefined);
  assert.equal(readSetting('saeK', -1), undefined);
  assert.equal(readSetting('saeK', 2.5), undefined);
  assert.equal(readSetting('prices', [1, 2]), undefined);
  assert.equal(readSetting('remoteEndpoint', { url: 'file:///etc/passwd' }), undefined, 'only http(s) endpoints');
  assert.equal(readSetting('remoteEndpoint', 'http://localhost:8000'), undefined);
  assert.equal(readSetting('maxDecoratedColumns', Number.NaN), undefined);
  // Usable values, normalized as the code needs them.
  assert.equal(readSetting('maxDecoratedColumns', 10), 200, "below package.json's minimum counts as the minimum");
  assert.equal(readSetting('tokenizer', ' llama3 '), 'llama3');
  assert.equal(readSetting('probabilityModel', '  Xenova/gpt2 '), 'Xenova/gpt2');
  assert.equal(readSetting('saeEncoder', 'mutual-choice'), 'mutual-choice');
  assert.deepEqual(readSetting('compareTokenizers', ['gpt2', 7, 'llama3']), ['gpt2', 'llama3']);
  assert.deepEqual(readSetting('customTokenizers', [{ name: 'mine', path: '/t/tokenizer.json', extra: 1 }, { name: 'no path' }, null, 'x']), [{ name: 'mine', path: '/t/tokenizer.json' }]);
  assert.deepEqual(readSetting('remoteEndpoint', { url: 'http://127.0.0.1:8000/v1/completions', topK: 50, model: 3 }), { url: 'http://127.0.0.1:8000/v1/completions', model: undefined, topK: 20 });
});

test('a setting change refreshes only what shows the setting', () => {
  assert.deepEqual(refreshesFor(['compareTokenizers']), ['panel', 'sidebar'], 'the compare list does not re-tokenize');
  assert.deepEqual(refreshesFor(['referenceTokenizer']), ['panel', 'sidebar']);
  assert.deepEqual(refreshesFor(['showBoundaries']), ['decorations']);
  assert.deepEqual(refreshesFor(['probabilityColors', 'maxDecoratedColumns']), ['decorations']);
  assert.deepEqual(refreshesFor(['model', 'prices']), ['gauge', 'sidebar'], 'the sidebar shows the models at a glance');
  assert.deepEqual(refreshesFor(['sidebarModels']), ['sidebar']);
  assert.deepEqual(refreshesFor(['sae', 'saeEncoder', 'saeK']), [], 'SAE settings are read at each run');
  // The tokenizer changes the tokens: everything that shows them, tokens first.
  assert.deepEqual(refreshesFor(['tokenizer']), [...REFRESH_TARGETS]);
  assert.equal(REFRESH_TARGETS[0], 'tokenization');
  assert.deepEqual(refreshesFor(['showBoundaries', 'allowSpecialTokens']), ['tokenization', 'probabilities', 'decorations', 'statusBar'], 'in refresh order, each once');
  for (const key of SETTING_KEYS) assert.ok(SETTINGS[key].refreshes.every((t) => REFRESH_TARGETS.includes(t)), key);
});

test('the tokenizer is read per document (language and folder); the others are not', () => {
  for (const key of SETTING_KEYS) {
    const scope = properties[`tokenInspector.${key}`].scope;
    assert.equal(isScopedByDocument(key), scope === 'language-overridable' || scope === 'resource', key);
  }
  assert.equal(isScopedByDocument('tokenizer'), true);
});

test('the panel tab list: unique ids, each one a mode the webview protocol accepts, and no other', () => {
  assert.equal(new Set(PANEL_TAB_IDS).size, PANEL_TABS.length);
  assert.ok(PANEL_TABS.every((t) => t.title.length > 0));
  for (const id of PANEL_TAB_IDS) assert.ok(isWebviewToHost({ type: 'mode', mode: id }), id);
  for (const mode of ['nextbyte', 'settings', '', null, 0]) assert.equal(isWebviewToHost({ type: 'mode', mode }), false, String(mode));
});
