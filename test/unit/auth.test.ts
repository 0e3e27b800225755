import { describe, expect, it } from 'vitest';
import { generateToken, isLoopback, originAllowed, tokenMatches } from '../../src/main/server/auth';

describe('auth', () => {
  it('generates long, distinct tokens', () => {
    const a = generateToken();
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(generateToken()).not.toBe(a);
  });

  it('matches only the exact token', () => {
    expect(tokenMatches('secret-token-123456', 'secret-token-123456')).toBe(true);
    expect(tokenMatches('secret-token-123456', 'secret-token-12345')).toBe(false);
    expect(tokenMatches('secret-token-123456', '')).toBe(false);
    expect(tokenMatches('secret-token-123456', null)).toBe(false);
  });

  it('allows only the server’s own origin from a browser', () => {
    expect(originAllowed(undefined, '127.0.0.1:7420')).toBe(true); // not a browser
    expect(originAllowed('http://127.0.0.1:7420', '127.0.0.1:7420')).toBe(true);
    expect(originAllowed('http://localhost:7420', 'localhost:7420')).toBe(true);
    expect(originAllowed('http://127.0.0.1:7421', '127.0.0.1:7420')).toBe(false);
    expect(originAllowed('https://evil.example', '127.0.0.1:7420')).toBe(false);
    expect(originAllowed('http://127.0.0.1:7420.evil.example', '127.0.0.1:7420')).toBe(false);
    expect(originAllowed('null', '127.0.0.1:7420')).toBe(false);
    expect(originAllowed('file://', '127.0.0.1:7420')).toBe(false);
  });

  it('recognises loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '192.168.1.2', 'example.com', '127.0.0.1.evil.com'])
      expect(isLoopback(h)).toBe(false);
  });
});
