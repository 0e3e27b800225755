/** What every recharts chart shares: axis ticks, the tooltip box, and the live axis' "−N min … now" ticks. */
export const axisTick = { fontSize: 11, fill: 'var(--text-muted)' };

export const tooltipStyle = {
  background: 'var(--bg-raised)',
  border: '1px solid var(--border-strong)',
  borderRadius: 4,
  fontSize: 12,
  color: 'var(--text)',
};

/** A live axis tick: minutes before the newest point. */
export const agoTick = (t: number): string => (t === 0 ? 'now' : `−${Math.round(-t / 60_000)} min`);
