// Builds the admin UI into src/web/dist, which the control plane serves at `/`.
// `npm run dev:web` serves it with hot reload and forwards /v1 to a running control plane
// (OUTPOST_SERVER, default http://127.0.0.1:8080); `vite preview` does the same for the build.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const api = process.env.OUTPOST_SERVER ?? 'http://127.0.0.1:8080';
const proxy = { '/v1': { target: api, changeOrigin: false } };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  // The spec's schemas (app/defaults.ts reads their defaults) import node:net for their address
  // checks; the browser never runs those (the control plane validates).
  resolve: { alias: { 'node:net': fileURLToPath(new URL('app/node-net.ts', import.meta.url)) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: { proxy },
  preview: { proxy },
});
