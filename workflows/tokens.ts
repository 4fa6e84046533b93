// Idempotency tokens for Flink calls, computed in workflow code so that a retried activity (or a
// worker that replays the workflow after a restart) sends the very same token again.
import { workflowInfo } from '@temporalio/workflow';

/**
 * cyrb128: a small non-cryptographic 128-bit string hash, as 32 lowercase hex characters (the
 * shape of a Flink TriggerId / JobID). Deterministic and free of Node built-ins.
 */
export function hash128(text: string): string {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
}

/**
 * The token for one step of this run: the same on every attempt and replay of the step, different
 * for another step, another run (a reset starts afresh) and another workflow.
 */
export function stepToken(step: string): string {
  const { workflowId, runId } = workflowInfo();
  return hash128(`${workflowId}/${runId}/${step}`);
}
