import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../../src/services/bus/peer-link';
import { Interest, isValidPattern, isValidSubject, subjectMatches } from '../../../src/services/bus/subjects';

describe('subjects', () => {
  it.each([
    ['md.binance-spot.BTCUSDT.trade', true],
    ['a', true],
    ['a_b-C.9', true],
    ['', false],
    ['a..b', false],
    ['.a', false],
    ['a.', false],
    ['a.*', false],
    ['a.>', false],
    ['a b', false],
    ['a.b/c', false],
    ['é', false],
    ['a'.repeat(256), true],
    ['a'.repeat(257), false],
  ])('isValidSubject(%j) is %s', (s, valid) => {
    expect(isValidSubject(s)).toBe(valid);
  });

  it.each([
    ['md.*.BTCUSDT.trade', true],
    ['md.>', true],
    ['>', true],
    ['*', true],
    ['*.*', true],
    ['md.>.trade', false],
    ['md.a*', false],
    ['md..x', false],
    ['', false],
    ['md.>>', false],
  ])('isValidPattern(%j) is %s', (p, valid) => {
    expect(isValidPattern(p)).toBe(valid);
  });

  it.each([
    ['md.binance.BTC.trade', 'md.binance.BTC.trade', true],
    ['md.binance.BTC.trade', 'md.binance.BTC.trades', false],
    ['md.*.BTC.trade', 'md.okx.BTC.trade', true],
    ['md.*.BTC.trade', 'md.okx.ETH.trade', false],
    ['md.*.BTC.trade', 'md.okx.BTC.trade.x', false],
    ['md.*', 'md.okx', true],
    ['md.*', 'md', false],
    ['md.*', 'mdx.okx', false],
    ['md.>', 'md.okx', true],
    ['md.>', 'md.okx.BTC.trade', true],
    ['md.>', 'md', false],
    ['md.>', 'mdx.okx', false],
    ['>', 'anything.at.all', true],
    ['*', 'one', true],
    ['*', 'one.two', false],
    ['*.*.BTC.>', 'md.okx.BTC.trade', true],
    ['*.*.BTC.>', 'md.okx.BTC', false],
    ['md.okx', 'md.okx.BTC', false],
  ])('subjectMatches(%j, %j) is %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });

  it('Interest adds, reference-counts and removes patterns, keeping the cache right', () => {
    const interest = new Interest();
    expect(interest.matches('md.okx.BTC.trade')).toBe(false);
    expect(interest.add('md.*.BTC.trade')).toBe(true);
    expect(interest.add('md.*.BTC.trade')).toBe(false);
    expect(interest.matches('md.okx.BTC.trade')).toBe(true);
    expect(interest.remove('md.*.BTC.trade')).toBe(false);
    expect(interest.matches('md.okx.BTC.trade')).toBe(true);
    expect(interest.remove('md.*.BTC.trade')).toBe(true);
    expect(interest.matches('md.okx.BTC.trade')).toBe(false);
    interest.add('md.>');
    expect(interest.list()).toEqual(['md.>']);
    expect(interest.matches('md.okx.BTC.trade')).toBe(true);
    expect(() => interest.add('md.>.x')).toThrow();
  });

  it('Interest cache stays bounded under a flood of distinct subjects', () => {
    const interest = new Interest(100);
    interest.add('md.*.x');
    for (let i = 0; i < 1000; i++) expect(interest.matches(`md.s${i}.x`)).toBe(true);
    expect((interest as unknown as { cache: Map<string, boolean> }).cache.size).toBeLessThanOrEqual(100);
  });
});

describe('bus addresses', () => {
  it.each([
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:4222', { host: 'localhost', port: 4222 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['/tmp/vigil/bus.sock', { path: '/tmp/vigil/bus.sock' }],
    ['./rel:1/bus.sock', { path: './rel:1/bus.sock' }],
    ['bus.sock', { path: 'bus.sock' }],
  ])('parseAddress(%j)', (address, expected) => {
    expect(parseAddress(address)).toEqual(expected);
  });
});
