import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  MAX_FRAME_BYTES,
  encodeBatch,
  encodeFrame,
  encodeWireMessage,
  type Frame,
} from '../../../src/services/bus/codec';

function decodeAll(chunks: Buffer[]): { frames: Frame[]; ok: boolean } {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder((f) => frames.push(f));
  let ok = true;
  for (const c of chunks) ok = decoder.push(c).ok && ok;
  return { frames, ok };
}

const samples: Frame[] = [
  { t: 'hello', id: 'strategy-1' },
  { t: 'sub', patterns: ['md.*.BTCUSDT.trade', 'md.okx.>'] },
  { t: 'unsub', patterns: ['md.okx.>'] },
  { t: 'batch', msgs: [['md.okx.BTC.trade', 1_700_000_000_000, { px: 1.5, q: [1, 'é'] }]] },
  { t: 'gap', reason: 'dropped', dropped: 12, from: 1, to: 2 },
  { t: 'gap', reason: 'disconnected', from: 1, to: 2 },
];

describe('codec', () => {
  it('round-trips every frame type, in one chunk or byte by byte', () => {
    const wire = Buffer.concat(samples.map(encodeFrame));
    expect(decodeAll([wire])).toEqual({ frames: samples, ok: true });
    const bytes = [...wire].map((b) => Buffer.from([b]));
    expect(decodeAll(bytes)).toEqual({ frames: samples, ok: true });
  });

  it('encodes a batch from pre-serialized entries', () => {
    const entries = [
      encodeWireMessage('a.b', 5, JSON.stringify({ x: 1 })),
      encodeWireMessage('c', 6, 'null'),
    ];
    expect(decodeAll([encodeBatch(entries)]).frames).toEqual([
      {
        t: 'batch',
        msgs: [
          ['a.b', 5, { x: 1 }],
          ['c', 6, null],
        ],
      },
    ]);
  });

  it('fails (without throwing) on a huge length prefix before buffering it', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(0xffff_fff0);
    const decoder = new FrameDecoder(() => undefined);
    expect(decoder.push(head).ok).toBe(false);
    // Stays failed: the caller closes the connection.
    expect(decoder.push(encodeFrame(samples[0]!)).ok).toBe(false);
    const atCap = Buffer.alloc(4);
    atCap.writeUInt32BE(MAX_FRAME_BYTES + 1);
    expect(new FrameDecoder(() => undefined).push(atCap).ok).toBe(false);
  });

  it.each([
    ['bad JSON', Buffer.from('{"t":')],
    ['unknown type', Buffer.from('{"t":"nope"}')],
    ['wrong field type', Buffer.from('{"t":"sub","patterns":"md.>"}')],
    ['malformed batch entry', Buffer.from('{"t":"batch","msgs":[["a"]]}')],
    ['not an object', Buffer.from('42')],
  ])('rejects %s', (_name, body) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    expect(decodeAll([head, body]).ok).toBe(false);
  });

  it('never throws on random garbage', () => {
    for (let i = 0; i < 200; i++) {
      const decoder = new FrameDecoder(() => undefined);
      expect(() => decoder.push(randomBytes(1 + (i % 64) * 13))).not.toThrow();
    }
  });
});
