export {
  CACHE_DIR,
  CACHE_ZONE,
  certFileStem,
  certificatePaths,
  matcherRegex,
  renderNginx,
  STUB_STATUS_PATH,
  SYSTEM_TRUST_STORE,
  trustPath,
  TTL_STATUSES,
  type RenderedFile,
  type RenderNginxOptions,
} from './nginx.js';
export {
  escapeRegex,
  globToRegex,
  nginxLiteral,
  nginxRegex,
  nginxString,
  RenderError,
} from './escape.js';
