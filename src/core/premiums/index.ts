/** Token premiums on the UDHR parallel corpus: corpus loading, script detection and premium computation. */
export { alignedArticles, computePremiums, forgetPremiums, type PremiumOptions, type PremiumProgress, type PremiumRow, type PremiumTokenizer } from './premiums';
export {
  LANGUAGE_ALIASES,
  loadUdhrCorpus,
  parseDeclaration,
  resolveLanguages,
  UDHR_ARTICLE_COUNT,
  UDHR_REFERENCE_CODE,
  udhrDirectory,
  type UdhrLanguage,
  type UdhrOptions,
} from './corpus';
export { DETECTED_SCRIPTS, detectScript, JAPANESE_KANA_SHARE, scriptCounts, type DetectedScript, type ScriptDetection, type ScriptName } from './script';
