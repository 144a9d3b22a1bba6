import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

// Under `vite` (npm run dev) nothing serves /config.json, so answer it here with the default
// router; the built app gets it from `vidgraph dev` (crates/vidgraph/src/web.rs).
function devConfigJson(): Plugin {
  return {
    name: 'vidgraph-dev-config',
    configureServer(server) {
      server.middlewares.use('/config.json', (_request, response) => {
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify({ graphqlUrl: 'http://127.0.0.1:4000/graphql', wsUrl: 'ws://127.0.0.1:4000/graphql' }));
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), devConfigJson()],
  // The editor's language workers (GraphiQL's monaco) split into chunks, which needs ES modules.
  worker: { format: 'es' },
  build: {
    // Source maps are for the developer's own browser; they are not served to count in sizes.
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
  },
});
