import { useAppInfoStore } from '../stores/app-info';
import { ConnectionIndicator } from './ConnectionIndicator';
import { OpenAlertsBadge } from './OpenAlertsBadge';

export function Header() {
  const info = useAppInfoStore((s) => s.info);
  return (
    <header className="header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">Vigil</span>
        {info && (
          <span className="brand-meta" data-testid="app-version">
            v{info.version}
            <span className="sep">·</span>
            {info.mode}
          </span>
        )}
      </div>
      <div className="header-status">
        <OpenAlertsBadge />
        <ConnectionIndicator />
      </div>
    </header>
  );
}
