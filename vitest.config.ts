import { defineConfig } from 'vitest/config';

// Three projects (`npx vitest run --project unit|integration|e2e`; `npm test` runs all):
// - unit: pure tests beside the code, no binaries and no network beyond loopback sockets of
//   their own process;
// - integration: tests beside the code that start a real binary (nginx -t, caddy, live nginx);
// - e2e: test/e2e, whole control planes, edges, PowerDNS, Pebble, Chromium.
const INTEGRATION = [
  'src/agent/caddy.test.ts',
  'src/edges/builder.test.ts',
  'src/server/build-worker.test.ts',
  'src/server/apply-worker.test.ts',
  'src/render/golden.test.ts',
  'src/render/caddy-golden.test.ts',
  'src/render/injection.test.ts',
  'src/render/protect-injection.test.ts',
  'src/render/nginx-live.test.ts',
  'src/certs/ocsp.test.ts',
  'src/render/renderer.contract.test.ts',
  'src/store/store.contract.test.ts',
  'src/store/copy.test.ts',
  'src/sites/routes.postgres.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: INTEGRATION },
      },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'] } },
    ],
  },
});
