import type { OptimizerRunStatus } from '../../../../shared/optimizer-api';
import { statusTone } from '../../../../shared/optimizer-ui/results';

/** A run's status in its colour; running pulses like a service in transition. */
export function RunStatus({ status, testId }: { status: OptimizerRunStatus; testId?: string }) {
  return (
    <span className="state" data-tone={statusTone[status]} data-status={status} data-testid={testId}>
      <i className="dot" aria-hidden="true" />
      {status}
    </span>
  );
}
