export {
  compileEdgePlan,
  mergeModifiers,
  PlanError,
  plannedMatchers,
  planWaf,
  selectorMatch,
} from './compile.js';
export type {
  EdgePlan,
  ModifierLevel,
  PlannedAccess,
  PlannedAccessRule,
  PlannedCache,
  PlannedCertificate,
  PlannedHttps,
  PlannedModifier,
  PlannedOrigin,
  PlannedSite,
  PlannedTimeouts,
  PlannedUpstream,
  PlannedWaf,
} from './plan.js';
