/**
 * Deribit message parsing: every message shape of reference/exchanges.md (B4 and its examples),
 * responses and errors, heartbeats, and malformed messages rejected with a reason, never a throw.
 */
import { describe, expect, it } from 'vitest';
import {
  currencyOf,
  dvolCurrencyOf,
  dvolRecord,
  parseMessage,
  parseVolatilityPage,
} from '../../src/services/collector/deribit/parse';
import {
  heartbeatIntervalSec,
  nextFundingTime,
} from '../../src/services/collector/deribit/deribit-collector';

const LOCAL = 1_767_225_601_600;

describe('Deribit notifications (the reference examples)', () => {
  it('book snapshot, then a change: levels as [price, amount], delete as amount 0', () => {
    const snapshot = parseMessage(
      '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"type":"snapshot","timestamp":1767225600100,"instrument_name":"BTC-PERPETUAL","change_id":7001000,"bids":[["new",95000.0,25000],["new",94999.5,12000]],"asks":[["new",95000.5,31000]]}}}',
      LOCAL,
    );
    expect(snapshot).toEqual({
      kind: 'book',
      instrument: 'BTC-PERPETUAL',
      event: {
        type: 'snapshot',
        changeId: 7001000,
        timestamp: 1767225600100,
        bids: [
          [95000, 25000],
          [94999.5, 12000],
        ],
        asks: [[95000.5, 31000]],
      },
    });
    const change = parseMessage(
      '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"type":"change","timestamp":1767225600200,"instrument_name":"BTC-PERPETUAL","prev_change_id":7001000,"change_id":7001003,"bids":[["change",95000.0,18000]],"asks":[["delete",95000.5,0],["new",95001.0,5000]]}}}',
      LOCAL,
    );
    expect(change).toEqual({
      kind: 'book',
      instrument: 'BTC-PERPETUAL',
      event: {
        type: 'change',
        changeId: 7001003,
        prevChangeId: 7001000,
        timestamp: 1767225600200,
        bids: [[95000, 18000]],
        asks: [
          [95000.5, 0],
          [95001, 5000],
        ],
      },
    });
  });

  it('a trade caused by liquidation: flagged, amount in USD as sent, trade_seq kept', () => {
    const m = parseMessage(
      '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.BTC-PERPETUAL.100ms","data":[{"trade_seq":182000451,"trade_id":"330000123","timestamp":1767225601500,"tick_direction":2,"price":94950.0,"mark_price":94960.12,"index_price":94975.40,"instrument_name":"BTC-PERPETUAL","direction":"sell","amount":2500.0,"liquidation":"M"},{"trade_seq":182000452,"trade_id":"330000124","timestamp":1767225601501,"tick_direction":3,"price":94950.0,"mark_price":94960.12,"index_price":94975.40,"instrument_name":"BTC-PERPETUAL","direction":"buy","amount":10.0}]}}',
      LOCAL,
    );
    expect(m).toEqual({
      kind: 'trades',
      instrument: 'BTC-PERPETUAL',
      trades: [
        {
          seq: 182000451,
          record: {
            venue: 'deribit',
            symbol: 'BTC-PERPETUAL',
            exchangeTs: 1767225601500,
            localTs: LOCAL,
            type: 'trade',
            id: '330000123',
            price: 94950,
            size: 2500,
            side: 'sell',
            liquidation: true,
          },
        },
        {
          seq: 182000452,
          record: expect.not.objectContaining({ liquidation: expect.anything() }),
        },
      ],
    });
  });

  it('ticker: top of book, mark and index price, funding and open interest', () => {
    const m = parseMessage(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'subscription',
        params: {
          channel: 'ticker.BTC-PERPETUAL.100ms',
          data: {
            timestamp: 1767225601000,
            instrument_name: 'BTC-PERPETUAL',
            state: 'open',
            best_bid_price: 94999.5,
            best_bid_amount: 12000,
            best_ask_price: 95000,
            best_ask_amount: 31000,
            mark_price: 94999.8,
            index_price: 95010.55,
            current_funding: 0.00001,
            funding_8h: 0.0000812,
            open_interest: 1_234_567_890,
            stats: { volume: null },
          },
        },
      }),
      LOCAL,
    );
    expect(m).toEqual({
      kind: 'ticker',
      instrument: 'BTC-PERPETUAL',
      ticker: {
        timestamp: 1767225601000,
        bidPrice: 94999.5,
        bidSize: 12000,
        askPrice: 95000,
        askSize: 31000,
        markPrice: 94999.8,
        indexPrice: 95010.55,
        currentFunding: 0.00001,
        funding8h: 0.0000812,
        openInterest: 1_234_567_890,
      },
    });
    // A dated future has no funding; an empty side comes as null.
    const future = parseMessage(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'subscription',
        params: {
          channel: 'ticker.BTC-27MAR26.100ms',
          data: {
            timestamp: 1,
            best_bid_price: null,
            best_bid_amount: 0,
            best_ask_price: 95000,
            best_ask_amount: 10,
            mark_price: 95000,
          },
        },
      }),
      LOCAL,
    );
    expect(future).toMatchObject({ kind: 'ticker', ticker: { bidPrice: 0, bidSize: 0 } });
    expect(future.kind === 'ticker' && 'funding8h' in future.ticker).toBe(false);
  });

  it('DVOL notification, heartbeats and responses', () => {
    expect(
      parseMessage(
        '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_volatility_index.btc_usd","data":{"volatility":48.37,"timestamp":1767225601000,"index_name":"btc_usd"}}}',
        LOCAL,
      ),
    ).toEqual({ kind: 'dvol', currency: 'BTC', volatility: 48.37, timestamp: 1767225601000 });
    expect(
      parseMessage('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}', LOCAL),
    ).toEqual({
      kind: 'heartbeat',
      type: 'test_request',
    });
    expect(
      parseMessage('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}', LOCAL),
    ).toEqual({
      kind: 'heartbeat',
      type: 'heartbeat',
    });
    expect(
      parseMessage(
        '{"jsonrpc":"2.0","id":9,"result":{"data":[[1767222000000,48.10,48.55,47.92,48.37]],"continuation":null}}',
        LOCAL,
      ),
    ).toEqual({
      kind: 'response',
      id: 9,
      result: { data: [[1767222000000, 48.1, 48.55, 47.92, 48.37]], continuation: null },
    });
    expect(
      parseMessage(
        '{"jsonrpc":"2.0","id":42,"error":{"code":10028,"message":"too_many_requests"},"usIn":1,"usOut":2,"usDiff":1,"testnet":false}',
        LOCAL,
      ),
    ).toEqual({ kind: 'response', id: 42, error: { code: 10028, message: 'too_many_requests' } });
    expect(
      parseMessage(
        '{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"Invalid params","data":{"reason":"x","param":"interval"}}}',
        LOCAL,
      ),
    ).toMatchObject({ kind: 'response', id: 3, error: { code: -32602, data: { param: 'interval' } } });
    expect(
      parseMessage('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}', LOCAL),
    ).toMatchObject({
      kind: 'response',
      id: null,
    });
  });
});

