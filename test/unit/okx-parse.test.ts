import { describe, expect, it } from 'vitest';
import { ContractValue } from '../../src/services/collector/okx/contracts';
import {
  argKey,
  parseInstruments,
  parseLongShortRatio,
  parseMessage,
  restData,
  type OkxMessage,
} from '../../src/services/collector/okx/parse';
import { chunkArgs, SocketSubscriptions } from '../../src/services/collector/okx/subscriptions';

function invalidReason(m: OkxMessage): string {
  expect(m.kind).toBe('invalid');
  return m.kind === 'invalid' ? m.reason : '';
}

// The example messages of reference/exchanges.md, verbatim.
const booksSnapshot =
  '{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"snapshot","data":[{"asks":[["95001.1","120","0","4"],["95001.5","33","0","2"]],"bids":[["95000.9","87","0","3"],["95000.0","410","0","9"]],"ts":"1767225600100","checksum":0,"prevSeqId":-1,"seqId":500100}]}';
const booksUpdate =
  '{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":[["95001.1","0","0","0"]],"bids":[["95000.9","95","0","4"]],"ts":"1767225600200","checksum":0,"prevSeqId":500100,"seqId":500117}]}';
const keepalive =
  '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1767225660100","checksum":0,"prevSeqId":880042,"seqId":880042}]}';
const funding =
  '{"arg":{"channel":"funding-rate","instId":"BTC-USDT-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","method":"current_period","formulaType":"withRate","fundingRate":"0.0000812","fundingTime":"1767254400000","nextFundingTime":"1767283200000","minFundingRate":"-0.00375","maxFundingRate":"0.00375","interestRate":"0.0001","impactValue":"20000","settState":"settled","settFundingRate":"0.0000745","premium":"-0.0000231","ts":"1767225630000"}]}';
const openInterest =
  '{"arg":{"channel":"open-interest","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","oi":"2716113.01","oiCcy":"27161.1301","oiUsd":"2580305731.23","ts":"1767225603000"}]}';
const liquidation =
  '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP","uly":"BTC-USDT","instFamily":"BTC-USDT","details":[{"side":"sell","posSide":"long","bkPx":"94710.3","sz":"12","bkLoss":"0","ccy":"","ts":"1767225604410"}]}]}';
const trade =
  '{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"130639474","px":"42219.9","sz":"0.12","side":"buy","ts":"1630048897897","count":"3","source":"0","seqId":1234}]}';
const bbo =
  '{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["95001.1","0.5","0","2"]],"bids":[["95000.9","1.25","0","3"]],"ts":"1767225600100","seqId":77}]}';

describe('parseMessage — the reference examples', () => {
  it('a books snapshot keeps the original strings of every level', () => {
    expect(parseMessage(booksSnapshot)).toEqual({
      kind: 'books',
      instId: 'BTC-USDT-SWAP',
      action: 'snapshot',
      asks: [
        { price: 95001.1, px: '95001.1', sz: '120' },
        { price: 95001.5, px: '95001.5', sz: '33' },
      ],
      bids: [
        { price: 95000.9, px: '95000.9', sz: '87' },
        { price: 95000, px: '95000.0', sz: '410' },
      ],
      ts: 1767225600100,
      checksum: 0,
      prevSeqId: -1,
      seqId: 500100,
    });
  });

  it('a books update and a keep-alive', () => {
    expect(parseMessage(booksUpdate)).toMatchObject({
      kind: 'books',
      action: 'update',
      prevSeqId: 500100,
      seqId: 500117,
      asks: [{ price: 95001.1, px: '95001.1', sz: '0' }],
    });
    expect(parseMessage(keepalive)).toMatchObject({
      kind: 'books',
      bids: [],
      asks: [],
      prevSeqId: 880042,
      seqId: 880042,
    });
  });

  it('funding: fundingTime is the upcoming settlement, nextFundingTime the one after', () => {
    expect(parseMessage(funding)).toEqual({
      kind: 'funding',
      instId: 'BTC-USDT-SWAP',
      rate: 0.0000812,
      fundingTime: 1767254400000,
      nextFundingTime: 1767283200000,
      ts: 1767225630000,
    });
  });

  it('open interest: contracts as sent, coin as a number', () => {
    expect(parseMessage(openInterest)).toEqual({
      kind: 'open-interest',
      instId: 'BTC-USDT-SWAP',
      oi: '2716113.01',
      oiCcy: 27161.1301,
      ts: 1767225603000,
    });
  });

  it('liquidations: one item per detail, size in contracts as sent', () => {
    expect(parseMessage(liquidation)).toEqual({
      kind: 'liquidations',
      items: [{ instId: 'BTC-USDT-SWAP', side: 'sell', price: 94710.3, sz: '12', ts: 1767225604410 }],
    });
  });

  it('trades: tradeId is the last of `count` fills', () => {
    expect(parseMessage(trade)).toEqual({
      kind: 'trades',
      trades: [
        {
          instId: 'BTC-USDT-SWAP',
          tradeId: 130639474,
          price: 42219.9,
          sz: '0.12',
          side: 'buy',
          ts: 1630048897897,
          count: 3,
        },
      ],
    });
  });

  it('bbo-tbt', () => {
    expect(parseMessage(bbo)).toEqual({
      kind: 'bbo',
      instId: 'BTC-USDT',
      bid: { price: 95000.9, px: '95000.9', sz: '1.25' },
      ask: { price: 95001.1, px: '95001.1', sz: '0.5' },
      ts: 1767225600100,
      seqId: 77,
    });
  });

  it('acks, errors, the 64008 notice and pong', () => {
    expect(
      parseMessage(
        '{"id":"1512","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
      ),
    ).toEqual({ kind: 'ack', op: 'subscribe', id: '1512', arg: { channel: 'books', instId: 'BTC-USDT' } });
    expect(
      parseMessage(
        '{"id":"1512","event":"error","code":"60012","msg":"Invalid request: x","connId":"a4d3ae55"}',
      ),
    ).toEqual({ kind: 'error', id: '1512', code: '60012', msg: 'Invalid request: x' });
    expect(
      parseMessage(
        '{"event":"notice","code":"64008","msg":"The connection will soon be closed","connId":"a"}',
      ),
    ).toEqual({
      kind: 'notice',
      code: '64008',
      msg: 'The connection will soon be closed',
    });
    expect(parseMessage('pong')).toEqual({ kind: 'pong' });
    expect(parseMessage('{"event":"channel-conn-count","channel":"books","connCount":"2"}')).toEqual({
      kind: 'control',
      event: 'channel-conn-count',
    });
  });
});

