/** Starts a koa app on a port (0 = any free one) and reports the port it got. */
import type { Server } from 'node:http';
import type Koa from 'koa';

export async function listen(app: Koa, port: number, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
  return await new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', (error) => reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`)));
    server.once('listening', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}
