export {
  AcmeError,
  AcmeIssuer,
  newCertificateKey,
  parseRetryAfter,
  type CertificateIssuer,
  type ChallengeSolver,
  type ChallengeTask,
  type IssuedCertificate,
  type IssueRequest,
  type Progress,
  type ProgressStep,
} from './acme.js';
export { Dns01Solver, dns01Name, DnsPropagationError, Http01Solver } from './challenges.js';
export { waitForEdgesServing, type EdgesReadyOptions } from './delivery.js';
export {
  CertificateManager,
  CertificateRequestError,
  type AttemptEvent,
  type AttemptTrigger,
  type AttemptView,
  type CertificateManagerOptions,
} from './manager.js';
export {
  checkCertificate,
  CertificateError,
  nameCovers,
  parseChain,
  summarize,
  uncoveredNames,
  type CertificateSummary,
} from './pem.js';
export {
  ALERT_DAYS,
  backoffDelay,
  certificateAlerts,
  certificateRows,
  certificateTargets,
  DEFAULT_BACKOFF,
  dueReason,
  renewalTime,
  type BackoffPolicy,
  type CertificateAlert,
  type CertificateRow,
  type CertificateTarget,
  type ChallengeType,
} from './policy.js';
export { acmeChallengeRoutes, certificateRoutes, CertificateUpload } from './routes.js';
