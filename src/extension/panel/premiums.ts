/**
 * The panel's Language premiums tab, host side: Petrov et al.'s token premiums on the UDHR translations for
 * the chosen tokenizers, computed in the workspace jobs worker (with progress) and cached on disk, with the followed
 * document's dominant script. The webview side is webview/panel/premiums.ts.
 */
import { detectScript } from '../../core/premiums/script';
import type { Ctx } from '../context';
import { WorkerCancelledError } from '../workerClient';
import { panelTab, type FromWebview, type PanelHost, type PanelTab } from './tab';

/** The document's script is detected on its start (enough to know its writing system). */
const SCRIPT_SAMPLE_UTF16 = 200_000;

class PremiumsTab implements PanelTab<'premiums'> {
  constructor(
    private readonly ctx: Pick<Ctx, 'settings' | 'jobs' | 'log' | 'storage'>,
    private readonly host: PanelHost<'premiums'>,
  ) {}

  async handle({ tokenizers: ids }: FromWebview<'premiums'>): Promise<void> {
    const { settings } = this.ctx;
    const refs = settings.resolveTokenizers(ids);
    const docText = this.host.editor()?.document.getText() ?? '';
    const documentScript = docText.trim() ? detectScript(docText.slice(0, SCRIPT_SAMPLE_UTF16)).script : null;
    this.host.post({ type: 'premiums', rows: null, documentScript, progress: 0 });
    try {
      const rows = await this.ctx.jobs.request(
        'premiums',
        { tokenizers: refs, cacheDir: this.ctx.storage.premiumsCacheDir },
        {
          label: `computing language premiums for ${refs.map((r) => r.id).join(', ')}`,
          onProgress: (p) => this.host.post({ type: 'premiums', rows: null, documentScript, progress: p.total ? p.done / p.total : 0 }),
        },
      );
      this.host.post({ type: 'premiums', rows, documentScript });
      this.ctx.log(`premiums ${rows.length} rows`);
    } catch (e) {
      if (!(e instanceof WorkerCancelledError)) this.host.post({ type: 'premiums', rows: null, documentScript, message: (e as Error).message });
    }
  }
}

export const premiumsTab = panelTab({
  handles: ['premiums'],
  sends: ['premiums'],
  create: (ctx, host) => new PremiumsTab(ctx, host),
});
