/**
 * The whole configuration (services and settings) out and in. Export: the document as YAML or JSON,
 * to download or copy. Import: paste it or choose a file, see every change a dry run lists, then
 * Apply or Cancel; what is applied is exactly the text that was previewed.
 */
import { useRef, useState } from 'react';
import type { ChangeEvent } from 'react';
import { commands } from '../../../shared/api';
import type { ConfigChange } from '../../../shared/config';
import type { ApiErrorShape } from '../../../shared/errors';
import { zodErrorToApiError } from '../../../shared/validation';
import { useApi } from '../connection-context';
import { copyText, downloadText, exportFileName } from '../lib/download';
import { useConnectionStore } from '../stores/connection';
import { ErrorNote } from './ErrorNote';

type Format = 'json' | 'yaml';

export function ConfigTransfer() {
  return (
    <div className="transfer">
      <ConfigExport />
      <ConfigImport />
    </div>
  );
}

function ConfigExport() {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [format, setFormat] = useState<Format>('yaml');
  const [doc, setDoc] = useState<{ format: Format; text: string; at: Date } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);

  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    setCopied(null);
    const res = await api.config.export({ format });
    setBusy(false);
    if (res.ok) setDoc({ ...res.result, at: new Date() });
    else setError(res.error);
  };

  const copy = async (): Promise<void> => {
    if (doc) setCopied((await copyText(doc.text)) ? 'copied' : 'failed');
  };

  return (
    <section className="transfer-part" aria-labelledby="export-title">
      <h3 id="export-title" className="section-title">
        Export
      </h3>
      <div className="transfer-row">
        <label className="filter">
          <span className="filter-label">Format</span>
          <select
            className="input"
            data-testid="export-format"
            value={format}
            onChange={(e) => setFormat(e.target.value as Format)}
          >
            <option value="yaml">YAML</option>
            <option value="json">JSON</option>
          </select>
        </label>
        <button
          type="button"
          className="btn btn-primary"
          data-testid="export-run"
          disabled={!connected || busy}
          onClick={() => void run()}
        >
          {busy ? 'Exporting…' : doc ? 'Export again' : 'Export'}
        </button>
        {doc && (
          <>
            <button
              type="button"
              className="btn"
              data-testid="export-download"
              onClick={() =>
                downloadText(
                  exportFileName(doc.format, doc.at),
                  doc.text,
                  doc.format === 'json' ? 'application/json' : 'application/yaml',
                )
              }
            >
              Download
            </button>
            <button type="button" className="btn" data-testid="export-copy" onClick={() => void copy()}>
              Copy
            </button>
          </>
        )}
        <span className="muted" role="status" data-testid="export-status">
          {copied === 'copied'
            ? 'Copied to the clipboard.'
            : copied === 'failed'
              ? 'Could not copy: select the text and copy it by hand.'
              : ''}
        </span>
      </div>
      {error && <ErrorNote error={error} testId="export-error" />}
      {doc && (
        <textarea
          className="input mono transfer-text"
          data-testid="export-text"
          aria-label={`Exported configuration (${doc.format.toUpperCase()})`}
          readOnly
          wrap="off"
          rows={12}
          spellCheck={false}
          value={doc.text}
        />
      )}
      {!doc && !error && (
        <p className="form-hint muted">
          Every service definition and setting as one document, to keep, review or move to another machine.
        </p>
      )}
    </section>
  );
}

type Preview = { text: string; format: Format | undefined; changes: ConfigChange[] };

