import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web UI is static files the API server serves at / (one origin: no CORS, the session
// cookie and CSRF header work as they are). `npm run dev:web` proxies /api to a running
// `hostrun start` for working on the UI with hot reload.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': { target: process.env.HOSTRUN_URL ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
