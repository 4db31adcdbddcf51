export { compileEdgePlan, mergeModifiers, planWaf, PlanError, selectorMatch } from './compile.js';
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
  PlannedWaf,
} from './plan.js';
