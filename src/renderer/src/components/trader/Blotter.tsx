/**
 * The fills blotter and the order history, newest first, a page at a time (Older reads the next
 * page). The newest page is read again when the trader's counters say something new happened (from
 * its snapshots, so by event, not by polling), merged over the older pages shown.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { TraderFill, TraderOrder, TraderPage } from '../../../../shared/trader-api';
import {
  formatMoney,
  formatPrice,
  formatQty,
  formatSignedMoney,
  orderStatusWords,
  pnlTone,
} from '../../../../shared/trader-ui/format';
import { appendOlder, emptyList, mergeNewest, type PagedList } from '../../../../shared/trader-ui/pages';
import { useApi } from '../../connection-context';
import { formatTimestamp } from '../../lib/format';
import { useConnectionStore } from '../../stores/connection';
import { ErrorNote } from '../ErrorNote';

const PAGE = 25;

type Reply<T> = { ok: true; result: TraderPage<T> } | { ok: false; error: ApiErrorShape };

function usePagedList<T>(
  read: (before: number | undefined) => Promise<Reply<T>>,
  /** Changes when the list has new rows. */
  key: string,
): {
  list: PagedList<T>;
  error: ApiErrorShape | null;
  loaded: boolean;
  loadingOlder: boolean;
  older: () => void;
} {
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [list, setList] = useState<PagedList<T>>(emptyList);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const next = list.next;
  useEffect(() => {
    if (!connected) return;
    let live = true;
    void read(undefined).then((r) => {
      if (!live) return;
      if (r.ok) {
        setList((shown) => mergeNewest(shown, r.result));
        setError(null);
      } else setError(r.error);
      setLoaded(true);
    });
    return () => {
      live = false;
    };
  }, [read, key, connected]);
  const older = useCallback(() => {
    const before = next;
    if (before === null) return;
    setLoadingOlder(true);
    void read(before).then((r) => {
      setLoadingOlder(false);
      if (r.ok) setList((shown) => appendOlder(shown, r.result));
      else setError(r.error);
    });
  }, [read, next]);
  return { list, error, loaded, loadingOlder, older };
}

function Paged<T>({
  title,
  testId,
  list,
  error,
  loaded,
  loadingOlder,
  older,
  empty,
  head,
  row,
}: {
  title: string;
  testId: string;
  list: PagedList<T>;
  error: ApiErrorShape | null;
  loaded: boolean;
  loadingOlder: boolean;
  older: () => void;
  empty: string;
  head: ReactNode;
  row: (item: T & { seq: number }) => ReactNode;
}) {
  const titleId = `${testId}-title`;
  return (
    <section
      className="panel trader-blotter"
      data-testid={testId}
      data-count={list.items.length}
      aria-labelledby={titleId}
    >
      <h2 id={titleId} className="section-title">
        {title}
      </h2>
      {error && <ErrorNote error={error} testId={`${testId}-error`} />}
      {!loaded ? (
        <p className="muted">Reading…</p>
      ) : list.items.length === 0 ? (
        <p className="muted trader-none" data-testid={`${testId}-none`}>
          {empty}
        </p>
      ) : (
        <>
          <div className="table-wrap trader-blotter-scroll">
            <table className="table">
              <thead>{head}</thead>
              <tbody>{list.items.map(row)}</tbody>
            </table>
          </div>
          <div className="trader-blotter-foot">
            <span className="muted">
              {list.items.length.toLocaleString('en')} shown
              {list.next === null ? ', the oldest included' : ''}
            </span>
            {list.next !== null && (
              <button
                type="button"
                className="btn btn-small"
                onClick={older}
                disabled={loadingOlder}
                data-testid={`${testId}-older`}
              >
                {loadingOlder ? 'Reading…' : `Older ${title.toLowerCase()}`}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}

export function FillsBlotter({ name, fills }: { name: string; fills: number }) {
  const api = useApi();
  const read = useCallback(
    (before: number | undefined) =>
      api.trader.fills(before === undefined ? { name, limit: PAGE } : { name, before, limit: PAGE }),
    [api, name],
  );
  const paged = usePagedList<TraderFill>(read, String(fills));
  return (
    <Paged
      {...paged}
      title="Fills"
      testId="trader-fills"
      empty="No fills yet."
      head={
        <tr>
          <th scope="col">time</th>
          <th scope="col">symbol</th>
          <th scope="col">side</th>
          <th scope="col" className="num">
            qty
          </th>
          <th scope="col" className="num">
            price
          </th>
          <th scope="col" className="num">
            notional
          </th>
          <th scope="col" className="num">
            fee
          </th>
          <th scope="col" className="num">
            realized
          </th>
          <th scope="col">order</th>
        </tr>
      }
      row={(f) => (
        <tr key={f.seq} data-testid="trader-fill" data-seq={f.seq} data-side={f.side}>
          <td className="trader-time">{formatTimestamp(f.ts)}</td>
          <td className="name">{f.symbol}</td>
          <td className="trader-side" data-side={f.side}>
            {f.side}
          </td>
          <td className="num">{formatQty(f.qty)}</td>
          <td className="num">{formatPrice(f.price)}</td>
          <td className="num">{formatMoney(f.qty * f.price)}</td>
          <td className="num">{formatMoney(f.fee, 4)}</td>
          <td className="num">
            {f.realizedPnl === 0 ? (
              <span className="muted">—</span>
            ) : (
              <span className="pnl" data-tone={pnlTone(f.realizedPnl)}>
                {formatSignedMoney(f.realizedPnl)}
              </span>
            )}
          </td>
          <td className="mono muted">{f.clientOrderId}</td>
        </tr>
      )}
    />
  );
}

export function OrdersHistory({ name, changes }: { name: string; changes: string }) {
  const api = useApi();
  const read = useCallback(
    (before: number | undefined) =>
      api.trader.orders(before === undefined ? { name, limit: PAGE } : { name, before, limit: PAGE }),
    [api, name],
  );
  const paged = usePagedList<TraderOrder>(read, changes);
  return (
    <Paged
      {...paged}
      title="Orders"
      testId="trader-orders"
      empty="No orders yet."
      head={
        <tr>
          <th scope="col">sent</th>
          <th scope="col">order</th>
          <th scope="col">symbol</th>
          <th scope="col">side</th>
          <th scope="col" className="num">
            qty
          </th>
          <th scope="col" className="num">
            filled at
          </th>
          <th scope="col">status</th>
          <th scope="col">why</th>
        </tr>
      }
      row={(o) => (
        <tr key={o.seq} data-testid="trader-order" data-seq={o.seq} data-status={o.status}>
          <td className="trader-time">{formatTimestamp(o.createdAt)}</td>
          <td className="mono">{o.clientOrderId}</td>
          <td className="name">{o.symbol}</td>
          <td className="trader-side" data-side={o.side}>
            {o.side}
            {o.reduceOnly && <span className="muted"> (reduce only)</span>}
          </td>
          <td className="num">{formatQty(o.qty)}</td>
          <td className="num">{formatPrice(o.avgFillPrice)}</td>
          <td className={o.status === 'rejected' ? 'text-bad' : undefined}>{orderStatusWords[o.status]}</td>
          <td className="reason" title={o.reason}>
            {o.reason}
          </td>
        </tr>
      )}
    />
  );
}
