// What every command gets: the API client (built on demand from flags, env and the CLI config
// file), the output, and the environment read once at start.
import type { Environment } from '../../config/index.js';
import type { ApiClient } from '../client.js';
import type { Output } from '../output.js';

export interface CommandContext {
  client: () => ApiClient;
  out: Output;
  env: Environment;
}
