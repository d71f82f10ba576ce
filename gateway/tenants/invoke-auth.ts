/**
 * Invoke wrapper (startGateway's `wrapInvoke` seam) for `/function/*` and `/async-function/*`:
 * a function annotated `fastgshare/invoke_auth: tenant` answers only callers that present its
 * owner's credentials (basic auth or `Bearer <apiKey>`) or the admin's; others get 401 (none or
 * wrong) or 403 (another tenant's). Public functions and unknown names pass straight on.
 */
import type { InvokeHandler } from '../proxy/invoke.ts';
import { splitInvocationUrl } from '../proxy/invoke.ts';
import { parseQualifiedName } from '../../core/names.ts';
import { PlatformError } from '../../core/errors.ts';
import { sendError } from '../http/send-error.ts';
import type { FunctionInfoCache } from './function-info.ts';
import type { Authenticate } from './system-auth.ts';

export function createInvokeAuth(d: { info: FunctionInfoCache; authenticate: Authenticate }): (next: InvokeHandler) => InvokeHandler {
  return (next) => async (req, res) => {
    let name: string, namespace: string;
    try {
      ({ name, namespace } = parseQualifiedName(splitInvocationUrl(req.url ?? '/').rawName));
    } catch {
      return next(req, res); // the proxy answers bad names
    }
    const info = await d.info.get(namespace, name);
    if (!info || info.invokeAuth === 'public') return next(req, res);
    const who = await d.authenticate(req.headers.authorization);
    if (who && (who.kind === 'admin' || who.namespaces.includes(namespace))) return next(req, res);
    req.resume();
    sendError(
      res,
      who
        ? new PlatformError('forbidden', `function "${name}.${namespace}" may only be invoked with its own tenant's key; these credentials belong to tenant "${who.kind === 'tenant' ? who.name : ''}"`)
        : new PlatformError('unauthorized', `function "${name}.${namespace}" requires its tenant's key: send Authorization: Bearer TENANT.KEY or basic auth (fastgshare tenant rotate prints a new key)`),
    );
  };
}
