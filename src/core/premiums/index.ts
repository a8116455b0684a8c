/** Token premiums on the UDHR parallel corpus: corpus loading, script detection and premium computation. */
export { alignedArticles, computePremiums, forgetPremiums, type PremiumRow } from './premiums';
export {
  loadUdhrCorpus,
  parseDeclaration,
  resolveLanguages,
  UDHR_ARTICLE_COUNT,
  UDHR_REFERENCE_CODE,
  type UdhrLanguage,
  type UdhrOptions,
} from './corpus';
export { detectScript, type ScriptName } from './script';
