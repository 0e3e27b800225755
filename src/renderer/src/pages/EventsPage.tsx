import { NotYetPage } from '../components/Page';

export function EventsPage() {
  return (
    <NotYetPage id="events" title="Events & Logs">
      Event history and log tails are not served by the API yet: each service’s output goes to its log file in
      the data directory, and appears here once the API can read it.
    </NotYetPage>
  );
}
