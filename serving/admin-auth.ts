/**
 * The admin token check shared by every admin route: `Authorization: Bearer <PERENNIAL_ADMIN_TOKEN>`,
 * or 401. An empty token refuses everything (no header can carry an empty bearer).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';

/** An onRequest hook that answers 401 unless the request carries the admin token. */
export function adminOnly(adminToken: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!authorized(request, adminToken)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'admin endpoints need the header "Authorization: Bearer <admin token>"' });
    }
  };
}

function authorized(request: FastifyRequest, adminToken: string): boolean {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  if (!match) return false;
  // Hashing gives equal lengths, which timingSafeEqual needs, without leaking the token's.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(adminToken));
}
