/**
 * The panel's Scratch tab, host side: text pasted into the panel tokenized, or pasted token ids decoded, under
 * a tokenizer the user picks there (the editor's by default), in the workspace jobs worker. The webview side is
 * webview/panel/scratch.ts.
 */
import { parseTokenIds } from '../../core/analysis/tokenIds';
import type { Ctx } from '../context';
import { panelTab, type FromWebview, type PanelHost, type PanelTab } from './tab';

class ScratchTab implements PanelTab<'scratch'> {
  /** Answers only the latest input: an older request that finishes later is dropped. */
  private generation = 0;

  constructor(
    private readonly ctx: Pick<Ctx, 'settings' | 'jobs' | 'log'>,
    private readonly host: PanelHost<'scratch'>,
  ) {}

  async handle({ input, tokenizer: id, as }: FromWebview<'scratch'>): Promise<void> {
    const generation = ++this.generation;
    const ref = this.ctx.settings.resolveTokenizer(id);
    const post = (m: Parameters<PanelHost<'scratch'>['post']>[0]): void => {
      if (generation === this.generation) this.host.post(m);
    };
    if (!ref) return post({ type: 'scratch', result: null, message: `Unknown tokenizer "${id}": choose one from the list.` });
    const name = this.ctx.settings.tokenizerChoices().find((t) => t.id === id)?.name ?? id;
    const ids = as === 'text' ? null : parseTokenIds(input);
    try {
      if (as === 'ids' && ids === null) return post({ type: 'scratch', result: null, message: 'Token ids are whole numbers separated by commas or spaces, e.g. [9906, 11, 1917].' });
      if (ids !== null) {
        const decoded = await this.ctx.jobs.request('decodeIds', { tokenizer: ref, ids }, { label: `decoding ${ids.length} pasted token ids with ${id}` });
        return post({ type: 'scratch', result: { kind: 'ids', tokenizer: { id, name }, decoded } });
      }
      const { streams } = await this.ctx.jobs.request('tokenStreams', { text: input, tokenizers: [ref], allowSpecial: false }, { label: `tokenizing the panel's scratch text with ${id}` });
      post({ type: 'scratch', result: { kind: 'text', tokenizer: { id, name }, text: input, stream: streams[0].stream } });
    } catch (e) {
      post({ type: 'scratch', result: null, message: (e as Error).message });
    }
  }
}

export const scratchTab = panelTab({
  handles: ['scratch'],
  sends: ['scratch'],
  create: (ctx, host) => new ScratchTab(ctx, host),
});
