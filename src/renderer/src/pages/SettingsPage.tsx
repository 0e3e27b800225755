import { ConfigTransfer } from '../components/ConfigTransfer';
import { ErrorNote } from '../components/ErrorNote';
import { Field, Fields } from '../components/Fields';
import { Page } from '../components/Page';
import { SettingsForm } from '../components/SettingsForm';
import { ThemeChoice } from '../components/ThemeChoice';
import { useConnection } from '../connection-context';
import { formatTimestamp } from '../lib/format';
import { useAppInfoStore } from '../stores/app-info';
import { useConnectionStore } from '../stores/connection';
import { ApiConsole } from './ApiConsole';

export function SettingsPage() {
  return (
    <Page id="settings" title="Settings">
      <div className="settings-grid settings-main">
        <section className="panel" aria-labelledby="settings-vigil-title">
          <h2 className="section-title" id="settings-vigil-title">
            Vigil settings
          </h2>
          <SettingsForm />
        </section>
        <div className="settings-side">
          <section className="panel" aria-labelledby="settings-appearance-title">
            <h2 className="section-title" id="settings-appearance-title">
              Appearance
            </h2>
            <ThemeChoice />
          </section>
          <section className="panel">
            <h2 className="section-title">This Vigil</h2>
            <AppInfoFields />
          </section>
          <section className="panel">
            <h2 className="section-title">Connection</h2>
            <ConnectionFields />
          </section>
        </div>
      </div>
      <section className="panel" aria-labelledby="settings-config-title">
        <h2 className="section-title" id="settings-config-title">
          Configuration
        </h2>
        <ConfigTransfer />
      </section>
      <section className="panel">
        <h2 className="section-title">API console</h2>
        <ApiConsole />
      </section>
    </Page>
  );
}

function AppInfoFields() {
  const info = useAppInfoStore((s) => s.info);
  const error = useAppInfoStore((s) => s.error);
  if (error && !info) return <ErrorNote error={error} testId="info-error" />;
  if (!info) return <p className="muted">Loading…</p>;
  return (
    <Fields>
      <Field label="Version" testId="info-version">
        {info.version}
      </Field>
      <Field label="Mode" testId="info-mode">
        {info.mode}
      </Field>
      <Field label="Platform" testId="info-platform">
        {info.platform}/{info.arch}
      </Field>
      <Field label="Runtime" testId="info-runtime">
        Node {info.runtime.node}
        {info.runtime.electron && `, Electron ${info.runtime.electron}`}
      </Field>
      <Field label="PID" testId="info-pid">
        <span className="mono">{info.pid}</span>
      </Field>
      <Field label="Data directory" testId="info-data-dir">
        <span className="mono break">{info.dataDir}</span>
      </Field>
      <Field label="Started" testId="info-started">
        <span className="num">{formatTimestamp(info.startedAt)}</span>
      </Field>
    </Fields>
  );
}

function ConnectionFields() {
  const { transport } = useConnection();
  const status = useConnectionStore((s) => s.status);
  return (
    <Fields>
      <Field label="Transport">{transport}</Field>
      <Field label="State">{status.state}</Field>
      {status.server && (
        <Field label="Server">
          <span className="mono">{status.server}</span>
        </Field>
      )}
      {status.detail && <Field label="Detail">{status.detail}</Field>}
    </Fields>
  );
}
