// A server in its own process, for the SIGTERM test: the real core over an empty account directory.
// Prints its URL, and "closed service" once the graceful shutdown has closed the core.
import { join } from 'node:path';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService } from '../../src/core/fleet-service.ts';
import { startServer } from '../../src/server/serve.ts';

const dir = process.argv[2];
const fleet = await createFleetService({
  config: resolveConfig({ dataDir: join(dir, 'data'), accountDir: join(dir, 'account') }, {}),
  background: false,
});
const close = fleet.close.bind(fleet);
fleet.close = async () => {
  await close();
  console.log('closed service');
};
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  service: fleet,
  dataDir: dir,
  env: {},
  handleSignals: true,
  log: (line) => console.log(line),
});
console.log(`url ${server.url}`);
await server.closed;
