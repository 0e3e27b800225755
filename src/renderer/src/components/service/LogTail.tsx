/**
 * A service's output, live: the recent lines, then each new one, and older ones on request (read back
 * from the rotated log files). Follow keeps the newest in view;
 * Pause holds the view still (new lines are counted, not shown); search marks and filters; the stream
 * filter picks out / err / vigil (the supervisor's own notes); Copy takes the lines shown. Only the
 * rows in view are in the DOM, so thousands of lines cost what twenty do.
 */
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, UIEvent } from 'react';
import type { LogLine } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import { copyText } from '../../lib/download';
import type { LogStream } from '../../lib/service-log';
import { copyTextOf, filterLines, lineTime, logStreams, splitMatches } from '../../lib/service-log';
import { useConnectionStore } from '../../stores/connection';
import { followLog, loadOlderLines, useLogTailStore } from '../../stores/log-tail';
import { ErrorNote } from '../ErrorNote';
import '../../styles/service.css';

/** Every row is this tall (CSS: .log-line), which is what makes the windowing exact. */
const ROW = 18;
/** Rows drawn beyond the visible ones, above and below. */
const OVERSCAN = 12;
const DEFAULT_VIEW = 360;

const streamLabel: Record<LogStream, string> = { out: 'stdout', err: 'stderr', vigil: 'vigil' };

type CopyState =
  | { kind: 'idle' }
  | { kind: 'copied'; count: number }
  /** Neither the Clipboard API nor the copy command worked: the text is offered to copy by hand. */
  | { kind: 'manual'; text: string; count: number };

