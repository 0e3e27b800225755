/**
 * The shape the time charts give recharts' `<Line>` (its `shape` prop): one straight-segment path
 * through the points recharts computed, broken at a missing value, to a tenth of a pixel, written as
 * one flat string. The default shape builds its path with d3 one number at a time (a string of
 * hundreds of joined pieces per line, kept as long as the line is shown) and measures it for an entry
 * animation these charts do not play.
 */
import type { ReactElement } from 'react';
import type { LineDrawShapeProps } from 'recharts';

/** `M x,y L x,y ...` through the points with a y; a point without one ends the segment. */
export function linePathData(points: LineDrawShapeProps['points']): string {
  const parts: string[] = [];
  let pen = false;
  for (const p of points ?? []) {
    if (p.x === null || p.y === null || p.x === undefined || p.y === undefined) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`);
    pen = true;
  }
  // join: one flat string, the pieces left to the next collection.
  return parts.join('');
}

export function lineShape(props: LineDrawShapeProps): ReactElement {
  return (
    <path
      className={props.className}
      d={linePathData(props.points)}
      fill="none"
      stroke={props.stroke}
      strokeWidth={props.strokeWidth}
      strokeDasharray={props.strokeDasharray}
      clipPath={props.clipPath}
    />
  );
}
