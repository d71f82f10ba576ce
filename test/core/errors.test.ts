/** core/errors.ts: codes → statuses, and the way back for an answer that names no code. */
import { expect } from 'chai';
import { codeForStatus, httpStatusFor } from '../../core/errors.ts';

describe('core/errors', () => {
  it('codeForStatus: the general code of a status, undefined for one without', () => {
    expect([400, 401, 403, 404, 409, 413, 501, 502, 503].map(codeForStatus)).to.deep.equal([
      'bad_request',
      'unauthorized',
      'forbidden',
      'not_found',
      'conflict',
      'payload_too_large',
      'not_implemented',
      'upstream_failed',
      'unavailable',
    ]);
    for (const s of [200, 418, 429, 500, 504]) expect(codeForStatus(s), String(s)).to.equal(undefined);
  });

  it('codeForStatus is the inverse of httpStatusFor where it answers', () => {
    for (const s of [400, 401, 403, 404, 409, 413, 501, 502, 503]) expect(httpStatusFor(codeForStatus(s)!)).to.equal(s);
  });
});