/** The index of the first line whose seq is at least `seq` (lines are in seq order). */
function indexOfSeq(lines: readonly LogLine[], seq: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function LogTail({ name }: { name: string }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  useEffect(() => (connected ? followLog(api, name) : undefined), [api, name, connected]);
  const mine = useLogTailStore((s) => s.service === name);
  const lines = useLogTailStore((s) => s.lines);
  const total = useLogTailStore((s) => s.total);
  const status = useLogTailStore((s) => s.status);
  const error = useLogTailStore((s) => s.error);
  const older = useLogTailStore((s) => s.older);
  const olderError = useLogTailStore((s) => s.olderError);

  const [follow, setFollow] = useState(true);
  const [paused, setPaused] = useState<{ lines: readonly LogLine[]; total: number } | null>(null);
  const [search, setSearch] = useState('');
  const [onlyMatching, setOnlyMatching] = useState(true);
  const [streams, setStreams] = useState<ReadonlySet<LogStream>>(() => new Set(logStreams));
  const [copy, setCopy] = useState<CopyState>({ kind: 'idle' });
  const searchId = useId();

  const source = paused?.lines ?? lines;
  const { shown, matching } = useMemo(
    () => filterLines(source, { streams, search, onlyMatching }),
    [source, streams, search, onlyMatching],
  );
  const newWhilePaused = paused ? Math.max(0, total - paused.total) : 0;
  const dropped = Math.max(0, total - lines.length);
  const following = follow && paused === null;

  // ---- the window of rows in the DOM ----
  const viewRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(DEFAULT_VIEW);
  /** The line at the top of the view and how far it is scrolled past, to hold it still. */
  const anchor = useRef<{ seq: number; offset: number } | null>(null);

  const loading = !mine || status === 'idle' || (status === 'loading' && lines.length === 0);
  // The view exists once loaded (again after a reconnect): measure it from then on.
  useEffect(() => {
    const el = viewRef.current;
    if (loading || !el) return;
    const observer = new ResizeObserver(() => setViewHeight(el.clientHeight || DEFAULT_VIEW));
    observer.observe(el);
    return () => observer.disconnect();
  }, [loading]);

  const height = shown.length * ROW;
  // Following: the window is the bottom, whatever the last scroll event said.
  const top = following ? Math.max(0, height - viewHeight) : scrollTop;
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((top + viewHeight) / ROW) + OVERSCAN);

  useLayoutEffect(() => {
    const el = viewRef.current;
    if (!el) return;
    if (following) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    // Not following: keep the same line at the top while lines come and go around it.
    const a = anchor.current;
    if (a === null) return;
    const at = indexOfSeq(shown, a.seq) * ROW + a.offset;
    if (Math.abs(el.scrollTop - at) >= 1) el.scrollTop = at;
  }, [shown, following]);

  const onScroll = (event: UIEvent<HTMLDivElement>): void => {
    const el = event.currentTarget;
    syncScroll();
    // Scrolled up by the person: stop following (End or "Latest" follows again).
    if (following && el.scrollTop + el.clientHeight < el.scrollHeight - ROW * 2) setFollow(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === 'End') setFollow(true);
    else if (['Home', 'PageUp', 'ArrowUp'].includes(event.key)) setFollow(false);
  };

  /** Leaving the bottom-pinned window: start from where the view really is. */
  const syncScroll = (): void => {
    const el = viewRef.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    const index = Math.floor(el.scrollTop / ROW);
    const line = shown[index];
    anchor.current = line ? { seq: line.seq, offset: el.scrollTop - index * ROW } : null;
  };

  const togglePause = (): void => {
    syncScroll();
    setPaused((p) => (p ? null : { lines, total }));
    setCopy({ kind: 'idle' });
  };

  const toggleFollow = (): void => {
    syncScroll();
    setFollow((f) => !f);
  };

  const toggleStream = (stream: LogStream): void =>
    setStreams((s) => {
      const next = new Set(s);
      if (next.has(stream)) next.delete(stream);
      else next.add(stream);
      return next;
    });

  const doCopy = async (): Promise<void> => {
    const text = copyTextOf(shown);
    const ok = await copyText(text);
    setCopy(ok ? { kind: 'copied', count: shown.length } : { kind: 'manual', text, count: shown.length });
  };

  if (loading) {
    return <p className="muted">Loading the output of {name}…</p>;
  }

  return (
    <div className="log-tail" data-testid="log-tail" data-following={following} data-paused={paused !== null}>
      <div className="log-toolbar" role="toolbar" aria-label={`Output of ${name}`}>
        <button
          type="button"
          className="btn btn-small"
          data-testid="log-follow"
          aria-pressed={follow}
          disabled={paused !== null}
          title="Keep the newest line in view (End)"
          onClick={toggleFollow}
        >
          Follow
        </button>
        <button
          type="button"
          className="btn btn-small"
          data-testid="log-pause"
          aria-pressed={paused !== null}
          onClick={togglePause}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <div className="log-streams" role="group" aria-label="Streams">
          {logStreams.map((s) => (
            <button
              key={s}
              type="button"
              className="btn btn-small log-stream-toggle"
              data-stream={s}
              data-testid={`log-stream-${s}`}
              aria-pressed={streams.has(s)}
              title={`Show ${streamLabel[s]} lines`}
              onClick={() => toggleStream(s)}
            >
              {s}
            </button>
          ))}
        </div>
        <label htmlFor={searchId} className="sr-only">
          Search the output
        </label>
        <input
          id={searchId}
          className="input log-search"
          type="search"
          placeholder="Search"
          data-testid="log-search"
          value={search}
          spellCheck={false}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setSearch('');
          }}
        />
        <label className="svc-inline-check">
          <input
            type="checkbox"
            data-testid="log-only-matching"
            checked={onlyMatching}
            onChange={(e) => setOnlyMatching(e.target.checked)}
          />
          only matching
        </label>
        <button
          type="button"
          className="btn btn-small"
          data-testid="log-copy"
          disabled={shown.length === 0}
          onClick={() => void doCopy()}
        >
          Copy
        </button>
      </div>

      <div className="log-statusline">
        <span data-testid="log-status" role="status">
          {shown.length === lines.length && !paused
            ? `${lines.length} line${lines.length === 1 ? '' : 's'}`
            : `${shown.length} of ${source.length} lines shown`}
          {search !== '' && `, ${matching} matching “${search}”`}
          {dropped > 0 && ` (the oldest ${dropped} dropped here; Load older reads them back)`}
        </span>
        {older === 'start' ? (
          <span className="muted" data-testid="log-start">
            From the start of the log.
          </span>
        ) : (
          <button
            type="button"
            className="btn-inline"
            data-testid="log-older"
            disabled={!connected || older === 'loading' || paused !== null}
            title={paused ? 'Resume first' : 'The lines before the oldest one shown, from the log files'}
            onClick={() => {
              syncScroll();
              setFollow(false);
              void loadOlderLines();
            }}
          >
            {older === 'loading' ? 'Loading older lines…' : 'Load older lines'}
          </button>
        )}
        {paused && (
          <span className="log-new" data-testid="log-new-count" data-count={newWhilePaused}>
            Paused: {newWhilePaused} new line{newWhilePaused === 1 ? '' : 's'}
          </span>
        )}
        {!following && !paused && (
          <button
            type="button"
            className="btn-inline"
            data-testid="log-latest"
            onClick={() => setFollow(true)}
          >
            Jump to the latest
          </button>
        )}
        {copy.kind === 'copied' && (
          <span className="muted" data-testid="log-copy-status">
            Copied {copy.count} line{copy.count === 1 ? '' : 's'}.
          </span>
        )}
      </div>
      {status === 'error' && error && <ErrorNote error={error} testId="log-error" />}
      {older === 'error' && olderError && <ErrorNote error={olderError} testId="log-older-error" />}

      {copy.kind === 'manual' && (
        <ManualCopy text={copy.text} count={copy.count} onClose={() => setCopy({ kind: 'idle' })} />
      )}

      <div
        ref={viewRef}
        className="log-view"
        data-testid="log-view"
        tabIndex={0}
        role="log"
        aria-live="off"
        aria-label={`Output of ${name}; End follows the newest line`}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        onWheel={(e) => {
          if (e.deltaY < 0 && following) setFollow(false);
        }}
      >
        {shown.length === 0 ? (
          <p className="muted log-empty" data-testid="log-empty">
            {lines.length === 0 ? 'No output yet.' : 'No line matches these filters.'}
          </p>
        ) : (
          <>
            <div style={{ height: first * ROW }} aria-hidden="true" />
            {shown.slice(first, last).map((line) => (
              <Row key={line.seq} line={line} search={search} />
            ))}
            <div style={{ height: (shown.length - last) * ROW }} aria-hidden="true" />
          </>
        )}
      </div>
    </div>
  );
}

