/**
 * Every route of the node agent needs `Authorization: Bearer <node token>`; anything else is a 401
 * that says where the token comes from. The token is compared in constant time.
 */
import type { RequestHandler } from 'express';
import { secretEqual } from '../../core/secret-equal.ts';

export const NODE_TOKEN_HINT =
  'the node agent API needs "Authorization: Bearer <token>": the token is in the agent\'s data dir (node-agent.token, made at first start) ' +
  'or set by FASTGSHARE_NODE_TOKEN / FASTGSHARE_NODE_TOKEN_FILE; give gateways on other hosts the same setting';

export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

export function requireNodeToken(token: string): RequestHandler {
  return (req, res, next) => {
    if (secretEqual(bearerOf(req.headers.authorization), token)) return next();
    req.resume();
    res
      .status(401)
      .set('www-authenticate', 'Bearer realm="fastgshare-node"')
      .json({ code: 'unauthorized', message: NODE_TOKEN_HINT });
  };
}
