-- 0005_fanout: runs-on: { labels: [...] } fans a run out to every matching host. The parent
-- run has no process of its own: it is created `running` (an insert, so no transition is
-- skipped) and ends when its last child does, with a status that summarises them.

-- name: runs_summarise_parents (trigger)
-- When children reach a terminal status, finish each parent whose children are all done:
-- succeeded if all succeeded, failed if any failed or timed out, else canceled.
-- The parent row is locked first: two children finishing in concurrent transactions then
-- take turns, and the second (whose statement starts after the first committed) sees both
-- children finished — without the lock each would see the other still running and neither
-- would finish the parent.
CREATE FUNCTION runs_summarise_parents() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parents bigint[];
BEGIN
  SELECT array_agg(DISTINCT n.parent_run_id ORDER BY n.parent_run_id) INTO parents
    FROM new_runs n
   WHERE n.parent_run_id IS NOT NULL AND n.status IN ('succeeded', 'failed', 'timed_out', 'canceled');
  IF parents IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM hostrun.runs p WHERE p.id = ANY (parents) ORDER BY p.id FOR UPDATE;

  UPDATE hostrun.runs p SET
    status = CASE WHEN s.failed > 0 THEN 'failed'::hostrun.run_status
                  WHEN s.canceled > 0 THEN 'canceled'::hostrun.run_status
                  ELSE 'succeeded'::hostrun.run_status END,
    finished_at = now(),
    exit_code = CASE WHEN s.failed > 0 THEN 1 WHEN s.canceled > 0 THEN NULL ELSE 0 END,
    error = CASE WHEN s.failed > 0 THEN format('%s of %s hosts failed: %s', s.failed, s.total, s.failed_targets)
                 WHEN s.canceled > 0 THEN format('%s of %s hosts canceled', s.canceled, s.total) END,
    outputs = s.children
    FROM (SELECT c.parent_run_id AS id,
                 count(*) AS total,
                 count(*) FILTER (WHERE c.status NOT IN ('succeeded', 'failed', 'timed_out', 'canceled')) AS open,
                 count(*) FILTER (WHERE c.status IN ('failed', 'timed_out')) AS failed,
                 count(*) FILTER (WHERE c.status = 'canceled') AS canceled,
                 string_agg(c.target, ', ' ORDER BY c.target) FILTER (WHERE c.status IN ('failed', 'timed_out')) AS failed_targets,
                 jsonb_object_agg(c.target, jsonb_build_object('run', c.id, 'status', c.status, 'exit_code', c.exit_code)) AS children
            FROM hostrun.runs c
           WHERE c.parent_run_id = ANY (parents)
           GROUP BY c.parent_run_id) s
   WHERE p.id = s.id AND s.open = 0 AND p.status = 'running';
  RETURN NULL;
END
$$;

CREATE TRIGGER runs_summarise_parents AFTER UPDATE ON runs
  REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION runs_summarise_parents();

-- name: cancel_run
-- As in 0002, and a parent's cancel reaches its children (queued ones at once, running ones
-- through their workers); the parent then ends as canceled with the last of them.
CREATE OR REPLACE FUNCTION cancel_run(p_id bigint, p_reason text DEFAULT 'canceled')
RETURNS run_status LANGUAGE plpgsql AS $$
DECLARE
  result hostrun.run_status;
BEGIN
  UPDATE hostrun.runs SET
    status = CASE WHEN status = 'queued' THEN 'canceled'::hostrun.run_status ELSE status END,
    finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
    error = CASE WHEN status = 'queued' THEN p_reason ELSE error END,
    cancel_requested_at = coalesce(cancel_requested_at, now())
   WHERE id = p_id AND status IN ('queued', 'claimed', 'running')
  RETURNING status INTO result;
  IF result IN ('claimed', 'running') THEN
    PERFORM pg_notify('hostrun_cancel', p_id::text);
    PERFORM hostrun.cancel_run(c.id, p_reason) FROM hostrun.runs c
     WHERE c.parent_run_id = p_id AND c.status IN ('queued', 'claimed', 'running')
     ORDER BY c.id;
  END IF;
  RETURN result;
END
$$;
