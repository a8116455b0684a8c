// @ts-check
'use strict';
// Reads a .vsix (a zip file) without an unzip tool: its file list from the central directory, and its files
// (stored or deflated, as vsce writes them) into a folder.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

/** @typedef {{ name: string, method: number, compressedSize: number, size: number, localHeader: number }} ZipEntry */

/** The zip's entries (no zip64: a .vsix is under 50 MB). @param {string} file @returns {ZipEntry[]} */
function listVsix(file) {
  const buf = fs.readFileSync(file);
  // The end-of-central-directory record is within the last 64 KB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${k}`);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    entries.push({
      name: buf.toString('utf8', at + 46, at + 46 + nameLength),
      method: buf.readUInt16LE(at + 10),
      compressedSize: buf.readUInt32LE(at + 20),
      size: buf.readUInt32LE(at + 24),
      localHeader: buf.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The bytes of one entry, from the zip's bytes. @param {Buffer} buf @param {string} file @param {ZipEntry} e */
function entryData(buf, file, e) {
  const nameLength = buf.readUInt16LE(e.localHeader + 26);
  const extraLength = buf.readUInt16LE(e.localHeader + 28);
  const start = e.localHeader + 30 + nameLength + extraLength;
  const raw = buf.subarray(start, start + e.compressedSize);
  const data = e.method === 0 ? raw : e.method === 8 ? zlib.inflateRawSync(raw) : null;
  if (!data || data.length !== e.size) throw new Error(`${file}: cannot read ${e.name} (method ${e.method})`);
  return data;
}

/** One file of the .vsix as text (e.g. 'extension/package.json'). @param {string} file @param {string} name */
function readVsixText(file, name) {
  const e = listVsix(file).find((x) => x.name === name);
  if (!e) throw new Error(`${file} has no ${name}`);
  return entryData(fs.readFileSync(file), file, e).toString('utf8');
}

/** Extracts every file of the .vsix into `dir`; returns dir. Entry names are checked to stay inside it. @param {string} file @param {string} dir */
function extractVsix(file, dir) {
  const buf = fs.readFileSync(file);
  const root = path.resolve(dir);
  for (const e of listVsix(file)) {
    if (e.name.endsWith('/')) continue;
    const to = path.resolve(root, e.name);
    if (!to.startsWith(root + path.sep)) throw new Error(`${file}: entry ${e.name} points outside the folder`);
    const data = entryData(buf, file, e);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, data, { mode: /\.(node|so(\.\d+)*|dylib|dll)$/.test(e.name) ? 0o755 : 0o644 });
  }
  return dir;
}

module.exports = { listVsix, readVsixText, extractVsix };
