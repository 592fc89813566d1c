import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * A Secrets Manager-compatible endpoint for the local stack: GetSecretValue over the AWS JSON 1.1
 * protocol, so the authorize handler reads the upstream client secret through the real
 * @aws-sdk/client-secrets-manager path, by ARN, exactly as deployed.
 */
export class LocalSecretsManager {
  private readonly secrets = new Map<string, string>();
  private server?: Server;
  endpoint = '';

  constructor(private readonly region = 'us-east-1', private readonly account = '000000000000') {}

  /** Stores a secret string; returns its ARN. */
  put(name: string, value: string): string {
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomUUID().slice(0, 6)}`;
    this.secrets.set(arn, value);
    return arn;
  }

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
    const operation = String(req.headers['x-amz-target'] ?? '');
    let status = 200;
    let body: unknown;
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const value = input.SecretId === undefined ? undefined : this.secrets.get(input.SecretId);
      if (operation !== 'secretsmanager.GetSecretValue') {
        status = 400;
        body = { __type: 'UnsupportedOperation', message: `${operation} is not implemented locally` };
      } else if (value === undefined) {
        status = 400;
        body = { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." };
      } else {
        body = { ARN: input.SecretId, Name: input.SecretId!.split(':').pop(), SecretString: value, VersionId: 'local', CreatedDate: 0 };
      }
    } catch {
      status = 400;
      body = { __type: 'ValidationException', message: 'Malformed request' };
    }
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  }
}
