/**
 * Handshake, diagnostics and session commands: what a driver asks a standalone server.
 */
import os from 'node:os';
import { Long, type Document } from 'bson';
import { VERSION } from '../../../version.ts';
import { CommandError } from '../command-error.ts';
import type { CommandContext, CommandTable } from './context.ts';

/** Reported server version and wire versions (MongoDB 7.0: wire 21; driver 7 needs >= 9). */
export const SERVER_VERSION = '7.0.0';
export const MIN_WIRE_VERSION = 0;
export const MAX_WIRE_VERSION = 21;
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;
export const SESSION_TIMEOUT_MINUTES = 30;

function hello(cmd: Document, ctx: CommandContext): Document {
  return {
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(ctx.server.now()),
    logicalSessionTimeoutMinutes: SESSION_TIMEOUT_MINUTES,
    connectionId: ctx.connectionId,
    minWireVersion: MIN_WIRE_VERSION,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}

function buildInfo(): Document {
  const [major, minor, patch] = SERVER_VERSION.split('.').map(Number);
  return {
    version: SERVER_VERSION,
    gitVersion: `fastgshare-embedded-${VERSION}`,
    versionArray: [major, minor, patch, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['fastgshare-embedded'],
    javascriptEngine: 'none',
    modules: [],
    ok: 1,
  };
}

const PARAMETERS: Record<string, unknown> = {
  featureCompatibilityVersion: { version: '7.0' },
  authenticationMechanisms: [],
  maxBSONDepth: 100,
  cursorTimeoutMillis: 600_000,
};

function getParameter(cmd: Document): Document {
  const out: Document = {};
  const all = cmd.getParameter === '*' || (typeof cmd.getParameter === 'object' && cmd.getParameter?.allParameters);
  for (const [name, value] of Object.entries(PARAMETERS)) if (all || name in cmd) out[name] = value;
  if (!all && Object.keys(out).length === 0) {
    throw new CommandError(
      'InvalidOptions',
      `no option found to get; known parameters: ${Object.keys(PARAMETERS).join(', ')}`,
    );
  }
  return { ...out, ok: 1 };
}

function hostInfo(_cmd: Document, ctx: CommandContext): Document {
  return {
    system: {
      currentTime: new Date(ctx.server.now()),
      hostname: os.hostname(),
      cpuAddrSize: 64,
      memSizeMB: Math.round(os.totalmem() / 1024 / 1024),
      numCores: os.cpus().length,
      cpuArch: os.arch(),
    },
    os: { type: os.type(), name: os.platform(), version: os.release() },
    extra: {},
    ok: 1,
  };
}

function serverStatus(_cmd: Document, ctx: CommandContext): Document {
  const now = ctx.server.now();
  const mem = process.memoryUsage();
  return {
    host: `${os.hostname()}:${ctx.server.port}`,
    version: SERVER_VERSION,
    process: 'fastgshare-embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor((now - ctx.server.startedAt) / 1000),
    uptimeMillis: Long.fromNumber(now - ctx.server.startedAt),
    localTime: new Date(now),
    connections: { ...ctx.server.connections(), available: 1_000_000 },
    opcounters: { ...ctx.server.opcounters },
    mem: { bits: 64, resident: Math.round(mem.rss / 1024 / 1024), virtual: Math.round(mem.heapTotal / 1024 / 1024) },
    metrics: { cursor: { open: { total: Long.fromNumber(ctx.cursors.size) } } },
    storageEngine: { name: 'fastgshare-embedded', persistent: true, dbPath: ctx.server.dataDir },
    ok: 1,
  };
}

function listDatabases(cmd: Document, ctx: CommandContext): Document {
  const databases = ctx.catalog.databases().map((name) => {
    const colls = ctx.catalog.collections(name);
    const docs = colls.reduce((n, c) => n + c.count, 0);
    return { name, sizeOnDisk: docs, empty: docs === 0 };
  });
  if (cmd.nameOnly) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  return { databases, totalSize: databases.reduce((n, d) => n + d.sizeOnDisk, 0), totalSizeMb: 0, ok: 1 };
}

const ok = (): Document => ({ ok: 1 });

export const adminCommands: CommandTable = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  hostInfo,
  serverStatus,
  endSessions: ok,
  killSessions: ok,
  killAllSessions: ok,
  refreshSessions: ok,
  listDatabases,
  whatsmyuri: (_cmd, ctx) => ({ you: `connection ${ctx.connectionId}`, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  getLastError: () => ({ err: null, n: 0, ok: 1 }),
};
