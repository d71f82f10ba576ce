/**
 * Reading command arguments with MongoDB's type errors.
 */
import type { Document } from 'bson';
import { CommandError } from '../command-error.ts';
import { checkCollectionName } from '../catalog.ts';

export function collectionArg(cmd: Document, field: string): string {
  const name = cmd[field];
  if (typeof name !== 'string') {
    throw new CommandError(
      'InvalidNamespace',
      `collection name has invalid type ${name === null ? 'null' : typeof name}; the '${field}' field must name a collection`,
    );
  }
  return checkCollectionName(name);
}

export function optionalDoc(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new CommandError('TypeMismatch', `BSON field '${field}' must be an object`);
  return v as Document;
}

export function optionalArray(cmd: Document, field: string): Document[] | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new CommandError('TypeMismatch', `BSON field '${field}' must be an array`);
  return v as Document[];
}

export function requiredArray(cmd: Document, field: string): Document[] {
  const v = optionalArray(cmd, field);
  if (!v) throw new CommandError('FailedToParse', `BSON field '${field}' is missing but a required field`);
  return v;
}

export function optionalInt(cmd: Document, field: string, { min = -Infinity } = {}): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  const n =
    typeof v === 'number'
      ? v
      : typeof v === 'object' && 'toNumber' in (v as object)
        ? (v as { toNumber(): number }).toNumber()
        : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw new CommandError('TypeMismatch', `BSON field '${field}' must be an integer`);
  if (n < min) throw new CommandError('BadValue', `BSON field '${field}' value must be >= ${min}, actual value '${n}'`);
  return n;
}

export function ns(db: string, coll: string): string {
  return `${db}.${coll}`;
}