function Row({ line, search }: { line: LogLine; search: string }) {
  const parts = splitMatches(line.text, search);
  return (
    <div className="log-line" data-testid="log-line" data-stream={line.stream} data-seq={line.seq}>
      <span className="log-time">{lineTime(line.at)}</span>
      <span className="log-stream" data-stream={line.stream}>
        {line.stream}
      </span>
      <span className="log-text">
        {parts.map((part, i) =>
          i % 2 === 1 ? (
            <mark key={i} data-testid="log-mark">
              {part}
            </mark>
          ) : (
            part
          ),
        )}
      </span>
    </div>
  );
}

/** The fallback when copying is refused: the lines, selected, to copy with the keyboard. */
function ManualCopy({ text, count, onClose }: { text: string; count: number; onClose: () => void }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, [text]);
  return (
    <div className="log-manual-copy" data-testid="log-copy-manual" role="group" aria-label="Copy by hand">
      <p>
        This window may not use the clipboard. The {count} line{count === 1 ? ' is' : 's are'} selected below:
        press Ctrl+C (⌘C on a Mac) to copy {count === 1 ? 'it' : 'them'}.
      </p>
      <textarea
        ref={ref}
        className="input mono"
        data-testid="log-copy-text"
        readOnly
        rows={6}
        value={text}
        aria-label="The lines to copy"
      />
      <button type="button" className="btn btn-small" data-testid="log-copy-close" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
