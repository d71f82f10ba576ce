/**
 * Durable snapshots, one file per collection under the data directory. A snapshot is written
 * to a temporary file, fsynced, renamed over the old one and the directory fsynced, so a crash
 * leaves either the old or the new snapshot. Requests for the same collection that arrive
 * while a snapshot is being written are served together by the next one.
 *
 * A manifest (manifest.ts) lists the collections, written the same atomic way: a new
 * collection is listed once its first snapshot is on disk, a dropped one is unlisted before its
 * file is removed. So every listed collection has a file, and a listed collection whose file is
 * missing at start means the file was lost: the start is refused, naming the file. A file found
 * but not listed (a crash between the two writes, or a store from before the manifest) is loaded
 * and listed.
 */
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { CollectionState } from './collection.ts';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from './snapshot-file.ts';
import { decodeManifest, encodeManifest, MANIFEST_FILE, type ManifestEntry } from './manifest.ts';
import { fsyncDir } from '../../fs/atomic-file.ts';

export type LoadedSnapshot = Snapshot & { file: string };

/** Current state of a collection; undefined once it was dropped. */
export type StateSource = (db: string, name: string) => CollectionState | undefined;

const SUFFIX = '.bson';
const TEMP_MARK = '.tmp-';

function fileName(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E').replace(/\*/g, '%2A') + SUFFIX;
}

interface Pending {
  dirty: boolean;
  running: boolean;
  waiters: Array<{ resolve(): void; reject(err: unknown): void }>;
}

