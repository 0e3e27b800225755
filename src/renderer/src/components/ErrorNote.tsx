import type { ApiErrorShape } from '../../../shared/errors';

/** A typed API error: its code, its message, and the offending field when there is one. */
export function ErrorNote({
  error,
  testId,
  onDismiss,
}: {
  error: ApiErrorShape;
  testId?: string;
  onDismiss?: () => void;
}) {
  return (
    <div className="error-note" role="alert" data-testid={testId} data-code={error.code}>
      <span className="code-tag" data-testid={testId && `${testId}-code`}>
        {error.code}
      </span>
      <span className="error-message" data-testid={testId && `${testId}-message`}>
        {error.message}
      </span>
      {error.field !== undefined && (
        <span className="error-field">
          field <code data-testid={testId && `${testId}-field`}>{error.field}</code>
        </span>
      )}
      {onDismiss && (
        <button type="button" className="btn-link" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
