/**
 * Invoke wrapper (startGateway's `wrapInvoke` seam) for `/function/*` and `/async-function/*`.
 * A function annotated `fastgshare/invoke_auth: tenant` answers only callers that present its
 * owner's password (basic auth) or one of its owner's API keys (`Bearer fgk_…`), the admin's
 * password, or the gateway's internal credential speaking for such a caller; others get 401 (none
 * or wrong), 403 (another tenant's) or 429 (backing off after failed logins, with Retry-After).
 * Public functions and unknown names pass straight on.
 *
 * Either way the credential headers are consumed here and removed before the call goes on, so no
 * replica and no queued job ever sees them; the decision (who the call is accepted as) is kept
 * for the request, where the async submission reads it (`callerOf`) to store it with the job.
 */
import type { IncomingMessage } from 'node:http';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import type { InvokeHandler } from '../proxy/invoke.ts';
import { splitInvocationUrl } from '../proxy/invoke.ts';
import { INTERNAL_AUTH_HEADER, ON_BEHALF_HEADER, stripCredentials } from '../proxy/headers.ts';
import { parseQualifiedName } from '../../core/names.ts';
import { PlatformError } from '../../core/errors.ts';
import { sendError } from '../http/send-error.ts';
import type { FunctionInfoCache } from './function-info.ts';
import { presentedBy, refusal, type Authenticator } from './system-auth.ts';
import type { Principal } from './principal.ts';

export interface InvokeAuth {
  wrap: (next: InvokeHandler) => InvokeHandler;
  /** Who a request that passed `wrap` was accepted as (anonymous for public functions). */
  callerOf(req: IncomingMessage): InvocationCaller;
}

const ANONYMOUS: InvocationCaller = { kind: 'anonymous' };

function callerFor(p: Principal): InvocationCaller {
  return p.kind === 'admin' ? { kind: 'admin' } : { kind: 'tenant', name: p.name };
}

export function createInvokeAuth(d: { info: FunctionInfoCache; auth: Authenticator }): InvokeAuth {
  const decided = new WeakMap<IncomingMessage, InvocationCaller>();
  const wrap =
    (next: InvokeHandler): InvokeHandler =>
    async (req, res) => {
      const presented = presentedBy(req);
      const internal = req.headers[INTERNAL_AUTH_HEADER];
      if (internal !== undefined) presented.internal = Array.isArray(internal) ? internal.join(',') : internal;
      presented.onBehalfOf = req.headers[ON_BEHALF_HEADER];
      stripCredentials(req.headers);
      let name: string, namespace: string;
      try {
        ({ name, namespace } = parseQualifiedName(splitInvocationUrl(req.url ?? '/').rawName));
      } catch {
        return next(req, res); // the proxy answers bad names
      }
      const info = await d.info.get(namespace, name);
      if (!info || info.invokeAuth === 'public') {
        decided.set(req, ANONYMOUS);
        return next(req, res);
      }
      const o = await d.auth.invoke(presented);
      if (o.kind === 'ok' && (o.principal.kind === 'admin' || o.principal.namespaces.includes(namespace))) {
        decided.set(req, callerFor(o.principal));
        return next(req, res);
      }
      req.resume();
      if (o.kind === 'ok') {
        const p = o.principal;
        return sendError(
          res,
          new PlatformError(
            'forbidden',
            `function "${name}.${namespace}" may only be invoked with its own tenant's credentials; these belong to tenant "${p.kind === 'tenant' ? p.name : ''}"`,
          ),
        );
      }
      const r = refusal(
        o,
        `function "${name}.${namespace}" requires its tenant's credentials: send Authorization: Bearer API_KEY (fastgshare tenant key create) or the tenant's basic auth`,
      );
      if (!r) return;
      if (r.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(r.retryAfterSeconds));
      sendError(res, r.error);
    };
  return { wrap, callerOf: (req) => decided.get(req) ?? ANONYMOUS };
}
