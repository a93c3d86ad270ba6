import { PageHeader } from '../components/ui.tsx';

export function NewJobPage() {
  return <PageHeader title="NewJobPage" subtitle="Not built yet" />;
}
