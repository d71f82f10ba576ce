/**
 * Request bodies that carry their payload as base64 in JSON — `{"image": "<base64>"}` or
 * `{"audio": "<base64>", "contentType": "audio/pcm; rate=16000"}` — are unwrapped to the bytes
 * and their content type; any other body is returned as it came.
 */
import { PlatformError } from 'fastgshare/core/errors.ts';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isJson(body: Buffer, contentType: string | undefined): boolean {
  if (contentType && /^application\/(.+\+)?json\b/i.test(contentType.trim())) return true;
  if (contentType && contentType.trim() !== '' && !/^text\/plain\b/i.test(contentType.trim())) return false;
  const first = body.subarray(0, 64).toString('latin1').trimStart()[0];
  return first === '{';
}

/** `field` is the JSON property holding the payload (e.g. "image"). */
export function unwrapBase64Json(
  body: Buffer,
  contentType: string | undefined,
  field: string,
): { body: Buffer; contentType: string | undefined } {
  if (!isJson(body, contentType)) return { body, contentType };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new PlatformError(
      'bad_request',
      `the body is not valid JSON (${(err as Error).message}); send {"${field}": "<base64>"} or the raw bytes`,
      { cause: err },
    );
  }
  const value = (parsed as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string')
    throw new PlatformError(
      'bad_request',
      `JSON bodies must be {"${field}": "<base64>"}: property "${field}" is missing or not a string`,
    );
  const b64 = value.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!BASE64.test(b64)) throw new PlatformError('bad_request', `property "${field}" is not base64`);
  const inner = (parsed as Record<string, unknown>).contentType;
  return {
    body: Buffer.from(b64, b64.includes('-') || b64.includes('_') ? 'base64url' : 'base64'),
    contentType: typeof inner === 'string' ? inner : undefined,
  };
}
