/**
 * The supervisor's rule for starting a trader (src/main/supervisor/trader-confirmation.ts): a person
 * confirms the mode they were shown; a mode Vigil cannot tell is confirmed as live.
 */
import { describe, expect, it } from 'vitest';
import { checkTraderConfirmation } from '../../src/main/supervisor/trader-confirmation';
import { traderConfirmMode } from '../../src/shared/service-status';
import { serviceInfo, trader } from '../helpers/service-info';

const command = { type: 'command' as const, command: 'my-trader', args: [] };
const refusal = (message: RegExp) =>
  expect.objectContaining({
    code: 'confirmation-required',
    field: 'confirm',
    message: expect.stringMatching(message),
  });

describe('starting a trader needs its mode confirmed', () => {
  it('passes anything else through, with or without confirm', () => {
    const collector = serviceInfo({ name: 'c', kind: 'collector', state: 'stopped' });
    expect(() => checkTraderConfirmation(collector, 'start', undefined)).not.toThrow();
    expect(() => checkTraderConfirmation(collector, 'restart', { mode: 'live' })).not.toThrow();
  });

  it('a paper trader (set, or the built-in default) needs confirm: { mode: "paper" }', () => {
    for (const t of [trader('p', 'stopped', { mode: 'paper' }), trader('p', 'stopped')]) {
      expect(traderConfirmMode(t)).toBe('paper');
      expect(() => checkTraderConfirmation(t, 'start', undefined)).toThrow(
        refusal(/^p trades on paper: to start it, a person confirms that with confirm: \{ mode: "paper" \}$/),
      );
      expect(() => checkTraderConfirmation(t, 'restart', { mode: 'live' })).toThrow(
        refusal(/^p trades on paper, not "live": to restart it, confirm with confirm: \{ mode: "paper" \}$/),
      );
      expect(() => checkTraderConfirmation(t, 'start', { mode: 'paper' })).not.toThrow();
    }
  });

  it('a live trader needs "live", and says it trades real money', () => {
    const t = trader('l', 'stopped', { mode: 'live' }, { program: command });
    expect(() => checkTraderConfirmation(t, 'start', { mode: 'paper' })).toThrow(
      refusal(/l trades LIVE \(real orders, real money\), not "paper"/),
    );
    expect(() => checkTraderConfirmation(t, 'start', { mode: 'live' })).not.toThrow();
  });

  it('a mode Vigil cannot tell is confirmed as live', () => {
    for (const t of [
      trader('u', 'stopped', {}, { program: command }),
      trader('u', 'stopped', { mode: 'papr' }, { program: command }),
    ]) {
      expect(traderConfirmMode(t)).toBe('live');
      expect(() => checkTraderConfirmation(t, 'start', { mode: 'paper' })).toThrow(
        refusal(
          /u has a mode Vigil cannot tell \(unknown.*\), so it may trade live, not "paper".*mode: "live"/,
        ),
      );
      expect(() => checkTraderConfirmation(t, 'start', { mode: 'live' })).not.toThrow();
    }
  });
});
