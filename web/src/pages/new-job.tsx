import { Link, useNavigate } from 'react-router';
import { useSession } from '../app/session.tsx';
import { JobSpecEditor } from '../components/job-spec-editor.tsx';
import { Card, Code, EmptyState, PageHeader } from '../components/ui.tsx';

// /jobs/new: a job written (or pasted: JSON is YAML too) in the editor, checked while typing,
// created with its first version.

const STARTER = `name: my-job
description: What this job does, for whoever reads the list
runs-on: local
inputs:
  target:
    default: world
    description: Who to greet
steps:
  - name: Say hello
    run: echo "Hello, \${{ inputs.target }}"
# on:
#   schedule:
#     - cron: "0 * * * *"
#       timezone: Europe/Berlin
`;

export function NewJobPage() {
  const { can } = useSession();
  const navigate = useNavigate();
  if (!can('developer')) {
    return (
      <>
        <PageHeader title="New job" />
        <EmptyState title="Only developers can create jobs" action={<Link to="/jobs" className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">Back to jobs</Link>}>
          Ask a project admin for the developer role.
        </EmptyState>
      </>
    );
  }
  return (
    <>
      <PageHeader
        title={
          <>
            <Link to="/jobs" className="font-normal text-slate-500 hover:underline dark:text-slate-400">
              Jobs
            </Link>
            <span className="px-2 font-normal text-slate-400" aria-hidden>
              /
            </span>
            New job
          </>
        }
        subtitle="Write the definition in YAML (or paste JSON); problems show at their line as you type."
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_18rem]">
        <JobSpecEditor initial={STARTER} onSaved={(r) => navigate(`/jobs/${encodeURIComponent(r.job.name)}`)} />
        <Card title="Writing a job" className="h-fit text-sm">
          <dl className="space-y-3 text-slate-600 dark:text-slate-300">
            <div>
              <dt className="font-medium text-slate-900 dark:text-slate-100">
                <Code>runs-on</Code>
              </dt>
              <dd>
                <Code>local</Code> (the worker&apos;s machine), a host name from Hosts, or <Code>{'{ labels: [...] }'}</Code>.
              </dd>
            </div>
            <div>
              <dt className="font-medium text-slate-900 dark:text-slate-100">
                <Code>inputs</Code>
              </dt>
              <dd>
                Each with <Code>default</Code>, <Code>type</Code> (string, number, boolean, choice), <Code>required</Code>, <Code>pattern</Code>. Use them as{' '}
                <Code>{'${{ inputs.name }}'}</Code>.
              </dd>
            </div>
            <div>
              <dt className="font-medium text-slate-900 dark:text-slate-100">
                <Code>on.schedule</Code>
              </dt>
              <dd>
                <Code>cron</Code> or <Code>every: 15m</Code>, with a <Code>timezone</Code>.
              </dd>
            </div>
            <div>
              <dt className="font-medium text-slate-900 dark:text-slate-100">
                <Code>steps</Code>
              </dt>
              <dd>
                Shell scripts (<Code>run</Code>) in order; a failing step stops the run.
              </dd>
            </div>
          </dl>
          <p className="mt-4 border-t border-slate-200 pt-3 text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400">
            Pasting JSON works too. From a terminal: <Code>hostrun job apply -f job.yaml</Code>
          </p>
        </Card>
      </div>
    </>
  );
}
