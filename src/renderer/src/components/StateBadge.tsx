import type { ServiceState } from '../../../shared/services';
import { stateTone } from '../lib/service-state';

export function StateBadge({ state, testId }: { state: ServiceState; testId?: string }) {
  return (
    <span className="state" data-tone={stateTone[state]} data-state={state} data-testid={testId}>
      <i className="dot" aria-hidden="true" />
      {state}
    </span>
  );
}
