// A server in its own process, for the SIGTERM test: prints its URL, and "closed service" once the
// graceful shutdown has closed the service.
import { startServer } from '../../src/server/serve.ts';
import { MemoryFleet } from './memory-fleet.ts';

const fleet = new MemoryFleet({ clock: Date.now, accounts: 3 });
const close = fleet.close.bind(fleet);
fleet.close = async () => {
  await close();
  console.log('closed service');
};
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  service: fleet,
  dataDir: process.argv[2],
  env: {},
  handleSignals: true,
  log: (line) => console.log(line),
});
console.log(`url ${server.url}`);
await server.closed;
