import { NotYetPage } from '../components/Page';

export function OptimizerPage() {
  return (
    <NotYetPage id="optimizer" title="Optimizer">
      No optimizer is configured yet: optimization runs and their results appear here once the optimizer
      service exists.
    </NotYetPage>
  );
}
