/**
 * One colour per service, the same in every chart, legend, sparkline and row of the Dashboard: by the
 * service's place in the supervisor's list (stable while the list is), from a palette that reads on
 * both the dark and the light theme and stays apart from the state colours' meaning.
 */
const palette = [
  '#4e9cff', // blue
  '#e8a33d', // amber
  '#3ec7b0', // teal
  '#c678dd', // violet
  '#8fc754', // green
  '#ef6f9a', // pink
  '#5fc4e8', // sky
  '#d98f5c', // copper
  '#a3a3ff', // periwinkle
  '#c9b35a', // olive gold
  '#e06666', // coral
  '#7fb7a0', // sage
] as const;

/** The series that is not a service: the bus total in the message-rate chart. */
export const BUS_TOTAL_KEY = '__bus';
export const BUS_TOTAL_COLOR = 'var(--text-muted)';

export function serviceColor(name: string, names: readonly string[]): string {
  if (name === BUS_TOTAL_KEY) return BUS_TOTAL_COLOR;
  const index = names.indexOf(name);
  if (index >= 0) return palette[index % palette.length]!;
  // Not (or no longer) listed: a colour from its name, so it still stays the same everywhere.
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[hash % palette.length]!;
}

export function seriesLabel(key: string): string {
  return key === BUS_TOTAL_KEY ? 'bus (all publishers)' : key;
}
