import { PageHeader } from '../components/ui.tsx';

export function HostsPage() {
  return <PageHeader title="HostsPage" subtitle="Not built yet" />;
}
