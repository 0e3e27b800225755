import { describe, expect, it } from 'vitest';
import {
  parseDepthSnapshot,
  parseLongShortRatio,
  parseMessage,
  parseOpenInterest,
  type BinanceMessage,
} from '../../src/services/collector/binance/parse';

const NOW = 1_767_225_600_500;

function invalidReason(m: BinanceMessage): string {
  expect(m.kind).toBe('invalid');
  return m.kind === 'invalid' ? m.reason : '';
}

// The example messages of reference/exchanges.md, verbatim.
const spotDepth =
  '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1767225600123,"s":"BTCUSDT","U":81234567001,"u":81234567009,"b":[["95000.10","0.250"],["94999.50","0.000"]],"a":[["95000.20","1.100"]]}}';
const spotAggTrade =
  '{"e":"aggTrade","E":1767225600200,"s":"BTCUSDT","a":3300000001,"p":"95000.10","q":"0.012","f":5100000010,"l":5100000012,"T":1767225600199,"m":true,"M":true}';
const subscribeAck = '{"result":null,"id":1}';
const usdmDepth =
  '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1767225600300,"T":1767225600295,"s":"BTCUSDT","U":9100000101,"u":9100000140,"pu":9100000100,"b":[["94990.0","3.512"]],"a":[["94990.1","0.000"]]}}';
const markPrice =
  '{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1767225601000,"s":"BTCUSDT","p":"94991.20000000","i":"95010.55000000","P":"95002.10000000","r":"0.00010000","T":1767254400000}}';
const forceOrder =
  '{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":1767225602000,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.150","p":"94800.0","ap":"94850.5","X":"FILLED","l":"0.150","z":"0.150","T":1767225601998}}}';
const openInterest = '{"openInterest":"81234.567","symbol":"BTCUSDT","time":1767225600000}';
const longShort =
  '[{"symbol":"BTCUSDT","longShortRatio":"1.8105","longAccount":"0.6442","shortAccount":"0.3558","timestamp":"1767225600000"}]';

describe('parseMessage — the reference examples', () => {
  it('spot diff depth on a combined stream', () => {
    expect(parseMessage(spotDepth, 'binance-spot', NOW)).toEqual({
      kind: 'depth',
      symbol: 'BTCUSDT',
      event: {
        U: 81234567001,
        u: 81234567009,
        E: 1767225600123,
        bids: [
          [95000.1, 0.25],
          [94999.5, 0],
        ],
        asks: [[95000.2, 1.1]],
      },
    });
  });

  it('the same depth event as a raw stream', () => {
    const raw = JSON.stringify(JSON.parse(spotDepth).data);
    const m = parseMessage(raw, 'binance-spot', NOW);
    expect(m.kind).toBe('depth');
  });

  it('spot aggTrade: taker sold because m is true; f and l are returned for gap checks', () => {
    expect(parseMessage(spotAggTrade, 'binance-spot', NOW)).toEqual({
      kind: 'record',
      record: {
        venue: 'binance-spot',
        symbol: 'BTCUSDT',
        exchangeTs: 1767225600199,
        localTs: NOW,
        type: 'trade',
        id: '3300000001',
        price: 95000.1,
        size: 0.012,
        side: 'sell',
      },
      firstId: 5100000010,
      lastId: 5100000012,
    });
  });

  it('subscribe ack', () => {
    expect(parseMessage(subscribeAck, 'binance-spot', NOW)).toEqual({ kind: 'control', id: 1, result: null });
  });

  it('USD-M diff depth keeps pu and T', () => {
    expect(parseMessage(usdmDepth, 'binance-usdm', NOW)).toEqual({
      kind: 'depth',
      symbol: 'BTCUSDT',
      event: {
        U: 9100000101,
        u: 9100000140,
        pu: 9100000100,
        E: 1767225600300,
        T: 1767225600295,
        bids: [[94990.0, 3.512]],
        asks: [[94990.1, 0]],
      },
    });
  });

  it('USD-M mark price → funding', () => {
    expect(parseMessage(markPrice, 'binance-usdm', NOW)).toEqual({
      kind: 'record',
      record: {
        venue: 'binance-usdm',
        symbol: 'BTCUSDT',
        exchangeTs: 1767225601000,
        localTs: NOW,
        type: 'funding',
        rate: 0.0001,
        nextFundingTime: 1767254400000,
        markPrice: 94991.2,
        indexPrice: 95010.55,
      },
    });
  });

  it('USD-M liquidation: partial, side lower-cased, average price and filled size', () => {
    expect(parseMessage(forceOrder, 'binance-usdm', NOW)).toEqual({
      kind: 'record',
      record: {
        venue: 'binance-usdm',
        symbol: 'BTCUSDT',
        exchangeTs: 1767225601998,
        localTs: NOW,
        type: 'liquidation',
        side: 'sell',
        price: 94850.5,
        size: 0.15,
        partial: true,
      },
    });
  });
});

