export {
  matcherRegex,
  nginxSiteOptions,
  renderNginx,
  renderNginxEdge,
  renderNginxSite,
  sitePath,
  type NginxSiteNeeds,
  type NginxSiteOptions,
  type NginxSiteRendering,
  SYSTEM_TRUST_STORE,
  trustPath,
  TTL_STATUSES,
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
export * from '../bundle/layout.js';
export {
  RENDERERS,
  rendererFor,
  type ProxyKind,
  type Renderer,
  type RenderOptions,
} from './renderer.js';
