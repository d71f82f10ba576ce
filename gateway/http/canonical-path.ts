/**
 * The one canonical spelling of a request's URL, computed once where every request enters
 * (gateway/app.ts `createRequestListener`), so that the invocation fast paths, express's
 * routers, basic auth and the tenant scope all see the identical path.
 *
 * Rules (the same for every route):
 * - Percent-encoding is decoded: `%73ystem/%66unctions` IS `/system/functions` (RFC 3986 §6.2.2.2)
 *   and is routed, authenticated and scoped as that path. The canonical URL re-encodes every
 *   segment with encodeURIComponent, so one path has one spelling. Malformed encoding (`%zz`,
 *   a lone `%`, bytes that are not UTF-8) is a 400 saying so.
 * - A segment may not decode to something that changes the path's structure or means nothing
 *   in a URL: an encoded '/' (`%2F`), a '\', a NUL or other control character, or '.' / '..'
 *   (raw or encoded). Those are a 400, as is an empty segment in the middle of the path
 *   (`//`, `/system//functions`): refused rather than collapsed, so that no proxy, log reader or
 *   client in front of the gateway can disagree with it about which path was asked for.
 *   One trailing '/' is allowed (`/system/functions/`); the routers treat it as the same route.
 * - Case is significant and every gateway path is lower case: the route words are, and so are
 *   function, namespace, secret and tenant names (DNS labels, core/names.ts). A path with an
 *   upper-case letter in the part the gateway reads is a 404 naming the lower-case spelling;
 *   nothing case-folds it, so `/SYSTEM/functions` never reaches a router.
 * - `/function/NAME[.NS]` and `/async-function/NAME[.NS]`: the gateway reads the route word and
 *   the name segment only (same rules as above); what follows the name is the function's own
 *   sub-path and is forwarded to the replica byte for byte as the client sent it.
 * - An absolute-form request target (`GET http://host/path HTTP/1.1`) is reduced to its path.
 * The query string is left as sent (express parses it; the scope reads it from there).
 */
import { PlatformError } from '../../core/errors.ts';

export type RouteKind = 'function' | 'async-function' | 'gateway';

export interface CanonicalUrl {
  kind: RouteKind;
  /** The canonical path and the query as sent: what express sees as `req.url`. */
  url: string;
  /** The canonical path alone (for function routes: up to and including the name segment). */
  path: string;
  /** For function routes: `/NAME` + the raw sub-path + query, what the invoke handlers expect. */
  below?: string;
}

const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const UPPER = /[A-Z]/;
const INVOKE_WORDS: ReadonlySet<string> = new Set(['function', 'async-function']);

function bad(message: string): PlatformError {
  return new PlatformError('bad_request', message);
}

/** Shortens what we echo back (the raw segment may be long or hostile). */
function shown(s: string): string {
  const t = s.length > 60 ? s.slice(0, 60) + '…' : s;
  return JSON.stringify(t);
}

/** Decodes one segment and checks it, or throws the 400 that says what is wrong with it. */
function decodeSegment(raw: string): string {
  let seg: string;
  try {
    seg = decodeURIComponent(raw);
  } catch {
    throw bad(
      `the URL path segment ${shown(raw)} is not valid percent-encoding: each '%' must start a %XX escape of UTF-8 bytes (write a literal '%' as %25)`,
    );
  }
  if (seg.includes('/'))
    throw bad(`the URL path segment ${shown(raw)} holds an encoded '/' (%2F); a path segment cannot contain '/'`);
  if (seg.includes('\\')) throw bad(`the URL path segment ${shown(raw)} holds a '\\'; gateway paths use '/' only`);
  if (CONTROL.test(seg))
    throw bad(`the URL path segment ${shown(raw)} holds a NUL or another control character; remove it`);
  if (seg === '.' || seg === '..')
    throw bad(`the URL path holds a '${seg}' segment; send the path without '.' and '..' segments`);
  return seg;
}

function checkEmpty(segments: string[], i: number, path: string): void {
  if (segments[i] === '' && i < segments.length - 1) {
    throw bad(`the URL path ${shown(path)} has an empty segment ('//'); remove the doubled '/'`);
  }
}

function notFoundUpper(decodedPath: string): PlatformError {
  return new PlatformError(
    'not_found',
    `no route for ${shown(decodedPath)}: gateway paths and function, namespace and secret names are lower case; use ${shown(decodedPath.toLowerCase())}`,
  );
}

/**
 * The canonical form of a request target (`req.url`), or a PlatformError: 400 `bad_request`
 * for a malformed or ambiguous path, 404 `not_found` for one that is not lower case.
 */
export function canonicalizeUrl(target: string): CanonicalUrl {
  let raw = target;
  const abs = ABSOLUTE_FORM.exec(raw);
  if (abs) raw = raw.slice(abs[0].length) || '/';
  if (raw.startsWith('?')) raw = '/' + raw;
  if (!raw.startsWith('/'))
    throw bad(`the request target ${shown(target)} is not a path: send one that starts with '/'`);
  const q = raw.indexOf('?');
  const rawPath = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q);
  const segments = rawPath.split('/'); // segments[0] is '' (the path starts with '/')

  const first = segments.length > 1 ? decodeSegment(segments[1]!) : '';
  if (INVOKE_WORDS.has(first) && segments.length > 2) {
    // /function/NAME[/sub...]: the route word and the name are the gateway's; the rest is the function's
    const rawName = segments[2]!;
    checkEmpty(segments, 2, rawPath);
    const name = decodeSegment(rawName);
    const head = `/${first}/${name}`;
    if (UPPER.test(name)) throw notFoundUpper(head);
    const sub = segments.length > 3 ? '/' + segments.slice(3).join('/') : '';
    const path = `/${first}/${encodeURIComponent(name)}`;
    return {
      kind: first as RouteKind,
      url: path + sub + query,
      path,
      below: `/${encodeURIComponent(name)}${sub}${query}`,
    };
  }

  const decoded: string[] = [''];
  for (let i = 1; i < segments.length; i++) {
    checkEmpty(segments, i, rawPath);
    decoded.push(i === 1 ? first : decodeSegment(segments[i]!));
  }
  const decodedPath = decoded.join('/') || '/';
  if (UPPER.test(decodedPath)) throw notFoundUpper(decodedPath);
  const path = decoded.map((s) => encodeURIComponent(s)).join('/') || '/';
  return { kind: 'gateway', url: path + query, path };
}
