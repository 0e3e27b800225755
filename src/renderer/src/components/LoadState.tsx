/** What a page that depends on the service list shows before it has one. */
import type { ReactNode } from 'react';
import { useServicesStore } from '../stores/services';
import { ErrorNote } from './ErrorNote';

export function ServicesLoaded({ children }: { children: ReactNode }) {
  const loaded = useServicesStore((s) => s.loaded);
  const error = useServicesStore((s) => s.error);
  const empty = useServicesStore((s) => s.names.length === 0);
  if (error && !loaded) return <ErrorNote error={error} testId="services-error" />;
  if (!loaded) return <p className="empty">Loading services…</p>;
  if (empty) return <p className="empty">No services are configured.</p>;
  return <>{children}</>;
}
