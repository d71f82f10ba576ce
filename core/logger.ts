/**
 * A small levelled logger, injected everywhere (never a global). Lines are written as
 * `time level [component] message key=value`; tests pass a `CaptureSink` to read them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  time: Date;
  level: LogLevel;
  component: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface LogSink {
  write(record: LogRecord): void;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export function formatRecord(r: LogRecord): string {
  const extra = Object.entries(r.fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `${r.time.toISOString()} ${r.level.toUpperCase().padEnd(5)} [${r.component}] ${r.message}${extra ? ' ' + extra : ''}`;
}

export const stderrSink: LogSink = {
  write(record) {
    process.stderr.write(formatRecord(record) + '\n');
  },
};

/** Keeps records in memory; for tests. */
export class CaptureSink implements LogSink {
  readonly records: LogRecord[] = [];
  write(record: LogRecord): void {
    this.records.push(record);
  }
  lines(): string[] {
    return this.records.map(formatRecord);
  }
}

export function createLogger(options: { level?: LogLevel; sink?: LogSink; component?: string } = {}): Logger {
  const level = options.level ?? 'info';
  const sink = options.sink ?? stderrSink;
  const make = (component: string): Logger => {
    const emit = (l: LogLevel, message: string, fields?: Record<string, unknown>) => {
      if (ORDER[l] < ORDER[level]) return;
      sink.write({ time: new Date(), level: l, component, message, fields: fields ?? {} });
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (c) => make(component ? `${component}/${c}` : c),
    };
  };
  return make(options.component ?? 'fastgshare');
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger({ sink: { write() {} } });
