/**
 * The recent log lines of one function (all its replicas), newest last, bounded to `capacity`
 * lines, with listeners for `follow`.
 */
import type { LogMessage } from '../../core/contracts/openfaas.ts';

export interface LogFilter {
  instance?: string;
  since?: Date;
  /** Last N matching lines; undefined or negative = all kept. */
  tail?: number;
}

export type LogListener = (line: LogMessage) => void;

export class FunctionLog {
  private lines: LogMessage[] = [];
  private start = 0;
  private readonly listeners = new Set<LogListener>();

  constructor(private readonly capacity: number) {}

  push(line: LogMessage): void {
    this.lines.push(line);
    if (this.lines.length - this.start > this.capacity) this.start++;
    // compact now and then instead of shifting on every line
    if (this.start > 1024 && this.start > this.lines.length / 2) {
      this.lines = this.lines.slice(this.start);
      this.start = 0;
    }
    for (const l of this.listeners) l(line);
  }

  query(filter: LogFilter): LogMessage[] {
    const sinceMs = filter.since?.getTime();
    const out: LogMessage[] = [];
    for (let i = this.start; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      if (filter.instance !== undefined && l.instance !== filter.instance) continue;
      if (sinceMs !== undefined && Date.parse(l.timestamp) < sinceMs) continue;
      out.push(l);
    }
    if (filter.tail !== undefined && filter.tail >= 0) return filter.tail === 0 ? [] : out.slice(-filter.tail);
    return out;
  }

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listeners currently following. */
  get followers(): number {
    return this.listeners.size;
  }

  get size(): number {
    return this.lines.length - this.start;
  }
}
