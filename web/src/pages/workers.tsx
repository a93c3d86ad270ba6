import { PageHeader } from '../components/ui.tsx';

export function WorkersPage() {
  return <PageHeader title="WorkersPage" subtitle="Not built yet" />;
}
