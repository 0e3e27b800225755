import { NotYetPage } from '../components/Page';

export function MarketPage() {
  return (
    <NotYetPage id="market" title="Market">
      No collectors are configured yet: market data health (streams, freshness, gaps) appears here once
      collectors run.
    </NotYetPage>
  );
}
