/** A real HTTP receiver for alert webhooks: keeps every JSON body it is sent, answers 200. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTeardown } from './services.ts';

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

export async function startWebhookReceiver() {
  const received: SlackMessage[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  onTeardown(() => new Promise<void>((ok) => server.close(() => ok())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}
