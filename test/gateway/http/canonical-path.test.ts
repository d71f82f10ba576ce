/** The canonical URL: one spelling per path, malformed paths a 400, case variants a 404. */
import { expect } from 'chai';
import { canonicalizeUrl } from '../../../gateway/http/canonical-path.ts';
import { PlatformError } from '../../../core/errors.ts';

function refused(target: string): PlatformError {
  try {
    canonicalizeUrl(target);
  } catch (err) {
    expect(err).to.be.instanceOf(PlatformError);
    return err as PlatformError;
  }
  throw new Error(`${target} was accepted`);
}

describe('canonical path', () => {
  it('keeps canonical paths and their query as they are', () => {
    for (const u of [
      '/',
      '/healthz',
      '/system/functions',
      '/system/functions/',
      '/system/function/echo?namespace=ns-a&usage=1',
      '/system/logs?name=echo&tail=5',
    ]) {
      const c = canonicalizeUrl(u);
      expect(c.kind, u).to.equal('gateway');
      expect(c.url, u).to.equal(u);
    }
  });

  it('decodes percent-encoded letters to the one spelling the routers know', () => {
    expect(canonicalizeUrl('/system/%66unctions?namespace=ns-b').url).to.equal('/system/functions?namespace=ns-b');
    expect(canonicalizeUrl('/%73ystem/functions').url).to.equal('/system/functions');
    expect(canonicalizeUrl('/system/function/%65%63%68%6f').path).to.equal('/system/function/echo');
    // characters that must stay encoded are re-encoded one way
    expect(canonicalizeUrl('/system/function/a%20b').path).to.equal('/system/function/a%20b');
    expect(canonicalizeUrl('/system/function/a b').path).to.equal('/system/function/a%20b');
    expect(canonicalizeUrl('/system/function/%e2%82%ac').path).to.equal('/system/function/%E2%82%AC');
  });

  it('refuses malformed encoding with a 400 that says what is wrong', () => {
    for (const u of ['/system/%zzfunctions', '/system/functions%', '/system/function/%e2%82', '/%ff']) {
      const e = refused(u);
      expect(e.status, u).to.equal(400);
      expect(e.code).to.equal('bad_request');
      expect(e.message).to.contain('not valid percent-encoding');
    }
  });

  it('refuses encoded separators, backslashes, control characters, dot segments and empty segments', () => {
    const cases: Array<[string, string]> = [
      ['/system/function/a%2Fb', "encoded '/'"],
      ['/system/function/a%2fb', "encoded '/'"],
      ['/system%2Ffunctions', "encoded '/'"],
      ['/system/function/a%5Cb', "'\\'"],
      ['/system/function/a\\b', "'\\'"],
      ['/system/function/a%00', 'control character'],
      ['/system/function/a%0d%0aX: y', 'control character'],
      ['/system/../system/functions', "'..' segment"],
      ['/system/%2e%2e/system/functions', "'..' segment"],
      ['/system/./functions', "'.' segment"],
      ['/system/%2E/functions', "'.' segment"],
      ['//system/functions', 'empty segment'],
      ['/system//functions', 'empty segment'],
      ['/system/functions//', 'empty segment'],
      ['/function//echo', 'empty segment'],
      ['/function/..', "'..' segment"],
      ['/function/%2e%2e/system/functions', "'..' segment"],
      ['/async-function/a%2Fb', "encoded '/'"],
      ['system/functions', "starts with '/'"],
    ];
    for (const [u, says] of cases) {
      const e = refused(u);
      expect(e.status, u).to.equal(400);
      expect(e.message, u).to.contain(says);
    }
  });

  it('404s any upper case in the path the gateway reads, naming the lower-case spelling', () => {
    for (const u of [
      '/SYSTEM/functions',
      '/System/Functions',
      '/system/FUNCTIONS',
      '/system/function/Echo',
      '/%53ystem/functions',
      '/HEALTHZ',
      '/Metrics',
      '/FUNCTION/echo',
      '/Function/echo',
      '/function/ECHO',
      '/function/echo.NS-A',
      '/async-function/Echo',
    ]) {
      const e = refused(u);
      expect(e.status, u).to.equal(404);
      expect(e.message, u).to.contain('lower case');
    }
    expect(refused('/System/Functions').message).to.contain('"/system/functions"');
  });

  it('reads only the route word and the name of an invocation; the sub-path goes to the function as sent', () => {
    expect(canonicalizeUrl('/function/echo')).to.deep.equal({
      kind: 'function',
      url: '/function/echo',
      path: '/function/echo',
      below: '/echo',
    });
    expect(canonicalizeUrl('/function/echo.ns-a/Some/%2Fpath/../x?q=%zz').below).to.equal(
      '/echo.ns-a/Some/%2Fpath/../x?q=%zz',
    );
    expect(canonicalizeUrl('/%66unction/%65cho.ns-a?x=1')).to.include({ kind: 'function', below: '/echo.ns-a?x=1' });
    expect(canonicalizeUrl('/async-function/echo.ns-b/')).to.include({ kind: 'async-function', below: '/echo.ns-b/' });
    expect(canonicalizeUrl('/function/')).to.include({ kind: 'function', below: '/' });
    // '/function' alone is no invocation: express 404s it
    expect(canonicalizeUrl('/function').kind).to.equal('gateway');
    expect(canonicalizeUrl('/functions/echo').kind).to.equal('gateway');
  });

  it('reduces an absolute-form target to its path and checks that path the same way', () => {
    expect(canonicalizeUrl('http://gw:8080/system/%66unctions?namespace=ns-a').url).to.equal(
      '/system/functions?namespace=ns-a',
    );
    expect(canonicalizeUrl('http://gw:8080').url).to.equal('/');
    expect(refused('http://gw:8080/SYSTEM/functions').status).to.equal(404);
    expect(canonicalizeUrl('http://gw/function/echo').kind).to.equal('function');
  });
});
