import { statSync } from 'node:fs';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import { countInBatches, fileBatches, type FileOutcome, type ListedFile } from '../../core/analysis/fileBatches';
import { DEFAULT_MAX_FILE_BYTES, countFile, listFolderFiles, localBatchCounter, type FolderTotalsOptions, type SkippedFile } from '../../core/analysis/folderTotals';
import { nodeFolderFs, type FolderFs } from '../../core/files/folderFs';
import { findParentIgnoreFiles } from '../../core/files/parentIgnoreFiles';
import { findModel, MODELS, type ModelEntry } from '../../core/models/catalog';
import { chatMethodFor, chatTemplateForTokenizer, countChatTokens, type ChatMethod } from '../../core/models/chat';
import { countFigures, formatShare, formatUsd } from '../../core/models/countFigures';
import { BinaryFileError, decodeFileBytes } from '../../core/text/readFile';
import { loadTokenizer, type LoadedTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError } from '../args';
import { TOKENIZER_ID } from '../pathOrId';
import { countPool, defaultPoolSize, POOL_MIN_BYTES, type CountPool } from '../../worker/countPool';
import { LOAD_OPTIONS, out, type CliCommand } from '../io';
import { BoundedReadError } from '../../core/files/boundedRead';

const GLOB_CHARS = /[*?[{]/;

/** One command-line PATH: a file, a folder, or a folder plus a glob for the files under it. */
interface Target {
  readonly arg: string;
  readonly kind: 'file' | 'folder';
  /** The folder walked (kind 'folder') or the file's folder. */
  readonly dir: string;
  /** The file's name (kind 'file') or the glob under dir. */
  readonly name?: string;
  readonly include?: string;
}

function resolveTarget(arg: string): Target {
  try {
    const st = statSync(arg);
    if (st.isDirectory()) return { arg, kind: 'folder', dir: arg };
    return { arg, kind: 'file', dir: dirname(arg), name: basename(arg) };
  } catch {
    // Not a path on disk: a glob (quoted, so the shell left it alone)?
  }
  const parts = arg.replace(/\\/g, '/').split('/');
  const first = parts.findIndex((p) => GLOB_CHARS.test(p));
  if (first < 0) throw new UsageError(`${arg}: no such file or folder`);
  const dir = parts.slice(0, first).join('/') || '.';
  try {
    if (!statSync(dir).isDirectory()) throw new Error();
  } catch {
    throw new UsageError(`${arg}: ${dir} is not a folder`);
  }
  return { arg, kind: 'folder', dir, include: parts.slice(first).join('/') };
}

function displayPath(t: Target, rel: string): string {
  if (t.kind === 'file') return t.arg;
  const base = t.dir.replace(/[\\/]+$/, '');
  return base === '.' || base === '' ? rel : `${base}/${rel}`;
}

interface Row {
  readonly path: string;
  readonly bytes: number;
  readonly tokens: number;
  readonly contentTokens: number | null;
  readonly templateTokens: number | null;
}

const figures = countFigures;
const usd = formatUsd;
const percent = formatShare;

function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

function parsePrice(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--price needs USD per million input tokens (a number >= 0), got "${v}"`);
  return n;
}

function parseJobs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs needs a whole number of workers from 1 to 64, got "${v}"`);
  return n;
}

function parseMaxFileMb(v: string | undefined): number {
  if (v === undefined) return DEFAULT_MAX_FILE_BYTES;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--max-file-mb needs a positive number, got "${v}"`);
  return Math.round(n * 1024 * 1024);
}

/** A file that could not be read (permissions, I/O, not a regular file, over the cap), not a bug. */
function isReadError(e: unknown): boolean {
  return e instanceof BoundedReadError || (e instanceof Error && 'syscall' in e);
}

export const countCommand: CliCommand = {
  name: 'count',
  usage:
    'count PATH... (--model NAME | --tokenizer ID|PATH) [--as-chat [--system] [--no-generation-prompt]] [--exclude GLOB,...] [--no-gitignore] [--price USD] [--max-file-mb N] [--jobs N] [--json]   tokens per file and in total, with the share of the model\'s context window and the input cost; folders respect .gitignore and skip binary files; --as-chat counts each file as one chat message (template tokens included); large folders are counted by a pool of workers, one per core (--jobs N sets how many; 1 counts in this thread)',
  async run(argv) {
    const args = parseArgs(argv, ['model', 'tokenizer', 'exclude', 'price', 'max-file-mb', 'jobs'], ['json', 'as-chat', 'system', 'no-gitignore', 'no-generation-prompt'], {
      positionals: Infinity,
      pathOrId: { tokenizer: TOKENIZER_ID },
    });
    if (!args.positionals.length) throw new UsageError('count needs a PATH (files, folders or a quoted glob)');
    const modelName = args.options.get('model');
    const tokenizerSpec = args.options.get('tokenizer');
    if (modelName !== undefined && tokenizerSpec !== undefined) throw new UsageError('count takes --model or --tokenizer, not both');
    if (modelName === undefined && tokenizerSpec === undefined) {
      throw new UsageError(`count needs --model NAME (one of ${MODELS.map((m) => m.id).join(', ')}) or --tokenizer ID`);
    }
    const asChat = args.flags.has('as-chat');
    if (!asChat && (args.flags.has('system') || args.flags.has('no-generation-prompt'))) {
      throw new UsageError('--system and --no-generation-prompt only apply with --as-chat');
    }
    let model: ModelEntry | undefined;
    if (modelName !== undefined) {
      model = findModel(modelName);
      if (!model) throw new UsageError(`unknown model "${modelName}"; known models: ${MODELS.map((m) => m.id).join(', ')}`);
      const price = parsePrice(args.options.get('price'));
      if (price !== undefined) model = { ...model, inputPricePerMTok: price, priceSource: '--price', priceDate: new Date().toISOString().slice(0, 10) };
    } else if (args.options.has('price')) throw new UsageError('--price needs --model (a tokenizer has no context window or price)');
    const maxFileBytes = parseMaxFileMb(args.options.get('max-file-mb'));
    const jobs = parseJobs(args.options.get('jobs'));
    const targets = args.positionals.map(resolveTarget);

    let method: ChatMethod | undefined;
    if (asChat) {
      if (model) {
        if (model.chatTemplate === 'none') throw new UsageError(`no chat template ships for ${model.name}; count it without --as-chat`);
        method = chatMethodFor(model, { loadOptions: LOAD_OPTIONS });
      } else {
        const template = chatTemplateForTokenizer(tokenizerSpec as string, LOAD_OPTIONS);
        if (!template) throw new UsageError(`the ${tokenizerSpec} tokenizer has no chat template; use --model NAME or count without --as-chat`);
        method = { kind: 'hf', template };
      }
    }
    const loaded: LoadedTokenizer = await loadTokenizer(model ? model.tokenizer : (tokenizerSpec as string), LOAD_OPTIONS);
    const role = args.flags.has('system') ? 'system' : 'user';
    const chatOptions = { addGenerationPrompt: !args.flags.has('no-generation-prompt') };
    const exclude = (args.options.get('exclude') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);

    const rows: Row[] = [];
    const skipped: SkippedFile[] = [];
    let ignored = 0;
    let ignoredFolders = 0;

    /** `inFolder`: a file found by walking a folder, skipped and reported when unreadable (as the core does); a file named on the command line is an error instead. */
    const countOne = async (fs: FolderFs, rel: string, size: number, shown: string, inFolder: boolean): Promise<void> => {
      try {
        if (method) {
          if (size > maxFileBytes) {
            skipped.push({ path: shown, reason: 'other', message: `over ${Math.round(maxFileBytes / 2 ** 20)} MB: too large to count as one chat message` });
            return;
          }
          const bytes = await fs.readFile(rel);
          const text = decodeFileBytes(bytes, shown).text;
          const c = countChatTokens(loaded.tokenizer, method, [{ role, content: text }], chatOptions);
          rows.push({ path: shown, bytes: bytes.length, tokens: c.tokens, contentTokens: c.contentTokens, templateTokens: c.templateTokens });
        } else {
          const options: FolderTotalsOptions = { tokenizers: [loaded], maxFileBytes };
          const r = await countFile(fs, rel, size, options);
          rows.push({ path: shown, bytes: r.bytes, tokens: r.tokens[loaded.id], contentTokens: null, templateTokens: null });
        }
      } catch (e) {
        if (e instanceof BinaryFileError) skipped.push({ path: shown, reason: 'binary' });
        else if (inFolder && isReadError(e)) skipped.push({ path: shown, reason: 'unreadable', message: (e as Error).message });
        else throw e;
      }
    };

    // A folder's files, in a pool of workers when there is enough to count (the same outcomes either way).
    let pool: CountPool | undefined;
    const spec = model ? model.tokenizer : (tokenizerSpec as string);
    const countListed = async (fs: FolderFs, dir: string, files: readonly ListedFile[]): Promise<FileOutcome[]> => {
      const batches = fileBatches(files);
      const workers = jobs ?? defaultPoolSize(batches.length);
      const bytes = files.reduce((s, f) => s + f.size, 0);
      if (workers <= 1 || (jobs === undefined && bytes < POOL_MIN_BYTES)) {
        return countInBatches(batches, localBatchCounter(fs, { tokenizers: [loaded], maxFileBytes }), 1);
      }
      pool ??= countPool(workers, (line) => process.stderr.write(`token-inspector: ${line}\n`));
      // The workers key their counts by the ref's id: the loaded tokenizer's id, loaded from the same spec.
      const counter = pool.counterFor(resolvePath(dir), [{ id: loaded.id, ...(spec === loaded.id ? {} : { path: resolvePath(spec) }) }], { maxFileBytes });
      return countInBatches(batches, counter, pool.size);
    };

    try {
      for (const t of targets) {
        if (t.kind === 'file') {
          const fs = nodeFolderFs(t.dir);
          await countOne(fs, t.name as string, statSync(t.arg).size, t.arg, false);
          continue;
        }
        const fs = nodeFolderFs(t.dir);
        const gitignore = !args.flags.has('no-gitignore');
        const listing = await listFolderFiles(fs, {
          gitignore,
          parentIgnoreFiles: gitignore ? await findParentIgnoreFiles(t.dir) : [],
          exclude,
          ...(t.include !== undefined ? { include: [t.include] } : {}),
        });
        ignored += listing.ignored;
        ignoredFolders += listing.ignoredFolders;
        for (const s of listing.skipped) skipped.push({ ...s, path: displayPath(t, s.path) });
        if (method) {
          for (const f of listing.files) await countOne(fs, f.path, f.size, displayPath(t, f.path), true);
          continue;
        }
        for (const o of await countListed(fs, t.dir, listing.files)) {
          if ('skipped' in o) skipped.push({ ...o.skipped, path: displayPath(t, o.skipped.path) });
          else rows.push({ path: displayPath(t, o.counted.path), bytes: o.counted.bytes, tokens: o.counted.tokens[loaded.id], contentTokens: null, templateTokens: null });
        }
      }
    } finally {
      await pool?.close();
    }

    const totalTokens = rows.reduce((s, r) => s + r.tokens, 0);
    const totalTemplate = asChat ? rows.reduce((s, r) => s + (r.templateTokens ?? 0), 0) : null;
    const totalContent = asChat ? rows.reduce((s, r) => s + (r.contentTokens ?? 0), 0) : null;
    const binary = skipped.filter((s) => s.reason === 'binary').length;
    const total = {
      files: rows.length,
      bytes: rows.reduce((s, r) => s + r.bytes, 0),
      tokens: totalTokens,
      contentTokens: totalContent,
      templateTokens: totalTemplate,
      ...figures(totalTokens, model),
      skippedBinary: binary,
      skippedIgnored: ignored,
      skippedIgnoredFolders: ignoredFolders,
      skippedOther: skipped.length - binary,
    };

    if (args.flags.has('json')) {
      out(
        JSON.stringify({
          model: model
            ? {
                id: model.id,
                name: model.name,
                tokenizer: model.tokenizer,
                contextWindow: model.contextWindow,
                ...(model.maxInputTokens !== undefined ? { maxInputTokens: model.maxInputTokens } : {}),
                inputPricePerMTok: model.inputPricePerMTok,
                priceSource: model.priceSource,
                priceDate: model.priceDate,
              }
            : null,
          tokenizer: loaded.id,
          asChat: asChat ? { role, method: method?.kind ?? null, addGenerationPrompt: chatOptions.addGenerationPrompt } : null,
          files: rows.map((r) => ({ ...r, ...figures(r.tokens, model) })),
          total,
          skipped,
        }),
      );
      return;
    }

    const price = model
      ? model.inputPricePerMTok === null
        ? `${model.priceSource}; --price USD sets one`
        : `${usd(model.inputPricePerMTok)} per 1M input tokens (${model.priceSource}, ${model.priceDate})`
      : '';
    out(
      model
        ? `${model.name}: tokenizer ${loaded.id}, context window ${grouped(model.contextWindow)} tokens, ${price}`
        : `tokenizer ${loaded.name} (no model: no context window or price)`,
    );
    if (asChat) out(`each file counted as one ${role} message (${method?.kind === 'openai' ? "OpenAI's per-message overhead" : 'chat template'})`);
    const totalLabel = `TOTAL (${rows.length} file${rows.length === 1 ? '' : 's'})`;
    const width = Math.min(60, Math.max(totalLabel.length, ...rows.map((r) => r.path.length))) + 2;
    out('FILE'.padEnd(width) + 'TOKENS'.padStart(12) + (asChat ? 'TEMPLATE'.padStart(10) : '') + (model ? 'CONTEXT'.padStart(10) + 'COST'.padStart(12) : ''));
    const line = (label: string, tokens: number, template: number | null): string => {
      const f = figures(tokens, model);
      const shown = label.length > width - 2 ? '…' + label.slice(label.length - width + 3) : label;
      return (
        shown.padEnd(width) +
        grouped(tokens).padStart(12) +
        (asChat ? (template === null ? '-' : grouped(template)).padStart(10) : '') +
        (model ? percent(f.fraction).padStart(10) + usd(f.inputCost).padStart(12) : '')
      );
    };
    for (const r of rows) out(line(r.path, r.tokens, r.templateTokens));
    out(line(totalLabel, totalTokens, totalTemplate));
    const notes: string[] = [];
    if (binary) notes.push(`${binary} binary`);
    if (ignored) notes.push(`${ignored} ignored`);
    if (ignoredFolders) notes.push(`${ignoredFolders} ignored folder${ignoredFolders === 1 ? '' : 's'} not walked`);
    if (skipped.length - binary) notes.push(`${skipped.length - binary} other (${skipped.filter((s) => s.reason !== 'binary').map((s) => s.path).slice(0, 3).join(', ')})`);
    if (notes.length) out(`skipped: ${notes.join(', ')}`);
  },
};
