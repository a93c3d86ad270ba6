import { PageHeader } from '../components/ui.tsx';

export function AuditPage() {
  return <PageHeader title="AuditPage" subtitle="Not built yet" />;
}
