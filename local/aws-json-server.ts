import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A service error answered the way AWS JSON-protocol services do: 400 with `__type` and `message`. */
export class AwsServiceFault extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

/**
 * A local endpoint speaking an AWS JSON 1.1 protocol (`X-Amz-Target: <Service>.<Operation>`), so the
 * real AWS SDK clients run against it unchanged. Subclasses implement `handle`.
 */
export abstract class AwsJsonServer {
  private server?: Server;
  endpoint = '';

  protected abstract handle(operation: string, input: Record<string, unknown>): unknown;

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1);
    let status = 200;
    let body: unknown;
    try {
      body = this.handle(operation, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
    } catch (error) {
      status = 400;
      const fault = error instanceof AwsServiceFault ? error : new AwsServiceFault('ValidationException', 'Malformed request');
      body = { __type: fault.type, message: fault.message };
    }
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  }
}
