// How Flink's error bodies become the one line a person reads. The body below is what Flink 1.20's
// GET /jobs/:jobid/status answered for an unknown job (trace shortened).
import { describe, expect, it } from 'vitest';
import { rootCause, summarizeServerError } from '../../activities/http';

const UNKNOWN_JOB = JSON.stringify({
  errors: [
    'Internal server error.',
    '<Exception on server side:\norg.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job ' +
      '(00000000000000000000000000000000)\n\tat org.apache.flink.runtime.dispatcher.Dispatcher.lambda$requestJobStatus$20(Dispatcher.java:903)\n' +
      '\tat java.base/java.util.Optional.orElseGet(Optional.java:364)\n\nEnd of exception on server side>',
  ],
});

describe('server errors', () => {
  it('a trace wrapped as "<Exception on server side:" gives its exception and message', () => {
    expect(summarizeServerError(UNKNOWN_JOB)).toBe('FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)');
  });

  it('the deepest "Caused by:" wins', () => {
    const trace = 'java.util.concurrent.CompletionException: wrapped\n\tat a.b(C.java:1)\nCaused by: java.io.IOException: disk full\n\tat d.e(F.java:2)';
    expect(rootCause(trace)).toBe('IOException: disk full');
  });

  it('a body that is not Flink JSON is shown as it is', () => {
    expect(summarizeServerError('<html>Bad Gateway</html>')).toBe('<html>Bad Gateway</html>');
    expect(summarizeServerError('')).toBe('(empty body)');
  });
});
