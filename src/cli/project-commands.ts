import type { Command } from 'commander';
import { apiClientFromEnv } from './api-client.ts';
import { ago, printJson, printTable } from './output.ts';

// hostrun project create SLUG [--name N] | project list

interface Project {
  id: string;
  slug: string;
  name: string;
  role: string;
  created_at: string;
}

export function registerProjectCommands(program: Command): void {
  const project = program.command('project').description('projects: every job, run, host and secret belongs to one');

  project
    .command('create <slug>')
    .description('create a project (you become its owner)')
    .option('--name <name>', 'display name (default: the slug)')
    .option('--json', 'print JSON')
    .action(async (slug: string, opts: { name?: string; json?: boolean }) => {
      const { project: p } = await apiClientFromEnv().post<{ project: Project }>('/api/v1/projects', { slug, ...(opts.name ? { name: opts.name } : {}) });
      if (opts.json) return printJson(p);
      process.stdout.write(`project ${p.slug} created; use it with --project ${p.slug} (or HOSTRUN_PROJECT=${p.slug})\n`);
    });

  project
    .command('list')
    .alias('ls')
    .description('the projects you can see, with your role')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { projects } = await apiClientFromEnv().get<{ projects: Project[] }>('/api/v1/projects');
      if (opts.json) return printJson(projects);
      printTable(projects, [
        { header: 'SLUG', value: (p) => p.slug },
        { header: 'NAME', value: (p) => p.name },
        { header: 'ROLE', value: (p) => p.role },
        { header: 'CREATED', value: (p) => ago(p.created_at) },
      ]);
    });
}
