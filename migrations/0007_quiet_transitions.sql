-- 0007_quiet_transitions: run status changes no longer NOTIFY hostrun_events.
--
-- PostgreSQL serialises every transaction that has called NOTIFY, cluster-wide: at commit it
-- takes one global lock (so the notification queue stays in commit order) and holds it until
-- the commit record is flushed to disk. Notifying transactions therefore commit one at a
-- time, each paying a whole WAL flush, and no group commit can share it. Measured on the
-- benchmark machine with pgbench, 8 clients each inserting one row: 3,052–12,521 TPS without
-- NOTIFY, 368–744 TPS with a NOTIFY in the same transaction. Every claim, start and
-- completion of the queue notified `hostrun_events`, so the workers' commits and every
-- enqueue queued behind each other on that lock (scenario C's collapse at 1,000 runs/s).
--
-- Who needs to hear of a status change is the API server's live feed (SSE streams, the web
-- UI), and only while someone watches. It now polls the run_events sequence instead (one
-- read of a sequence every 100 ms while a stream is open, src/server/run-feed.ts). What
-- still notifies is what wakes a sleeping process and is rare against the work it causes:
-- `hostrun_queue` when runs become queued (enqueue, retry, release), `hostrun_cancel`,
-- `hostrun_schedules`, and `hostrun_logs`.

-- name: runs_record_insert (trigger)
-- As in 0002_queue.sql, without the hostrun_events NOTIFY.
CREATE OR REPLACE FUNCTION runs_record_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, message)
  SELECT n.id, n.project_id, n.attempt, NULL, n.status, n.worker_id, NULL FROM new_runs n;
  IF EXISTS (SELECT 1 FROM new_runs WHERE status = 'queued') THEN
    PERFORM pg_notify('hostrun_queue', '');
  END IF;
  RETURN NULL;
END
$$;

-- runs_record_update loses its NOTIFY in 0010_compound_transitions.sql, which redefines it anyway.
