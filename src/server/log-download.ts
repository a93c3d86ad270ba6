import { runLogsAfter } from '../db/runs.ts';
import type { Pool } from '../db/pool.ts';

// A run's whole log as a text file, one line of text per line. Paged from the database into the
// response: a large log never sits in memory whole. Both download routes answer with this.

const DOWNLOAD_PAGE = 5000;

export function logDownloadResponse(pool: Pool, runId: number): Response {
  const encoder = new TextEncoder();
  let after = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const lines = await runLogsAfter(pool, runId, after, DOWNLOAD_PAGE);
      for (const line of lines) controller.enqueue(encoder.encode(line.text + '\n'));
      if (lines.length < DOWNLOAD_PAGE) controller.close();
      else after = lines.at(-1)!.seq;
    },
  });
  return new Response(body, {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'content-disposition': `attachment; filename="run-${runId}.log"` },
  });
}