describe('malformed Deribit messages', () => {
  const notification = (channel: string, data: unknown) =>
    JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });

  it.each([
    ['{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.', 'invalid JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"jsonrpc":"2.0"}', 'neither a notification nor a response'],
    ['{"jsonrpc":"2.0","method":"mystery"}', 'unknown method'],
    ['{"jsonrpc":"2.0","method":"subscription","params":{}}', 'without params.channel'],
    ['{"jsonrpc":"2.0","method":"heartbeat","params":{}}', 'heartbeat without params.type'],
    ['{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}', 'integer error.code'],
    [notification('mystery_channel.btc_usd.100ms', { x: 1 }), 'unsupported channel'],
    [notification('book.BTC-PERPETUAL.5.10.100ms', {}), 'unsupported channel'],
    [notification('book.BTC-PERPETUAL.100ms', []), 'data is not an object'],
    [
      notification('book.BTC-PERPETUAL.100ms', {
        type: 'change',
        timestamp: 1,
        prev_change_id: 5,
        bids: [['new', 1, 1]],
        asks: [],
      }),
      'change_id is not an integer',
    ],
    [
      notification('book.BTC-PERPETUAL.100ms', {
        type: 'change',
        timestamp: 1,
        change_id: 6,
        bids: [],
        asks: [],
      }),
      'without an integer prev_change_id',
    ],
    [
      notification('book.BTC-PERPETUAL.100ms', { type: 'partial', change_id: 1, timestamp: 1 }),
      'type is not',
    ],
    [
      notification('book.BTC-PERPETUAL.100ms', {
        type: 'snapshot',
        change_id: 1,
        timestamp: 1,
        bids: [['add', 1, 1]],
        asks: [],
      }),
      'action "add" is unknown',
    ],
    [
      notification('book.BTC-PERPETUAL.100ms', {
        type: 'snapshot',
        change_id: 1,
        timestamp: 1,
        bids: [['new', '95000', 1]],
        asks: [],
      }),
      'price "95000" is not a positive number',
    ],
    [
      notification('book.BTC-PERPETUAL.100ms', {
        type: 'snapshot',
        change_id: 1,
        timestamp: 1,
        bids: [],
        asks: [['new', 1, -5]],
      }),
      'amount -5 is not a number >= 0',
    ],
    [notification('trades.BTC-PERPETUAL.100ms', {}), 'data is not an array'],
    [
      notification('trades.BTC-PERPETUAL.100ms', [
        { trade_seq: 1.5, trade_id: '1', timestamp: 1, price: 1, amount: 1, direction: 'buy' },
      ]),
      'trade_seq is not an integer',
    ],
    [
      notification('trades.BTC-PERPETUAL.100ms', [
        { trade_seq: 1, trade_id: '1', timestamp: 1, price: 1, amount: 1, direction: 'up' },
      ]),
      'direction is not buy or sell',
    ],
    [
      notification('ticker.BTC-PERPETUAL.100ms', { timestamp: 1, mark_price: 0 }),
      'mark_price is not a price',
    ],
    [
      notification('ticker.BTC-PERPETUAL.100ms', { timestamp: 1, mark_price: 1, funding_8h: 'high' }),
      'funding_8h is not a number',
    ],
    [
      notification('deribit_volatility_index.btc_usd', { volatility: 'x', timestamp: 1 }),
      'volatility is not a number',
    ],
    [
      notification('deribit_volatility_index.dvol', { volatility: 1, timestamp: 1 }),
      'not a volatility index name',
    ],
  ])('%s → invalid (%s)', (text, reason) => {
    const m = parseMessage(text, LOCAL);
    expect(m.kind).toBe('invalid');
    expect(m.kind === 'invalid' && m.reason).toContain(reason);
  });
});