export class Persister {
  private readonly pending = new Map<string, Pending>();
  private readonly idle = new Set<() => void>();
  private tempCounter = 0;
  /** The collections the manifest lists (or is about to). */
  private readonly listed = new Map<string, ManifestEntry>();
  /** Manifest writes, one at a time. */
  private manifestWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly source: StateSource,
    private readonly log: Logger,
  ) {}

  pathOf(db: string, name: string): string {
    return join(this.dir, encodeURIComponent(db), fileName(name));
  }

  /** Resolves once the collection's current state (or its absence) is on disk. */
  persist(db: string, name: string): Promise<void> {
    const key = `${db}\0${name}`;
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { dirty: false, running: false, waiters: [] }));
    const entry = p;
    return new Promise<void>((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
      entry.dirty = true;
      if (!entry.running) void this.drain(key, db, name, entry);
    });
  }

  /** Waits until no snapshot is being written. */
  async settled(): Promise<void> {
    while (this.pending.size) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private async drain(key: string, db: string, name: string, entry: Pending): Promise<void> {
    entry.running = true;
    while (entry.dirty) {
      entry.dirty = false;
      const waiters = entry.waiters.splice(0);
      try {
        const state = this.source(db, name);
        if (state) {
          await this.writeAtomic(
            join(this.dir, encodeURIComponent(db)),
            this.pathOf(db, name),
            encodeSnapshot({ db, name, state }),
          );
          if (!this.listed.has(key)) {
            this.listed.set(key, { db, name });
            await this.writeManifest();
          }
        } else {
          if (this.listed.delete(key)) await this.writeManifest();
          await this.remove(db, this.pathOf(db, name));
        }
        this.log.debug(state ? 'snapshot written' : 'snapshot removed', {
          db,
          collection: name,
          documents: state?.documents.length,
          requests: waiters.length,
        });
        for (const w of waiters) w.resolve();
      } catch (err) {
        this.log.error('snapshot write failed', { db, collection: name, err });
        const wrapped = new PlatformError(
          'unavailable',
          `could not persist ${db}.${name} to ${this.pathOf(db, name)}: ${(err as Error).message}`,
          { cause: err },
        );
        for (const w of waiters) w.reject(wrapped);
      }
    }
    entry.running = false;
    this.pending.delete(key);
    if (this.pending.size === 0) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
  }

  get manifestPath(): string {
    return join(this.dir, MANIFEST_FILE);
  }

  /** Writes the listed collections as they are when the write starts (after any write in progress). */
  private writeManifest(): Promise<void> {
    const next = this.manifestWrites.then(() =>
      this.writeAtomic(this.dir, this.manifestPath, encodeManifest(this.listed.values())),
    );
    this.manifestWrites = next.catch(() => undefined);
    return next;
  }

  private async writeAtomic(dbDir: string, target: string, bytes: Buffer): Promise<void> {
    const created = await mkdir(dbDir, { recursive: true });
    if (created) await fsyncDir(this.dir);
    const temp = `${target}${TEMP_MARK}${process.pid}-${++this.tempCounter}`;
    const fh = await open(temp, 'w', 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await fsyncDir(dbDir);
  }

  private async remove(db: string, target: string): Promise<void> {
    try {
      await unlink(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsyncDir(join(this.dir, encodeURIComponent(db)));
  }

  /**
   * Reads every snapshot under the data directory, removing temporary files left by an
   * interrupted write. A snapshot that cannot be read stops the load with an error naming it.
   */
  async loadAll(): Promise<LoadedSnapshot[]> {
    await mkdir(this.dir, { recursive: true });
    const manifest = await this.readManifest();
    const out: LoadedSnapshot[] = [];
    for (const dbEntry of await readdir(this.dir, { withFileTypes: true })) {
      if (dbEntry.isFile() && dbEntry.name.startsWith(`${MANIFEST_FILE}${TEMP_MARK}`)) {
        await unlink(join(this.dir, dbEntry.name));
        continue;
      }
      if (!dbEntry.isDirectory()) continue;
      const dbDir = join(this.dir, dbEntry.name);
      for (const f of await readdir(dbDir, { withFileTypes: true })) {
        const file = join(dbDir, f.name);
        if (!f.isFile()) continue;
        if (f.name.includes(TEMP_MARK)) {
          await unlink(file);
          this.log.info('removed a temporary file left by an interrupted snapshot', { file });
          continue;
        }
        if (!f.name.endsWith(SUFFIX)) {
          this.log.warn('ignoring a file that is not a snapshot', { file });
          continue;
        }
        out.push({ ...(await this.loadFile(file)), file });
      }
    }
    const found = new Set(out.map((s) => `${s.db}\0${s.name}`));
    const missing = (manifest ?? []).filter((e) => !found.has(`${e.db}\0${e.name}`));
    if (missing.length)
      throw missingSnapshots(
        missing.map((e) => this.pathOf(e.db, e.name)),
        this.manifestPath,
      );
    this.listed.clear();
    for (const s of out) this.listed.set(`${s.db}\0${s.name}`, { db: s.db, name: s.name });
    const unlisted = out.filter((s) => !manifest?.some((e) => e.db === s.db && e.name === s.name));
    if (manifest === undefined || unlisted.length) {
      if (manifest !== undefined)
        this.log.info('listed snapshot files the manifest did not name yet', {
          files: unlisted.map((s) => s.file).join(', '),
        });
      await this.writeManifest();
    }
    return out;
  }

  /** The manifest's entries; undefined when there is none yet (a new store, or one from before manifests). */
  private async readManifest(): Promise<ManifestEntry[] | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.manifestPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return decodeManifest(bytes);
    } catch (err) {
      throw new PlatformError(
        'internal',
        `store manifest ${this.manifestPath} is unreadable: ${(err as Error).message}. Nothing was loaded; restore it from a backup, or move it away to rebuild it from the snapshot files present (a collection whose file is also gone is then not noticed)`,
        { cause: err, details: { file: this.manifestPath } },
      );
    }
  }

  private async loadFile(file: string): Promise<Snapshot> {
    try {
      return decodeSnapshot(await readFile(file));
    } catch (err) {
      throw corruptSnapshot(file, err);
    }
  }
}

export function corruptSnapshot(file: string, err: unknown): PlatformError {
  return new PlatformError(
    'internal',
    `store snapshot ${file} is unreadable: ${(err as Error).message}. Nothing was loaded; restore the file from a backup or move it away to start without that collection`,
    { cause: err, details: { file } },
  );
}

export function missingSnapshots(files: string[], manifest: string): PlatformError {
  return new PlatformError(
    'internal',
    `store snapshot${files.length > 1 ? 's' : ''} ${files.join(', ')} ${files.length > 1 ? 'are' : 'is'} missing: the manifest ${manifest} lists ${files.length > 1 ? 'those collections' : 'that collection'}. Nothing was loaded; ` +
      `restore the file${files.length > 1 ? 's' : ''} from a backup, or, to start without ${files.length > 1 ? 'those collections' : 'that collection'} (its documents are lost), remove ${files.length > 1 ? 'their entries' : 'its entry'} from the manifest`,
    { details: { files, manifest } },
  );
}
