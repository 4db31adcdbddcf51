export {
  compileEdgePlan,
  mergeModifiers,
  PlanError,
  plannedMatchers,
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
} from './plan.js';
