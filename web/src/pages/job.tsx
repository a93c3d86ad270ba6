import { PageHeader } from '../components/ui.tsx';

export function JobPage() {
  return <PageHeader title="JobPage" subtitle="Not built yet" />;
}
