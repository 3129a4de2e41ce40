/**
 * The dashboard's files: the page and its ES modules (src/controller/web/), and the libraries it
 * uses (uPlot, Swagger UI) straight from node_modules, so that the page works on a closed
 * beamline network and needs no build. Only the files in the table below are served: a request
 * never names a path on disk.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';

const require = createRequire(import.meta.url);
const own = (file: string) => fileURLToPath(new URL(`./web/${file}`, import.meta.url));

/** URL path → file and whether it may be cached (libraries change only with an install) */
const ASSETS: Record<string, { file: string; type: string; vendor?: boolean }> = {
  '/': { file: own('index.html'), type: 'html' },
  '/api/v1/docs': { file: own('docs.html'), type: 'html' },
  ...Object.fromEntries(['main.js', 'api.js', 'chart.js', 'results.js', 'series-view.js', 'image-view.js', 'colormaps.js', 'npy.js',
    'pipeline.js', 'parameters.js', 'logs.js', 'leaf.js', 'docs.js', 'dashboard.css']
    .map((file) => [`/web/${file}`, { file: own(file), type: file.endsWith('.css') ? 'css' : 'js' }])),
  '/web/vendor/uPlot.esm.js': { file: require.resolve('uplot/dist/uPlot.esm.js'), type: 'js', vendor: true },
  '/web/vendor/uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'css', vendor: true },
  '/web/vendor/swagger-ui-bundle.js': { file: require.resolve('swagger-ui-dist/swagger-ui-bundle.js'), type: 'js', vendor: true },
  '/web/vendor/swagger-ui.css': { file: require.resolve('swagger-ui-dist/swagger-ui.css'), type: 'css', vendor: true },
  '/web/vendor/swagger-ui-standalone-preset.js': { file: require.resolve('swagger-ui-dist/swagger-ui-standalone-preset.js'), type: 'js', vendor: true },
};

export function webRouter(): Router {
  const router = new Router();
  const cache = new Map<string, Promise<Buffer>>();
  for (const [path, asset] of Object.entries(ASSETS)) {
    router.get(path, async (ctx) => {
      // read once per process: the files change only with a new installation
      if (!cache.has(path)) cache.set(path, readFile(asset.file).catch((error) => { cache.delete(path); throw error; }));
      ctx.type = asset.type;
      ctx.set('Cache-Control', asset.vendor ? 'public, max-age=86400' : 'no-cache');
      ctx.body = await cache.get(path)!;
    });
  }
  // browsers ask for it on their own; there is none
  router.get('/favicon.ico', (ctx) => { ctx.status = 204; });
  return router;
}
