import { createServer } from 'node:net';

/** A port free on 127.0.0.1 right now, for a child process that must listen on a port it is told. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