describe('DVOL history pages', () => {
  it('rows become 1-minute bar records; the continuation is kept', () => {
    const page = parseVolatilityPage(
      {
        data: [
          [1767222000000, 48.1, 48.55, 47.92, 48.37],
          [1767222060000, 48.37, 48.4, 48.3, 48.31],
        ],
        continuation: 1767221940000,
      },
      'BTC',
      60,
      LOCAL,
    );
    expect(page).toEqual({
      ok: true,
      value: {
        bars: [
          {
            type: 'dvol',
            venue: 'deribit',
            symbol: 'BTC',
            exchangeTs: 1767222000000,
            localTs: LOCAL,
            resolutionSec: 60,
            open: 48.1,
            high: 48.55,
            low: 47.92,
            close: 48.37,
          },
          expect.objectContaining({ exchangeTs: 1767222060000, close: 48.31 }),
        ],
        continuation: 1767221940000,
      },
    });
    expect(parseVolatilityPage({ data: [] }, 'ETH', 60, LOCAL)).toEqual({
      ok: true,
      value: { bars: [], continuation: null },
    });
  });

  it.each([
    [null, 'result is not an object'],
    [{ data: {} }, 'data is not an array'],
    [{ data: [], continuation: 'next' }, 'continuation'],
    [{ data: [[1, 2, 3]] }, 'is not [ts, o, h, l, c]'],
    [{ data: [[1.5, 2, 3, 4, 5]] }, 'timestamp is not an integer'],
    [{ data: [[1, 2, null, 4, 5]] }, 'must be numbers'],
  ])('%j → error (%s)', (result, error) => {
    const page = parseVolatilityPage(result, 'BTC', 60, LOCAL);
    expect(page.ok).toBe(false);
    expect(!page.ok && page.error).toContain(error);
  });

  it('live values: all four prices are the value, resolution 0', () => {
    expect(dvolRecord('ETH', 61.5, 1000, 1002)).toEqual({
      type: 'dvol',
      venue: 'deribit',
      symbol: 'ETH',
      exchangeTs: 1000,
      localTs: 1002,
      resolutionSec: 0,
      open: 61.5,
      high: 61.5,
      low: 61.5,
      close: 61.5,
    });
  });
});

describe('Deribit helpers', () => {
  it('currencies of instruments and index names', () => {
    expect(currencyOf('BTC-PERPETUAL')).toBe('BTC');
    expect(currencyOf('SOL_USDC-PERPETUAL')).toBe('SOL');
    expect(dvolCurrencyOf('eth_usd')).toBe('ETH');
    expect(dvolCurrencyOf('ETH')).toBeUndefined();
  });

  it('funding every 8 hours at 00, 08 and 16 UTC', () => {
    expect(nextFundingTime(Date.UTC(2026, 0, 1, 0, 0, 0))).toBe(Date.UTC(2026, 0, 1, 8));
    expect(nextFundingTime(Date.UTC(2026, 0, 1, 7, 59, 59))).toBe(Date.UTC(2026, 0, 1, 8));
    expect(nextFundingTime(Date.UTC(2026, 0, 1, 23, 0))).toBe(Date.UTC(2026, 0, 2, 0));
  });

  it('the heartbeat interval: twice per stale window, between Deribit’s minimum of 10 s and 30 s', () => {
    expect(heartbeatIntervalSec(3_000)).toBe(10);
    expect(heartbeatIntervalSec(30_000)).toBe(15);
    expect(heartbeatIntervalSec(60_000)).toBe(30);
    expect(heartbeatIntervalSec(600_000)).toBe(30);
  });
});