describe('parseMessage — other shapes', () => {
  it('trade: t is the id and both first and last id; m false means the taker bought', () => {
    const m = parseMessage(
      '{"e":"trade","E":1,"s":"ETHUSDT","t":12345,"p":"3000.5","q":"1.25","T":2,"m":false,"M":true}',
      'binance-spot',
      NOW,
    );
    expect(m).toEqual({
      kind: 'record',
      record: {
        venue: 'binance-spot',
        symbol: 'ETHUSDT',
        exchangeTs: 2,
        localTs: NOW,
        type: 'trade',
        id: '12345',
        price: 3000.5,
        size: 1.25,
        side: 'buy',
      },
      firstId: 12345,
      lastId: 12345,
    });
  });

  it('spot bookTicker has no event type and no time: exchangeTs is the receive time', () => {
    const m = parseMessage(
      '{"stream":"bnbusdt@bookTicker","data":{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}',
      'binance-spot',
      NOW,
    );
    expect(m).toEqual({
      kind: 'record',
      record: {
        venue: 'binance-spot',
        symbol: 'BNBUSDT',
        exchangeTs: NOW,
        localTs: NOW,
        type: 'top',
        bidPrice: 25.3519,
        bidSize: 31.21,
        askPrice: 25.3652,
        askSize: 40.66,
      },
    });
  });

  it('USD-M bookTicker uses the transaction time T', () => {
    const m = parseMessage(
      '{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}',
      'binance-usdm',
      NOW,
    );
    expect(m.kind === 'record' && m.record.exchangeTs).toBe(1568014460891);
  });

  it('mark price without an index price', () => {
    const m = parseMessage(
      '{"e":"markPriceUpdate","E":5,"s":"BTCUSDT","p":"1.5","r":"-0.0002","T":9}',
      'binance-usdm',
      NOW,
    );
    expect(m.kind === 'record' && m.record).toMatchObject({ type: 'funding', rate: -0.0002, markPrice: 1.5 });
    expect(m.kind === 'record' && 'indexPrice' in m.record).toBe(false);
  });

  it('liquidation falls back to the order price and quantity when nothing was filled', () => {
    const m = parseMessage(
      '{"e":"forceOrder","E":1,"o":{"s":"ETHUSDT","S":"BUY","q":"2.0","p":"3000.0","ap":"0","z":"0","T":7}}',
      'binance-usdm',
      NOW,
    );
    expect(m.kind === 'record' && m.record).toMatchObject({
      side: 'buy',
      price: 3000,
      size: 2,
      exchangeTs: 7,
    });
  });

  it('serverShutdown, raw and on a combined stream', () => {
    expect(parseMessage('{"e":"serverShutdown","E":1767225700000}', 'binance-spot', NOW)).toEqual({
      kind: 'server-shutdown',
      at: 1767225700000,
    });
    expect(
      parseMessage(
        '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1767225700001}}',
        'binance-spot',
        NOW,
      ),
    ).toEqual({ kind: 'server-shutdown', at: 1767225700001 });
    expect(parseMessage('{"stream":"!serverShutdown","data":{}}', 'binance-spot', NOW)).toEqual({
      kind: 'server-shutdown',
      at: NOW,
    });
  });

  it('control errors, list results and string ids', () => {
    expect(
      parseMessage(
        '{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":"abc"}',
        'binance-spot',
        NOW,
      ),
    ).toEqual({ kind: 'control', id: 'abc', error: { code: 2, msg: 'Invalid request: unknown variant' } });
    expect(parseMessage('{"code":0,"msg":"Unknown property","id":7}', 'binance-spot', NOW)).toEqual({
      kind: 'control',
      id: 7,
      error: { code: 0, msg: 'Unknown property' },
    });
    expect(parseMessage('{"result":["btcusdt@aggTrade"],"id":3}', 'binance-usdm', NOW)).toEqual({
      kind: 'control',
      id: 3,
      result: ['btcusdt@aggTrade'],
    });
    expect(parseMessage('{"result":null,"id":null}', 'binance-usdm', NOW)).toEqual({
      kind: 'control',
      id: null,
      result: null,
    });
  });

  it('spot depth ignores a pu it does not need; numbers are accepted where strings are expected', () => {
    const m = parseMessage(
      '{"e":"depthUpdate","E":1,"s":"X","U":5,"u":6,"pu":4,"b":[[1.5,2]],"a":[]}',
      'binance-spot',
      NOW,
    );
    expect(m).toEqual({
      kind: 'depth',
      symbol: 'X',
      event: { U: 5, u: 6, E: 1, bids: [[1.5, 2]], asks: [] },
    });
  });
});

