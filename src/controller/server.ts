/** The controller process: controller state plus its HTTP API on one port. */
import type { Server } from 'node:http';
import type Router from '@koa/router';
import { listen, type HttpSecurity } from '../core/http/app.js';
import { DEFAULT_CONTROLLER_PORT } from '../core/defaults.js';
import { Controller, type ControllerOptions } from './controller.js';
import { createControllerApp } from './http.js';

export interface ControllerServerOptions extends ControllerOptions {
  port?: number;
  host?: string;
  security?: HttpSecurity;
  /** more routes on the same server (the Tango REST device model) */
  routers?: (controller: Controller) => Router[];
}

export interface ControllerServer {
  controller: Controller;
  port: number;
  close(): Promise<void>;
}

export async function startControllerServer(options: ControllerServerOptions): Promise<ControllerServer> {
  const controller = new Controller(options);
  await controller.start();
  let server: Server;
  let port: number;
  try {
    ({ server, port } = await listen(createControllerApp(controller, options.routers?.(controller), options.security), options.port ?? DEFAULT_CONTROLLER_PORT, options.host));
  } catch (error) {
    await controller.stop();
    throw error;
  }
  controller.logger.info(`controller HTTP API on port ${port}`);
  return {
    controller,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await controller.stop();
    },
  };
}