describe('parseMessage — malformed messages never throw', () => {
  it.each([
    ['not JSON', '{"arg":{"channel":"books"', 'invalid JSON'],
    ['not an object', '[1,2]', 'not a JSON object'],
    [
      'an unknown channel',
      '{"arg":{"channel":"mystery","instId":"BTC-USDT"},"data":[{"x":1}]}',
      'unknown channel',
    ],
    [
      'a books update without its fields',
      '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"ts":"1"}]}',
      'seqId',
    ],
    ['a books message without action', booksUpdate.replace('"action":"update",', ''), 'action'],
    ['a level with a numeric size', booksUpdate.replace('"95","0","4"', '95,"0","4"'), 'strings'],
    ['a level with a negative size', booksUpdate.replace('"95","0","4"', '"-95","0","4"'), 'decimal'],
    ['a level with price 0', booksUpdate.replace('"95000.9","95"', '"0","95"'), 'price'],
    ['a checksum that is a string', booksUpdate.replace('"checksum":0', '"checksum":"12"'), 'checksum'],
    ['a books ts that is not a time', booksUpdate.replace('"1767225600200"', '"soon"'), 'ts'],
    ['empty data', '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[]}', 'data'],
    ['a trade with a bad id', trade.replace('"130639474"', '"abc"'), 'tradeId'],
    ['a trade with a bad side', trade.replace('"side":"buy"', '"side":"long"'), 'side'],
    ['a trade with count 0', trade.replace('"count":"3"', '"count":"0"'), 'count'],
    [
      'funding without a next time',
      funding.replace('"nextFundingTime":"1767283200000",', ''),
      'nextFundingTime',
    ],
    ['open interest without oi', openInterest.replace('"oi":"2716113.01",', ''), 'oi'],
    ['a liquidation without bkPx', liquidation.replace('"bkPx":"94710.3",', ''), 'bkPx'],
    ['an ack without arg', '{"id":"1","event":"subscribe"}', 'arg'],
  ])('%s', (_what, text, reason) => {
    expect(invalidReason(parseMessage(text))).toContain(reason);
  });
});

