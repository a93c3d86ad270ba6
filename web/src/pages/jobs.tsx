import { PageHeader } from '../components/ui.tsx';

export function JobsPage() {
  return <PageHeader title="JobsPage" subtitle="Not built yet" />;
}
