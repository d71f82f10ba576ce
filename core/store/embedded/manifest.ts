/**
 * The list of collections the embedded store holds, kept next to their snapshots so a start
 * can tell a collection whose snapshot file went missing from one that never existed. JSON:
 * {format, version, collections: [{db, name}]}, written atomically like the snapshots.
 */
export const MANIFEST_FILE = 'collections.manifest.json';
export const MANIFEST_FORMAT = 'fastgshare.embedded-mongo.manifest';
export const MANIFEST_VERSION = 1;

export interface ManifestEntry {
  db: string;
  name: string;
}

export class ManifestFormatError extends Error {
  override name = 'ManifestFormatError';
}

export function encodeManifest(entries: Iterable<ManifestEntry>): Buffer {
  const collections = [...entries]
    .map((e) => ({ db: e.db, name: e.name }))
    .sort((a, b) => (a.db === b.db ? a.name.localeCompare(b.name) : a.db.localeCompare(b.db)));
  return Buffer.from(
    `${JSON.stringify({ format: MANIFEST_FORMAT, version: MANIFEST_VERSION, collections }, null, 1)}\n`,
    'utf8',
  );
}

export function decodeManifest(bytes: Buffer): ManifestEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ManifestFormatError(`not JSON: ${(err as Error).message}`);
  }
  const d = doc as { format?: unknown; version?: unknown; collections?: unknown };
  if (typeof doc !== 'object' || doc === null || d.format !== MANIFEST_FORMAT)
    throw new ManifestFormatError('not a collection manifest');
  if (d.version !== MANIFEST_VERSION)
    throw new ManifestFormatError(
      `unsupported manifest version ${String(d.version)} (this build reads ${MANIFEST_VERSION})`,
    );
  if (!Array.isArray(d.collections)) throw new ManifestFormatError('"collections" is not a list');
  return d.collections.map((c: unknown, i) => {
    const e = c as Partial<ManifestEntry> | null;
    if (!e || typeof e.db !== 'string' || typeof e.name !== 'string' || !e.db || !e.name)
      throw new ManifestFormatError(`collections[${i}] lacks db or name`);
    return { db: e.db, name: e.name };
  });
}