describe('parseMessage — malformed input', () => {
  const depth = (over: Record<string, unknown>): string =>
    JSON.stringify({ e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 1, u: 2, pu: 0, b: [], a: [], ...over });

  it.each([
    ['not JSON', '{"e":"trade",', /invalid JSON/],
    ['empty', '', /invalid JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['a JSON string', '"hello"', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['unknown event', '{"e":"kline","E":1,"s":"BTCUSDT"}', /unknown event type "kline"/],
    ['no event type', '{"foo":1}', /no event type/],
    ['combined stream with array data', '{"stream":"!markPrice@arr","data":[]}', /data is not an object/],
    ['partial depth', '{"lastUpdateId":1,"bids":[],"asks":[]}', /partial book depth/],
  ])('%s', (_name, text, reason) => {
    expect(invalidReason(parseMessage(text, 'binance-usdm', NOW))).toMatch(reason);
  });

  it.each([
    ['missing symbol', { s: undefined }, /symbol/],
    ['U not a number', { U: '1' }, /U and u/],
    ['u fractional', { u: 2.5 }, /U and u/],
    ['U after u', { U: 3, u: 2 }, /U 3 > u 2/],
    ['missing E', { E: undefined }, /event time/],
    ['missing pu on USD-M', { pu: undefined }, /pu/],
    ['b not an array', { b: {} }, /b is not an array/],
    ['a level not a pair', { a: [['1']] }, /a\[0\] is not a \[price, size\] pair/],
    ['non-numeric price', { b: [['abc', '1']] }, /b\[0\] price "abc"/],
    ['empty price', { b: [['', '1']] }, /price "" is not a positive number/],
    ['zero price', { b: [['0', '1']] }, /price/],
    ['infinite price', { b: [['1e999', '1']] }, /price/],
    ['negative size', { a: [['1', '-0.5']] }, /size "-0.5" is not a number >= 0/],
    ['null size', { a: [['1', null]] }, /size null/],
    ['boolean size', { a: [['1', true]] }, /size true/],
  ])('depthUpdate with %s', (_name, over, reason) => {
    expect(invalidReason(parseMessage(depth(over), 'binance-usdm', NOW))).toMatch(reason);
  });

  const agg = (over: Record<string, unknown>): string =>
    JSON.stringify({ ...JSON.parse(spotAggTrade), ...over });

  it.each([
    ['a missing', { a: undefined }, /a is not an integer id/],
    ['f missing', { f: undefined }, /f and l/],
    ['price not numeric', { p: 'x' }, /price p/],
    ['negative quantity', { q: '-1' }, /quantity q/],
    ['m not a boolean', { m: 'true' }, /m is not a boolean/],
    ['T missing', { T: undefined }, /trade time T/],
    ['symbol empty', { s: '' }, /symbol/],
  ])('aggTrade with %s', (_name, over, reason) => {
    expect(invalidReason(parseMessage(agg(over), 'binance-spot', NOW))).toMatch(reason);
  });

  it('trade with a string id', () => {
    expect(
      invalidReason(
        parseMessage(
          '{"e":"trade","E":1,"s":"X","t":"1","p":"1","q":"1","T":2,"m":false}',
          'binance-spot',
          NOW,
        ),
      ),
    ).toMatch(/t is not an integer id/);
  });

  it('bookTicker with bad numbers', () => {
    expect(
      invalidReason(parseMessage('{"u":1,"s":"X","b":"x","B":"1","a":"2","A":"1"}', 'binance-spot', NOW)),
    ).toMatch(/b and a/);
    expect(
      invalidReason(parseMessage('{"u":1,"s":"X","b":"1","B":"-1","a":"2","A":"1"}', 'binance-spot', NOW)),
    ).toMatch(/B and A/);
  });

  const mark = (over: Record<string, unknown>): string =>
    JSON.stringify({ ...JSON.parse(markPrice).data, ...over });

  it.each([
    ['an empty rate (delivery contract)', { r: '', T: 0 }, /funding rate/],
    ['no next funding time', { T: 0 }, /next funding time/],
    ['a bad mark price', { p: 'NaN' }, /mark price/],
    ['a bad index price', { i: '-1' }, /index price/],
    ['no E', { E: undefined }, /event time E/],
  ])('markPriceUpdate with %s', (_name, over, reason) => {
    expect(invalidReason(parseMessage(mark(over), 'binance-usdm', NOW))).toMatch(reason);
  });

  const force = (o: Record<string, unknown>): string =>
    JSON.stringify({ e: 'forceOrder', E: 1, o: { ...JSON.parse(forceOrder).data.o, ...o } });

  it.each([
    ['an unknown side', { S: 'LONG' }, /side/],
    ['no usable price', { ap: '0', p: 'x' }, /price/],
    ['no usable size', { z: '0', q: '-2' }, /size/],
    ['no time', { T: undefined }, /o\.T/],
    ['no symbol', { s: undefined }, /o\.s/],
  ])('forceOrder with %s', (_name, o, reason) => {
    expect(invalidReason(parseMessage(force(o), 'binance-usdm', NOW))).toMatch(reason);
  });

  it('forceOrder without o', () => {
    expect(invalidReason(parseMessage('{"e":"forceOrder","E":1}', 'binance-usdm', NOW))).toMatch(/o is not/);
  });
});

describe('REST parsers', () => {
  it('depth snapshot, from text or parsed JSON, spot and USD-M', () => {
    const spot = parseDepthSnapshot(
      '{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}',
    );
    expect(spot).toEqual({
      ok: true,
      value: { lastUpdateId: 1027024, bids: [[4, 431]], asks: [[4.000002, 12]] },
    });
    const usdm = parseDepthSnapshot({
      lastUpdateId: 1027024,
      E: 1589436922972,
      T: 1589436922959,
      bids: [['4.00000000', '431.00000000']],
      asks: [],
    });
    expect(usdm).toEqual({
      ok: true,
      value: { lastUpdateId: 1027024, E: 1589436922972, T: 1589436922959, bids: [[4, 431]], asks: [] },
    });
  });

  it.each([
    ['invalid JSON', '{', /invalid JSON/],
    ['not an object', [], /not an object/],
    ['a Binance error body', { code: -1121, msg: 'Invalid symbol.' }, /-1121: Invalid symbol/],
    ['no lastUpdateId', { bids: [], asks: [] }, /lastUpdateId/],
    ['a bad level', { lastUpdateId: 1, bids: [['1', 'x']], asks: [] }, /bids\[0\] size/],
    ['asks missing', { lastUpdateId: 1, bids: [] }, /asks is not an array/],
  ])('depth snapshot with %s', (_name, body, reason) => {
    const r = parseDepthSnapshot(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(reason);
  });

  it('open interest', () => {
    expect(parseOpenInterest(openInterest, NOW)).toEqual({
      ok: true,
      value: {
        venue: 'binance-usdm',
        symbol: 'BTCUSDT',
        exchangeTs: 1767225600000,
        localTs: NOW,
        type: 'oi',
        openInterest: 81234.567,
      },
    });
  });

  it.each([
    ['a bad amount', { openInterest: 'x', symbol: 'BTCUSDT', time: 1 }, /openInterest/],
    ['no symbol', { openInterest: '1', time: 1 }, /symbol/],
    ['no time', { openInterest: '1', symbol: 'BTCUSDT' }, /time/],
    ['an error body', { code: -1121, msg: 'Invalid symbol.' }, /Invalid symbol/],
    ['invalid JSON', 'nope', /invalid JSON/],
  ])('open interest with %s', (_name, body, reason) => {
    const r = parseOpenInterest(body, NOW);
    expect(!r.ok && r.error).toMatch(reason);
  });

  it('long/short ratio rows (string or number timestamps)', () => {
    const r = parseLongShortRatio(
      [
        ...JSON.parse(longShort),
        {
          symbol: 'BTCUSDT',
          longShortRatio: '1.5',
          longAccount: '0.6',
          shortAccount: '0.4',
          timestamp: 1767225900000,
        },
      ],
      NOW,
      '5m',
    );
    expect(r).toEqual({
      ok: true,
      value: [
        {
          venue: 'binance-usdm',
          symbol: 'BTCUSDT',
          exchangeTs: 1767225600000,
          localTs: NOW,
          type: 'lsr',
          period: '5m',
          ratio: 1.8105,
          longAccount: 0.6442,
          shortAccount: 0.3558,
        },
        {
          venue: 'binance-usdm',
          symbol: 'BTCUSDT',
          exchangeTs: 1767225900000,
          localTs: NOW,
          type: 'lsr',
          period: '5m',
          ratio: 1.5,
          longAccount: 0.6,
          shortAccount: 0.4,
        },
      ],
    });
    expect(parseLongShortRatio(longShort, NOW, '1h').ok).toBe(true);
    expect(parseLongShortRatio('[]', NOW, '5m')).toEqual({ ok: true, value: [] });
  });

  it.each([
    ['not an array', { symbol: 'BTCUSDT' }, /not an array/],
    ['an error body', { code: -1130, msg: 'Invalid period.' }, /Invalid period/],
    ['a row that is not an object', [1], /row 0 is not an object/],
    [
      'a bad ratio',
      [{ symbol: 'X', longShortRatio: 'x', longAccount: '0.5', shortAccount: '0.5', timestamp: 1 }],
      /row 0/,
    ],
    [
      'a share above 1',
      [{ symbol: 'X', longShortRatio: '1', longAccount: '0.5', shortAccount: '1.5', timestamp: 1 }],
      /shortAccount/,
    ],
    [
      'a bad timestamp',
      [{ symbol: 'X', longShortRatio: '1', longAccount: '0.5', shortAccount: '0.5', timestamp: 'x' }],
      /timestamp/,
    ],
    ['no symbol', [{ longShortRatio: '1', longAccount: '0.5', shortAccount: '0.5', timestamp: 1 }], /symbol/],
  ])('long/short ratio with %s', (_name, body, reason) => {
    const r = parseLongShortRatio(body, NOW, '5m');
    expect(!r.ok && r.error).toMatch(reason);
  });
});
