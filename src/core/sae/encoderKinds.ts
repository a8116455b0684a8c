/** The encoders' names, apart from the encoders so that message validators can import them cheaply. */
export type EncoderKind = 'relu' | 'jumprelu' | 'topk' | 'feature-choice' | 'mutual-choice';
export const ENCODER_KINDS: readonly EncoderKind[] = ['relu', 'jumprelu', 'topk', 'feature-choice', 'mutual-choice'];