function ConfigImport() {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [text, setText] = useState('');
  const [format, setFormat] = useState<'auto' | Format>('auto');
  const [fileName, setFileName] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [applied, setApplied] = useState<number | null>(null);
  const [busy, setBusy] = useState<'dry-run' | 'apply' | null>(null);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const edit = (value: string): void => {
    setText(value);
    setPreview(null); // a preview is of the text it was made from
    setApplied(null);
    setError(null);
  };

  const chooseFile = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0];
    event.target.value = ''; // the same file can be chosen again
    if (!file) return;
    setFileName(file.name);
    if (/\.json$/i.test(file.name)) setFormat('json');
    else if (/\.ya?ml$/i.test(file.name)) setFormat('yaml');
    edit(await file.text());
  };

  const dryRun = async (): Promise<void> => {
    const fmt = format === 'auto' ? undefined : format;
    const input = { text, ...(fmt && { format: fmt }), dryRun: true };
    // The command's own input schema: an empty or oversized document is refused before it is sent.
    const checked = commands['config.import'].input.safeParse(input);
    if (!checked.success) {
      setError(zodErrorToApiError(checked.error));
      return;
    }
    setBusy('dry-run');
    setError(null);
    setApplied(null);
    const res = await api.config.import(input);
    setBusy(null);
    if (res.ok) setPreview({ text, format: fmt, changes: res.result.changes });
    else setError(res.error);
  };

  const apply = async (): Promise<void> => {
    if (!preview) return;
    setBusy('apply');
    setError(null);
    const res = await api.config.import({
      text: preview.text,
      ...(preview.format && { format: preview.format }),
      dryRun: false,
    });
    setBusy(null);
    if (res.ok) {
      setPreview(null);
      setApplied(res.result.changes.length);
    } else {
      setError(res.error);
    }
  };

  const n = preview?.changes.length ?? 0;
  return (
    <section className="transfer-part" aria-labelledby="import-title">
      <h3 id="import-title" className="section-title">
        Import
      </h3>
      <div className="transfer-row">
        <button
          type="button"
          className="btn"
          data-testid="import-choose"
          onClick={() => fileInput.current?.click()}
          disabled={busy !== null}
        >
          Choose a file…
        </button>
        <input
          ref={fileInput}
          type="file"
          className="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
          data-testid="import-file"
          onChange={(e) => void chooseFile(e)}
        />
        {fileName && <span className="mono muted">{fileName}</span>}
        <label className="filter">
          <span className="filter-label">Format</span>
          <select
            className="input"
            data-testid="import-format"
            value={format}
            onChange={(e) => {
              setFormat(e.target.value as 'auto' | Format);
              setPreview(null);
            }}
          >
            <option value="auto">Detect</option>
            <option value="yaml">YAML</option>
            <option value="json">JSON</option>
          </select>
        </label>
      </div>
      <textarea
        className="input mono transfer-text"
        data-testid="import-text"
        aria-label="Configuration to import (YAML or JSON)"
        placeholder="Paste an exported configuration here, or choose a file."
        rows={8}
        wrap="off"
        spellCheck={false}
        value={text}
        onChange={(e) => edit(e.target.value)}
      />
      <div className="transfer-row">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="import-dry-run"
          disabled={!connected || busy !== null || text.trim() === '' || preview !== null}
          onClick={() => void dryRun()}
        >
          {busy === 'dry-run' ? 'Checking…' : 'Preview changes'}
        </button>
        <span className="muted" role="status" data-testid="import-status">
          {applied !== null
            ? `Applied ${applied} change${applied === 1 ? '' : 's'}.`
            : preview
              ? n === 0
                ? 'Nothing would change: this is the current configuration.'
                : `${n} change${n === 1 ? '' : 's'} would be made. Nothing is changed until you apply.`
              : ''}
        </span>
      </div>
      {error && <ErrorNote error={error} testId="import-error" onDismiss={() => setError(null)} />}
      {preview && (
        <div className="import-preview" data-testid="import-preview" data-count={n}>
          {n > 0 && <ChangeList changes={preview.changes} />}
          <div className="transfer-row">
            {n > 0 && (
              <button
                type="button"
                className="btn btn-danger"
                data-testid="import-apply"
                disabled={!connected || busy !== null}
                onClick={() => void apply()}
              >
                {busy === 'apply' ? 'Applying…' : `Apply ${n} change${n === 1 ? '' : 's'}`}
              </button>
            )}
            <button
              type="button"
              className="btn"
              data-testid="import-cancel"
              disabled={busy !== null}
              onClick={() => setPreview(null)}
            >
              {n > 0 ? 'Cancel' : 'Close'}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

function ChangeList({ changes }: { changes: ConfigChange[] }) {
  return (
    <table className="table changes" data-testid="import-changes">
      <thead>
        <tr>
          <th>Change</th>
          <th>Where</th>
          <th>Now</th>
          <th className="wide">After import</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={`${c.kind}:${c.path}`} data-testid="import-change" data-kind={c.kind} data-path={c.path}>
            <td>
              <span className="change-kind" data-kind={c.kind}>
                {c.kind}
              </span>
            </td>
            <td className="mono">{c.path}</td>
            <td className="mono muted value">{c.kind === 'add' ? '—' : show(c.before)}</td>
            <td className="mono value">{c.kind === 'remove' ? '—' : show(c.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}
