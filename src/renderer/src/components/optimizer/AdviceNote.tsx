import type { Advice } from '../../../../shared/optimizer-ui/advice';
import { hrefFor } from '../../lib/route';

const pageNames = {
  dashboard: 'Dashboard',
  services: 'Services',
  market: 'Market',
  optimizer: 'Optimizer',
  trader: 'Trader',
  events: 'Events',
  settings: 'Settings',
} as const;

/** What to do next, with a link to the page that helps. */
export function AdviceNote({ advice, testId }: { advice: Advice | null; testId: string }) {
  if (!advice) return null;
  return (
    <p className="opt-advice" data-testid={testId}>
      {advice.text}
      {advice.page && (
        <>
          {' '}
          <a href={hrefFor(advice.page)}>Open {pageNames[advice.page]}</a>
        </>
      )}
    </p>
  );
}
