-- 0011_queue_autovacuum: vacuum the queue's churned tables when little of them is dead.
--
-- Every run is written two to three times (enqueue, claim, outcome), and each write leaves a
-- dead row version behind; a queue that runs all day churns through its hot rows far faster
-- than its history grows. PostgreSQL's defaults wait for 20 % of a table to be dead before
-- vacuuming it: with a million runs of history that is 200,000 dead versions and the partial
-- queue indexes bloated with them. These thresholds vacuum `runs` and `run_steps` after ~1,000
-- dead versions plus 1 % of the table, without the cost-based pauses (the tables are narrow
-- and the work is short). They only take effect where autovacuum runs (it is on by default).
ALTER TABLE runs SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
                      autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE run_steps SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
                           autovacuum_vacuum_cost_delay = 0);
