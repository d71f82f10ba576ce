/** Error messages: in full for the admin; without server paths (and internal details) for anyone else. */
import { expect } from 'chai';
import { PlatformError } from '../../../core/errors.ts';
import { messageFor } from '../../../gateway/http/send-error.ts';
import { createPathRedactor, redactServerPaths, REDACTED_PATH } from '../../../gateway/http/redact-paths.ts';

describe('error messages for non-admins', () => {
  it('takes file-system paths, file URLs and stack frames out', () => {
    const cases: Array<[string, string]> = [
      [
        'image "x:latest" is not in the image store (/tmp/fastgshare-gw-1/images); build it',
        `image "x:latest" is not in the image store (${REDACTED_PATH}); build it`,
      ],
      [
        "ENOENT: no such file or directory, open '/var/lib/fastgshare/images/echo/latest/manifest.json'",
        `ENOENT: no such file or directory, open '${REDACTED_PATH}'`,
      ],
      [
        'could not persist db.functions to /home/op/.fastgshare/store/db/functions.json: EACCES',
        `could not persist db.functions to ${REDACTED_PATH}: EACCES`,
      ],
      ['failed at file:///srv/app/core/x.ts:12:3', `failed at ${REDACTED_PATH}:12:3`],
      ['boom\n    at f (/srv/app/x.ts:1:1)\n    at g (node:internal/x:2:2)', 'boom'],
      ['/usr/local/lib/node_modules/x is missing', `${REDACTED_PATH} is missing`],
    ];
    for (const [m, want] of cases) expect(redactServerPaths(m), m).to.equal(want);
  });

  it('leaves the gateway URL paths and URLs that messages mention', () => {
    for (const m of [
      'no route for GET /system/foo: the gateway serves /function/NAME[.NAMESPACE], /system/functions, /healthz and /metrics',
      'node agent at http://127.0.0.1:8081 answered 404 to GET /v1/functions/x',
      'use "/system/functions"',
      'function "echo.ns-a" not found; call /async-function/echo',
    ]) {
      expect(redactServerPaths(m), m).to.equal(m);
    }
  });

  it('knows a root by its whole first segment', () => {
    const r = createPathRedactor(['tmp', 'lib64', 'lib']);
    expect(r('at /tmp/a and /tmpx/b and /lib64/c and /lib/d')).to.equal(
      `at ${REDACTED_PATH} and /tmpx/b and ${REDACTED_PATH} and ${REDACTED_PATH}`,
    );
  });

  it('shows the admin the message as written and others a redacted one; internal errors only by reference', () => {
    const e = new PlatformError('image_not_found', 'image "x" is not in the image store (/tmp/d/images)');
    expect(messageFor(e, true)).to.contain('/tmp/d/images');
    expect(messageFor(e, false)).to.equal(`image "x" is not in the image store (${REDACTED_PATH})`);
    const internal = new PlatformError(
      'internal',
      "EACCES: permission denied, open '/srv/data/secrets.json' at Mongo 10.0.0.5:27017",
    );
    expect(messageFor(internal, true)).to.equal(internal.message);
    const shown = messageFor(internal, false, 'ab12cd');
    expect(shown).to.contain('reference ab12cd').and.not.to.contain('/srv').and.not.to.contain('10.0.0.5');
  });
});
