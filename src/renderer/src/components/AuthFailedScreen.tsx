/** Shown instead of any page when the server refuses the token: explains the fix and takes a new one. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useConnection } from '../connection-context';

export function AuthFailedScreen() {
  const { submitToken } = useConnection();
  const [token, setToken] = useState('');

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const value = token.trim();
    if (value !== '' && submitToken) submitToken(value);
  };

  return (
    <section className="auth" data-testid="auth-failed">
      <div className="auth-card">
        <h1>Not authorized</h1>
        <p>
          The access token is missing or wrong — open the URL printed by <code>npm run headless</code>, or
          paste its token below.
        </p>
        <form className="auth-form" onSubmit={submit}>
          <label htmlFor="token-input">Access token</label>
          <div className="auth-row">
            <input
              id="token-input"
              data-testid="token-input"
              className="input mono"
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder="the value after ?token= in the printed URL"
              value={token}
              onChange={(e) => setToken(e.target.value)}
            />
            <button
              type="submit"
              className="btn btn-primary"
              data-testid="token-submit"
              disabled={token.trim() === ''}
            >
              Connect
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
