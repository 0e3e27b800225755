/** A small horizontal meter with its figure beside it, and optional marks (a soft limit). */
export interface UsageBarProps {
  /** What it measures, for screen readers: "CPU of cpu-hog". */
  label: string;
  value: number | null;
  max: number;
  /** ok: normal; soft: over a warning line; hard: at or over the limit that acts. */
  band: 'ok' | 'soft' | 'hard' | 'none';
  text: string;
  /** Spoken value, e.g. "45 MB of a 512 MB hard limit". */
  valueText: string;
  marks?: { at: number; title: string }[];
  /** No limit applies: the bar only compares services, in a neutral colour. */
  unlimited?: boolean;
  title?: string;
  testId: string;
}

export function UsageBar({
  label,
  value,
  max,
  band,
  text,
  valueText,
  marks = [],
  unlimited = false,
  title,
  testId,
}: UsageBarProps) {
  const fraction = value === null || max <= 0 ? 0 : Math.min(1, Math.max(0, value / max));
  return (
    <div className="usage" data-testid={testId} data-band={band} data-unlimited={unlimited} title={title}>
      <div
        className="usage-track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={Math.round(max)}
        aria-valuenow={value === null ? undefined : Math.round(Math.min(value, max))}
        aria-valuetext={valueText}
      >
        {value !== null && (
          <div
            className="usage-fill"
            data-testid={`${testId}-fill`}
            style={{ width: `${(fraction * 100).toFixed(1)}%` }}
          />
        )}
        {marks
          .filter((m) => max > 0 && m.at < max)
          .map((m) => (
            <i
              key={m.title}
              className="usage-mark"
              title={m.title}
              style={{ left: `${((m.at / max) * 100).toFixed(1)}%` }}
            />
          ))}
      </div>
      <span className="usage-text num">{text}</span>
    </div>
  );
}
