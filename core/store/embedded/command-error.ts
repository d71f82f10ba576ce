/**
 * An error answered to the client in MongoDB's shape: { ok: 0, errmsg, code, codeName }.
 * The codes are MongoDB's own, so drivers and mongoose classify them as they would for mongod.
 */
import type { Document } from 'bson';

export const ERROR_CODES = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CommandNotSupported: 115,
  InvalidPipelineOperator: 168,
  UnsupportedOpQueryCommand: 352,
  Location16410: 16410,
  DuplicateKey: 11000,
} as const;

export type CodeName = keyof typeof ERROR_CODES;

export class CommandError extends Error {
  override name = 'CommandError';
  readonly code: number;
  constructor(
    readonly codeName: CodeName,
    message: string,
    readonly extra: Document = {},
  ) {
    super(message);
    this.code = ERROR_CODES[codeName];
  }

  toResponse(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

/** A write error for one document of a batch (insert/update/delete writeErrors). */
export function toWriteError(index: number, err: CommandError): Document {
  return { index, code: err.code, errmsg: err.message, ...err.extra };
}
