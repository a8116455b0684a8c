/**
 * The SAE encoder kinds: one table, read by the encoder (encode.ts), the message validators, the CLI, the
 * extension's settings, the panel's chooser and the test that holds package.json's `tokenInspector.saeEncoder`
 * to it. Each kind is one module in encoders/ (ARCHITECTURE.md: adding an encoder kind). Importing this is
 * cheap: the kinds' modules hold only their selection loops and heaps, no kernel or loader.
 */
import type { EncoderDefinition } from './encoders/definition';
import { featureChoice } from './encoders/featureChoice';
import { jumprelu } from './encoders/jumprelu';
import { mutualChoice } from './encoders/mutualChoice';
import { relu } from './encoders/relu';
import { topk } from './encoders/topk';

/** In the order the chooser, the setting's enum and the CLI list them. */
export const ENCODERS = [relu, jumprelu, topk, featureChoice, mutualChoice] as const;

export type EncoderKind = (typeof ENCODERS)[number]['id'];
export const ENCODER_KINDS: readonly EncoderKind[] = ENCODERS.map((e) => e.id);

/** The choice that leaves the encoder to the SAE (an empty setting, no --encoder, the chooser's first entry). */
export const OWN_ENCODER = { label: "SAE's own", help: "The SAE's own activation (standard → ReLU, JumpReLU, TopK)" } as const;

export function isEncoderKind(x: unknown): x is EncoderKind {
  return typeof x === 'string' && (ENCODER_KINDS as readonly string[]).includes(x);
}

/** The kind's definition (throws for an id that is not one; check with isEncoderKind first). */
export function encoderDefinition(kind: EncoderKind): EncoderDefinition<EncoderKind> {
  const d = ENCODERS.find((e) => e.id === kind);
  if (!d) throw new Error(`unknown encoder ${JSON.stringify(kind)}`);
  return d;
}

/** The kind's name with its budget, as the panel's chooser shows it ("TopK (k per token)"). */
export function encoderChoiceLabel(d: Pick<EncoderDefinition, 'label' | 'budgetHint'>): string {
  return d.budgetHint ? `${d.label} (${d.budgetHint})` : d.label;
}

/** The kind's line in the setting's enumDescriptions ("TopK: the k strongest features of each token"). */
export function encoderSettingDescription(d: Pick<EncoderDefinition, 'label' | 'help'>): string {
  return `${d.label}: ${d.help}`;
}
