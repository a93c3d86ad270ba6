import { PageHeader } from '../components/ui.tsx';

export function SecretsPage() {
  return <PageHeader title="SecretsPage" subtitle="Not built yet" />;
}
