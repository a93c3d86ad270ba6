import { PageHeader } from '../components/ui.tsx';

export function DashboardPage() {
  return <PageHeader title="DashboardPage" subtitle="Not built yet" />;
}
