import type { HandlerContext, HandlerEvent, HandlerResult } from '../runtime/types.ts';

/**
 * Called once per request. Return { status?, headers?, body? }: a string is sent as text,
 * a Buffer as bytes, anything else as JSON. Throwing answers 500 with the error's message.
 */
export default async function handle(event: HandlerEvent, context: HandlerContext): Promise<HandlerResult> {
  return {
    status: 200,
    body: { message: `Hello from ${context.functionName}`, method: event.method, received: event.body.length },
  };
}
