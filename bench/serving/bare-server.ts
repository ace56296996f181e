/**
 * Child process of the serving benchmark: the ceiling. A bare Fastify route that parses the JSON
 * body and answers a fixed prediction, on the same Fastify and Node as the model server. Prints
 * `listening <url>` when ready.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const answer = { predictions: [{ label: 'sun' }] };
app.post('/predict', async () => answer);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${url}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
