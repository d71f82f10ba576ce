/**
 * The routes every replica serves on its port, whichever template built it (the node-http
 * watchdog, which the onnx-node runtime reuses, declares the same values itself so that the
 * template stays self-contained; test/templates/forward-token.test.ts holds them equal):
 *   GET /_/health   200 when the replica can serve; 503 with a reason while it cannot or drains
 *   GET /_/sample   a representative request body with its content type (what the profiler loads
 *                   a replica with when given no input); 404 when the function has none
 * Every request, these included, carries the replica's forward token in FORWARD_TOKEN_HEADER
 * (core/contracts/node-agent.ts), else 403.
 */
export const HEALTH_PATH = '/_/health';
export const SAMPLE_PATH = '/_/sample';
