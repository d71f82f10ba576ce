/** JSON bodies for /system/* (never for /function/*): any content type, bounded size. */
import express, { type RequestHandler } from 'express';

export const SYSTEM_BODY_LIMIT_BYTES = 1024 * 1024;

export function createJsonBody(limitBytes = SYSTEM_BODY_LIMIT_BYTES): RequestHandler {
  // faas-cli does not always send Content-Type: application/json, so parse whatever comes
  return express.json({ limit: limitBytes, type: () => true, strict: false });
}
