import { PageHeader } from '../components/ui.tsx';

export function RunsPage() {
  return <PageHeader title="RunsPage" subtitle="Not built yet" />;
}
