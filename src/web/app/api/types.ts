// The shapes the UI reads, all from the spec: the desired state's zod schemas and one schema
// per API answer (src/spec/api.ts, parsed against the real server by its test). Types only:
// nothing here reaches the bundle.
export type {
  Alert,
  ApiErrorAnswer,
  AttemptAnswer,
  CertificateAttempt,
  CertificateList,
  CertificateRow,
  ChangeResult,
  DnsApplyAnswer,
  DnsPlan,
  DnsStatus,
  EdgeAnswer,
  EdgeList,
  EdgePlanAnswer,
  EdgeState,
  EdgeStatus,
  EdgeTraffic,
  EdgeWithToken,
  Health,
  NewEdgeAnswer,
  ProviderRRset,
  PublicStatus,
  SiteAnswer,
  SiteList,
  SiteStatus,
  StateAnswer,
  StatusSnapshot,
  TokenAnswer,
  TrafficPoint,
} from '../../../spec/api.js';
export type { Edge, Problem, Site, Spec, SpecDiff } from '../../../spec/index.js';
