/**
 * One client connection: frames the byte stream, decodes each request, runs it through the
 * dispatcher in arrival order and writes the reply. A client that sends something that is
 * not the wire protocol is logged and disconnected; other connections are unaffected.
 */
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import type { Logger } from '../../logger.ts';
import { CommandError } from './command-error.ts';
import type { Dispatcher } from './dispatcher.ts';
import { FramingError, MessageFramer } from './wire/framer.ts';
import {
  decodeRequest,
  encodeMsgReply,
  encodeOpReply,
  ProtocolError,
  REPLY_QUERY_FAILURE,
  type QueryRequest,
} from './wire/messages.ts';

/** Commands a driver may still send with legacy OP_QUERY (the connection handshake). */
const OP_QUERY_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

export interface ConnectionDeps {
  dispatcher: Dispatcher;
  log: Logger;
  connectionId: number;
  /** Next requestID for a reply, shared by the whole server. */
  nextRequestId(): number;
}

export function serveConnection(socket: Socket, deps: ConnectionDeps): { done: Promise<void> } {
  const { log, connectionId } = deps;
  const framer = new MessageFramer();
  let tail: Promise<void> = Promise.resolve();
  let dropped = false;

  const drop = (reason: string, err?: unknown) => {
    if (dropped) return;
    dropped = true;
    log.warn('closing connection: not a valid wire-protocol stream', {
      connection: connectionId,
      remote: socket.remoteAddress,
      reason,
      error: err instanceof Error ? err.message : undefined,
    });
    socket.destroy();
  };

  const send = (bytes: Buffer) => {
    if (!dropped && socket.writable) socket.write(bytes);
  };

  const handle = async (message: Buffer) => {
    if (dropped) return;
    let request;
    try {
      request = decodeRequest(message);
    } catch (err) {
      drop(err instanceof ProtocolError ? err.message : 'undecodable message', err);
      return;
    }
    if (request.kind === 'msg') {
      const reply = await deps.dispatcher.run(request.command, connectionId);
      if (!request.moreToCome) send(encodeMsgReply(deps.nextRequestId(), request.header.requestId, reply));
      return;
    }
    const { reply, failed } = await runLegacyQuery(request);
    send(encodeOpReply(deps.nextRequestId(), request.header.requestId, reply, failed ? REPLY_QUERY_FAILURE : 0));
  };

  const runLegacyQuery = async (request: QueryRequest): Promise<{ reply: Document; failed: boolean }> => {
    const dot = request.fullCollectionName.indexOf('.');
    const db = request.fullCollectionName.slice(0, dot);
    if (dot <= 0 || request.fullCollectionName.slice(dot + 1) !== '$cmd') {
      const err = new CommandError(
        'UnsupportedOpQueryCommand',
        `legacy OP_QUERY on ${request.fullCollectionName} is not supported; use OP_MSG`,
      );
      return { reply: { $err: err.message, ...err.toResponse() }, failed: true };
    }
    const query = (request.query.$query ?? request.query) as Document;
    const name = Object.keys(query)[0];
    if (!OP_QUERY_COMMANDS.has(name)) {
      const err = new CommandError(
        'UnsupportedOpQueryCommand',
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`,
      );
      return { reply: err.toResponse(), failed: false };
    }
    return { reply: await deps.dispatcher.run({ ...query, $db: db }, connectionId), failed: false };
  };

  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    if (dropped) return;
    let messages: Buffer[];
    try {
      messages = framer.push(chunk);
    } catch (err) {
      drop(err instanceof FramingError ? err.message : 'framing failed', err);
      return;
    }
    for (const m of messages) {
      tail = tail
        .then(() => handle(m))
        .catch((err) => {
          log.error('request failed', { connection: connectionId, err });
          drop('internal error while serving the request', err);
        });
    }
  });

  const done = new Promise<void>((resolve) => {
    socket.on('close', () => {
      if (!dropped && framer.pending > 0)
        log.debug('client left in the middle of a message', { connection: connectionId, bytes: framer.pending });
      log.debug('connection closed', { connection: connectionId });
      void tail.finally(resolve);
    });
  });
  socket.on('error', (err) => log.debug('connection error', { connection: connectionId, err }));
  return { done };
}