describe('contract sizes to base units, exactly', () => {
  it('3 × 0.1 is 0.3, not 0.30000000000000004', () => {
    expect(3 * 0.1).not.toBe(0.3);
    expect(ContractValue.parse('0.1')!.toBase('3')).toBe(0.3);
  });

  it.each([
    ['0.01', '12.29', 0.1229],
    ['0.01', '7', 0.07],
    ['0.1', '0.07', 0.007],
    ['0.1', '123456.78', 12345.678],
    ['100', '2.5', 250],
    ['1', '0.00100000', 0.001],
    ['10', '0', 0],
    ['0.001', '33', 0.033],
  ])('ctVal %s × %s contracts = %s', (ctVal, size, base) => {
    expect(ContractValue.parse(ctVal)!.toBase(size)).toBe(base);
  });

  it('every lot of the simulated swaps converts to the number its decimal string names', () => {
    const cv = ContractValue.parse('0.1')!;
    for (let lots = 0; lots < 20_000; lots += 7) {
      const contracts = (lots / 100).toFixed(2);
      // The exact product has three decimals: the contracts' digits, shifted one place.
      const digits = String(lots).padStart(4, '0');
      const exact = `${digits.slice(0, -3)}.${digits.slice(-3)}`;
      expect(cv.toBase(contracts)).toBe(Number(exact));
    }
  });

  it('rejects what is not a positive decimal', () => {
    expect(ContractValue.parse('')).toBeNull();
    expect(ContractValue.parse('0')).toBeNull();
    expect(ContractValue.parse('-1')).toBeNull();
    expect(ContractValue.parse('1e-2')).toBeNull();
    expect(ContractValue.parse('0.01')!.toBase('1e3')).toBeNaN();
    expect(ContractValue.ONE.toBase('0.5')).toBe(0.5);
  });
});

describe('REST bodies', () => {
  it('instruments: ctVal per swap, spot rows left out', () => {
    const body = {
      code: '0',
      msg: '',
      data: [
        { instType: 'SWAP', instId: 'BTC-USDT-SWAP', ctVal: '0.01', state: 'live' },
        { instType: 'SPOT', instId: 'BTC-USDT', ctVal: '', state: 'live' },
      ],
    };
    const r = parseInstruments(body);
    expect(r.ok && [...r.value]).toEqual([['BTC-USDT-SWAP', '0.01']]);
  });

  it('an OKX error body names its code', () => {
    expect(restData({ code: '50011', msg: 'Too Many Requests', data: [] })).toEqual({
      ok: false,
      error: 'OKX error 50011: Too Many Requests',
    });
    expect(restData('nope').ok).toBe(false);
  });

  it('long/short ratio rows, newest first on the wire, come out oldest first with account shares', () => {
    const body = {
      code: '0',
      msg: '',
      data: [
        ['1767225900000', '1.5'],
        ['1767225600000', '1'],
      ],
    };
    const r = parseLongShortRatio(body, 'BTC-USDT-SWAP', '5m', 5);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((x) => x.exchangeTs)).toEqual([1767225600000, 1767225900000]);
    expect(r.value[0]).toMatchObject({
      ratio: 1,
      longAccount: 0.5,
      shortAccount: 0.5,
      period: '5m',
      type: 'lsr',
    });
    expect(r.value[1]!.longAccount).toBeCloseTo(0.6, 12);
    expect(r.value[1]!.shortAccount).toBeCloseTo(0.4, 12);
    expect(parseLongShortRatio({ code: '0', data: [['x', '1']] }, 'X', '5m', 0).ok).toBe(false);
  });
});

describe('subscription requests', () => {
  it('splits args so that no request exceeds 64 KB', () => {
    const args = Array.from({ length: 3000 }, (_, i) => ({ channel: 'books', instId: `COIN${i}-USDT-SWAP` }));
    const chunks = chunkArgs(args);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(args);
    for (const chunk of chunks)
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(64 * 1024);
  });

  it('tracks acks per argument, returns refused arguments, and keeps to 480 requests an hour', () => {
    const sent: string[] = [];
    let now = 0;
    let id = 1;
    const sock = new SocketSubscriptions(
      1,
      (t) => sent.push(t),
      () => String(id++),
      () => now,
    );
    const a = { channel: 'books', instId: 'BTC-USDT' };
    const b = { channel: 'trades', instId: 'BTC-USDT' };
    expect(sock.request('subscribe', [a, b])).toBe(true);
    expect(JSON.parse(sent[0]!)).toEqual({ id: '1', op: 'subscribe', args: [a, b] });
    sock.onAck('subscribe', '1', a);
    expect(sock.covers([argKey(a)])).toBe(true);
    expect(sock.covers([argKey(a), argKey(b)])).toBe(false);
    expect(sock.onError('1')).toEqual([b]);
    expect(sock.opsLeft()).toBe(479);
    for (let i = 0; i < 479; i++) expect(sock.request('unsubscribe', [a])).toBe(true);
    expect(sock.covers([argKey(a)])).toBe(false);
    expect(sock.request('subscribe', [a])).toBe(false);
    now += 3_600_001;
    expect(sock.opsLeft()).toBe(480);
  });
});
