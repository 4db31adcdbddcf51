export {
  compileEdgePlan,
  mergeModifiers,
  PlanError,
  planSite,
  selectorMatch,
  siteVariesByEdge,
} from './compile.js';
export type {
  EdgePlan,
  ModifierLevel,
  PlannedCache,
  PlannedCertificate,
  PlannedHttps,
  PlannedModifier,
  PlannedOrigin,
  PlannedSite,
  PlannedTimeouts,
  PlannedUpstream,
} from './plan.js';
