import { NotYetPage } from '../components/Page';

export function TraderPage() {
  return (
    <NotYetPage id="trader" title="Trader">
      No trader is configured yet: positions, orders and fills appear here once a trader service exists, and
      only you can start it.
    </NotYetPage>
  );
}
