/**
 * For `npm start`: a local webhook that prints the alerts it receives, so a spec without alert
 * channels still shows them (drift, retrains, approvals needed, rollbacks) in the console.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startAlertPrinter(print: (line: string) => void): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        print(`alert: ${(JSON.parse(body) as { text?: string }).text ?? body}`);
      } catch {
        print(`alert (not JSON): ${body.slice(0, 200)}`);
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alerts`, stop: () => new Promise<void>((ok) => server.close(() => ok())) };
}
