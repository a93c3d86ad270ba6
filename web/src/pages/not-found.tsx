import { PageHeader } from '../components/ui.tsx';

export function NotFoundPage() {
  return <PageHeader title="NotFoundPage" subtitle="Not built yet" />;
}
