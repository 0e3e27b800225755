/**
 * For operators: run any command of the contract with a hand-written JSON input and see the envelope
 * exactly as the API returned it. Bad input is sent as typed, so the server's typed error shows.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import type { CommandName } from '../../../shared/api';
import { commandNames, commands } from '../../../shared/api';
import type { Envelope } from '../../../shared/errors';
import { ErrorNote } from '../components/ErrorNote';
import { JsonBlock } from '../components/JsonBlock';
import { useApi } from '../connection-context';
import { invokeByName } from '../lib/invoke';

type Outcome =
  | { kind: 'local'; message: string }
  | { kind: 'envelope'; command: CommandName; envelope: Envelope<unknown>; ms: number };

export function ApiConsole() {
  const api = useApi();
  const [command, setCommand] = useState<CommandName>('app.info');
  const [input, setInput] = useState('{}');
  const [running, setRunning] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const run = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch (error) {
      setOutcome({
        kind: 'local',
        message: `Not sent: the input is not valid JSON (${(error as Error).message}).`,
      });
      return;
    }
    setRunning(true);
    const started = performance.now();
    const envelope = await invokeByName(api, command, parsed);
    setOutcome({ kind: 'envelope', command, envelope, ms: performance.now() - started });
    setRunning(false);
  };

  return (
    <form className="console" onSubmit={(e) => void run(e)}>
      <div className="console-row">
        <label htmlFor="console-command">Command</label>
        <select
          id="console-command"
          className="input mono"
          data-testid="console-command"
          value={command}
          onChange={(e) => setCommand(e.target.value as CommandName)}
        >
          {commandNames.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <span className="muted">{commands[command].description}</span>
      </div>
      <div className="console-row console-input-row">
        <label htmlFor="console-input">Input</label>
        <textarea
          id="console-input"
          className="input mono"
          data-testid="console-input"
          rows={4}
          spellCheck={false}
          value={input}
          onChange={(e) => setInput(e.target.value)}
        />
        <button type="submit" className="btn btn-primary" data-testid="console-run" disabled={running}>
          {running ? 'Running…' : 'Run'}
        </button>
      </div>
      {outcome && <ConsoleOutcome outcome={outcome} />}
    </form>
  );
}

function ConsoleOutcome({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === 'local') {
    return (
      <div className="console-out" data-testid="console-output" data-ok="local">
        <p className="text-bad" data-testid="console-local-error">
          {outcome.message}
        </p>
      </div>
    );
  }
  const { envelope, command, ms } = outcome;
  return (
    <div className="console-out" data-testid="console-output" data-ok={envelope.ok}>
      <div className="console-meta">
        <span className={envelope.ok ? 'pill pill-ok' : 'pill pill-bad'}>{envelope.ok ? 'ok' : 'error'}</span>
        <span className="mono">{command}</span>
        <span className="muted num">{ms.toFixed(0)} ms</span>
      </div>
      {envelope.ok ? (
        <JsonBlock value={envelope.result} testId="console-result" />
      ) : (
        <ErrorNote error={envelope.error} testId="console-error" />
      )}
    </div>
  );
}
