/**
 * The core's side of the optimizer: it validates search requests, keeps every run and trial in
 * control.db (the supervisor is the only writer), hands runs to the `optimizer` service one at a time
 * (src/shared/optimizer-protocol.ts), stores each trial as it arrives, and says how far each run is.
 *
 * - Submit: checked against the strategy (parameter names, its bounds) with field errors; the trial
 *   set counted; stored as queued. When the optimizer service is running and free, the run starts at
 *   once, and a range the data cannot serve (gaps, nothing recorded) is refused then with a field
 *   error, the run not kept. Otherwise it waits, and says why in its `note`.
 * - Resume: whenever an optimizer service becomes ready, the run left `running` (the optimizer or
 *   Vigil died mid-run) is sent again with the ids of its stored trials, which are not recomputed;
 *   then the queued runs, oldest first. A run the optimizer died on three times fails instead.
 * - Trials are written in batches, one transaction per 250 ms (each commit rewrites the table's last
 *   pages: fewer commits, fewer bytes on the disk the trader syncs its orders to), and
 *   `optimizer.progress` is emitted at most twice a second per run, plus at every status change.
 * - Apply writes a trial's parameters into a trader's definition, through the supervisor's update.
 */
import { randomInt } from 'node:crypto';
import type { ServiceTransitionEvent } from '../../shared/services';
import { ApiError } from '../../shared/errors';
import type {
  AppliedStrategy,
  OptimizerRequest,
  OptimizerRun,
  OptimizerRunStatus,
  OptimizerRunPage,
  OptimizerTrialDetail,
  OptimizerTrialPage,
  StrategyInfo,
} from '../../shared/optimizer-api';
import {
  idRanges,
  OPTIMIZER_EVENTS,
  OPTIMIZER_METHODS,
  optimizerFinishedEventSchema,
  optimizerStartReplySchema,
  optimizerTrialEventSchema,
  type OptimizerStartParams,
  type TrialWire,
} from '../../shared/optimizer-protocol';
import type { ServiceDefinitionInput } from '../../shared/service-definition';
import type { ServiceInfo } from '../../shared/services';
import { isStrategyId, strategies, strategyIds, type StrategyDefinition } from '../../services/strategies';
import { planTrials } from '../../services/optimizer/space';
import type { OptimizerRepository, StoredRun, TrialQuery } from '../store/optimizer-repository';
import { ChildRequestError } from '../supervisor/child-requests';
import type { Supervisor } from '../supervisor/supervisor';
import type { EventHub } from './event-hub';
import type { OptimizerCommands } from './handlers';

/** The built-in program that runs searches. */
export const OPTIMIZER_PROGRAM = 'optimizer';
const FLUSH_MS = 250;
const PROGRESS_MS = 500;
/** Loading a long range of 1 s candles takes a while; the child answers `start` when loaded. */
const START_TIMEOUT_MS = 120_000;
const CANCEL_TIMEOUT_MS = 10_000;
/** A run during which the optimizer died this many times fails rather than being resumed again. */
const MAX_RUN_CRASHES = 3;

export interface OptimizerServiceDeps {
  repo: OptimizerRepository;
  supervisor: Pick<Supervisor, 'list' | 'get' | 'request' | 'onChildEvent' | 'update'>;
  events: EventHub;
  now?: () => number;
  onError?: (message: string, error: unknown) => void;
}

interface Active {
  runId: number;
  service: string;
  /** When this service's session of the run began, and the trials stored then (for the ETA). */
  since: number;
  doneAtStart: number;
}

type Outcome = { refused: ChildRequestError } | null;

export interface OptimizerSummary {
  runs: Record<OptimizerRunStatus, number>;
  /** Summed over queued and running runs (failed trials count as done too). */
  unfinishedTrials: { done: number; failed: number; total: number };
}

export class OptimizerService implements OptimizerCommands {
  private readonly repo: OptimizerRepository;
  private readonly sup: OptimizerServiceDeps['supervisor'];
  private readonly events: EventHub;
  private readonly now: () => number;
  private readonly onError: (message: string, error: unknown) => void;
  private active: Active | null = null;
  /** Dispatches run one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private pending: { runId: number; trial: TrialWire }[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly lastProgress = new Map<number, number>();
  private readonly progressTimers = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly off: (() => void)[] = [];
  /** Times the optimizer died while running each run, since Vigil started. */
  private readonly crashes = new Map<number, number>();
  private closed = false;

  constructor(deps: OptimizerServiceDeps) {
    this.repo = deps.repo;
    this.sup = deps.supervisor;
    this.events = deps.events;
    this.now = deps.now ?? Date.now;
    this.onError = deps.onError ?? ((m, e) => console.error(`[optimizer] ${m}:`, e));
    this.off.push(
      this.sup.onChildEvent((service, event) => {
        if (!this.isOptimizer(service)) return;
        if (event.name === OPTIMIZER_EVENTS.trial) this.onTrial(event.data);
        else if (event.name === OPTIMIZER_EVENTS.finished) this.onFinished(event.data);
      }),
      this.events.listen((event, payload) => {
        if (event === 'service.transition') this.onTransition(payload as ServiceTransitionEvent);
      }),
    );
    // An optimizer may be up already (autostarted before this service existed).
    this.kick();
  }

  // ---- commands ----

  strategies(): StrategyInfo[] {
    return strategyIds.map((id) => {
      const s: StrategyDefinition = strategies[id];
      return {
        id: s.id,
        version: s.version,
        label: s.label,
        description: s.description,
        params: s.params.map((p) => ({ ...p })),
      };
    });
  }

  async submit(input: OptimizerRequest): Promise<OptimizerRun> {
    if (!isStrategyId(input.strategy)) {
      throw fieldError(
        'request.strategy',
        `no strategy "${input.strategy}": the strategies are ${strategyIds.join(', ')}`,
      );
    }
    const def: StrategyDefinition = strategies[input.strategy];
    // A random search without a seed gets one now: the stored request reproduces the same trials.
    const request: OptimizerRequest =
      input.space.type === 'random' && input.space.seed === undefined
        ? { ...input, space: { ...input.space, seed: randomInt(2 ** 32) } }
        : input;
    const plan = planTrials(def, request);
    if (!plan.ok) {
      const issue = plan.issues[0]!;
      throw fieldError(`request.${issue.path}`, issue.message);
    }
    const id = this.repo.createRun({
      createdAt: this.now(),
      request,
      strategyVersion: def.version,
      total: plan.trials.length,
      skipped: plan.skipped,
    });
    const outcome = await this.serialize(() => this.dispatchNext(id));
    if (outcome?.refused) {
      this.repo.deleteRun(id);
      const e = outcome.refused;
      const field = e.field ?? 'request';
      throw new ApiError('invalid_input', `${field}: ${e.message}`, field);
    }
    const run = this.run(id);
    this.emitProgress(run, true);
    return run;
  }

  async cancel(id: number): Promise<OptimizerRun> {
    const run = this.stored(id, 'id');
    if (run.status !== 'queued' && run.status !== 'running') {
      throw new ApiError('conflict', `run ${id} is ${run.status} already`, 'id');
    }
    const active = this.active;
    if (active?.runId === id) {
      this.active = null;
      try {
        await this.sup.request(active.service, OPTIMIZER_METHODS.cancel, { runId: id }, CANCEL_TIMEOUT_MS);
      } catch (error) {
        // Gone or silent: nothing of the run goes on there either way (a late trial is dropped).
        this.onError(`cancelling run ${id} on ${active.service}`, error);
      }
    }
    this.flush();
    this.repo.setStatus(id, 'cancelled', { finishedAt: this.now(), error: 'cancelled by request' });
    const result = this.run(id);
    this.emitProgress(result, true);
    this.kick();
    return result;
  }

  runs(q: { limit: number; before?: number | undefined }): OptimizerRunPage {
    this.flush();
    const page = this.repo.runs(q.limit, q.before);
    return { items: page.items.map((r) => this.view(r)), next: page.next, total: page.total };
  }

  /** For /metrics: runs by status, and the trials of the unfinished ones. */
  summary(): OptimizerSummary {
    this.flush();
    const trials = { done: 0, failed: 0, total: 0 };
    for (const r of this.repo.unfinished()) {
      const { progress } = this.view(r);
      trials.done += progress.done;
      trials.failed += progress.failed;
      trials.total += progress.total;
    }
    return { runs: this.repo.countByStatus(), unfinishedTrials: trials };
  }

  run(id: number): OptimizerRun {
    this.flush();
    return this.view(this.stored(id, 'id'));
  }

  trials(q: TrialQuery): OptimizerTrialPage {
    this.flush();
    this.stored(q.runId, 'runId');
    return this.repo.trials(q);
  }

  trial(runId: number, trialId: number): OptimizerTrialDetail {
    this.flush();
    this.stored(runId, 'runId');
    const trial = this.repo.trial(runId, trialId);
    if (!trial) throw new ApiError('not_found', `run ${runId} has no trial ${trialId} (yet)`, 'trialId');
    return trial;
  }

  async apply(runId: number, trialId: number, service: string): Promise<ServiceInfo> {
    const trial = this.trial(runId, trialId);
    const run = this.stored(runId, 'runId');
    if (trial.status !== 'done') {
      throw new ApiError(
        'conflict',
        `trial ${trialId} failed (${trial.error ?? 'no reason'}): nothing to apply`,
        'trialId',
      );
    }
    let info: ServiceInfo;
    try {
      info = this.sup.get(service);
    } catch {
      throw new ApiError('not_found', `service: no service named "${service}"`, 'service');
    }
    if (info.kind !== 'trader') {
      throw fieldError(
        'service',
        `${service} is a ${info.kind} service: strategies are applied to traders only`,
      );
    }
    const id = run.request.strategy;
    if (!isStrategyId(id)) {
      throw new ApiError(
        'conflict',
        `strategy ${id} no longer exists: this result cannot be applied`,
        'runId',
      );
    }
    const def: StrategyDefinition = strategies[id];
    if (def.version !== run.strategyVersion) {
      throw new ApiError(
        'conflict',
        `${id} is at version ${def.version} now; run ${runId} measured version ${run.strategyVersion}: its parameters may not mean the same any more, run the search again`,
        'runId',
      );
    }
    const parsed = def.schema.safeParse(trial.params);
    if (!parsed.success) {
      throw new ApiError(
        'conflict',
        `trial ${trialId}'s parameters no longer fit ${id}: ${parsed.error.message}`,
        'trialId',
      );
    }
    const strategy: AppliedStrategy = {
      id,
      version: def.version,
      params: { ...parsed.data },
      source: { runId, trialId, appliedAt: this.now() },
    };
    const definition = { ...info.definition, config: { ...(info.definition.config ?? {}), strategy } };
    return this.sup.update(service, definition as ServiceDefinitionInput);
  }

  /** Writes what is queued and stops the timers (after the supervisor has stopped the optimizer). */
  close(): void {
    this.flush();
    this.closed = true;
    for (const off of this.off) off();
    for (const t of this.progressTimers.values()) clearTimeout(t);
    this.progressTimers.clear();
  }

  // ---- dispatch ----

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private kick(): void {
    if (this.closed) return;
    void this.serialize(() => this.dispatchNext(null)).catch((error: unknown) =>
      this.onError('starting the next run', error),
    );
  }

  /**
   * Starts the next run on a free, running optimizer: the one left running (a resume), else the
   * oldest queued. Returns the refusal when it was `submitting`'s first start that was refused.
   */
  private async dispatchNext(submitting: number | null): Promise<Outcome> {
    for (;;) {
      if (this.active || this.closed) return null;
      const service = this.runningOptimizer();
      if (!service) return null;
      const runs = this.repo.unfinished();
      const run = runs.find((r) => r.status === 'running') ?? runs[0];
      if (!run) return null;
      const outcome = await this.dispatch(run, service);
      if (outcome === 'unavailable') return null;
      if (outcome !== 'started') {
        if (run.id === submitting) return { refused: outcome };
        this.repo.setStatus(run.id, 'failed', { finishedAt: this.now(), error: outcome.message });
        this.emitProgress(this.run(run.id), true);
      } else {
        return null;
      }
    }
  }

  private async dispatch(
    run: StoredRun,
    service: string,
  ): Promise<'started' | 'unavailable' | ChildRequestError> {
    this.flush();
    const params: OptimizerStartParams = {
      runId: run.id,
      request: run.request,
      strategyVersion: run.strategyVersion,
      snapshot:
        run.split !== null && run.dataTo !== null && run.candles !== null
          ? {
              split: run.split,
              dataTo: run.dataTo,
              candles: run.candles,
              gapIds: (run.gaps ?? []).map((g) => g.id),
            }
          : null,
      done: idRanges(this.repo.doneIds(run.id)),
    };
    // Active before asking: its first trials may follow the reply at once.
    const active: Active = { runId: run.id, service, since: this.now(), doneAtStart: run.done };
    this.active = active;
    let raw: unknown;
    try {
      raw = await this.sup.request(service, OPTIMIZER_METHODS.start, params, START_TIMEOUT_MS);
    } catch (error) {
      if (this.active === active) this.active = null;
      if (error instanceof ChildRequestError && error.code !== 'busy') return error;
      this.onError(`starting run ${run.id} on ${service}`, error);
      return 'unavailable';
    }
    const reply = optimizerStartReplySchema.safeParse(raw);
    const problem = !reply.success
      ? `the optimizer answered start with something unexpected: ${reply.error.message}`
      : reply.data.total !== run.total
        ? `the search space expands to ${reply.data.total} trials now, ${run.total} when it was submitted: submit it again`
        : null;
    if (problem || !reply.success) {
      if (this.active === active) this.active = null;
      await this.sup
        .request(service, OPTIMIZER_METHODS.cancel, { runId: run.id }, CANCEL_TIMEOUT_MS)
        .catch(() => undefined);
      return new ChildRequestError(problem ?? 'bad reply', 'protocol', undefined);
    }
    if (this.active !== active) return 'started'; // cancelled while it loaded
    const r = reply.data;
    this.repo.setSnapshot(run.id, { split: r.split, dataTo: r.dataTo, candles: r.candles, gaps: r.gaps });
    this.repo.setStatus(run.id, 'running', { startedAt: this.now() });
    this.emitProgress(this.run(run.id), true);
    return 'started';
  }

  // ---- what the optimizer reports ----

  private onTrial(data: unknown): void {
    const parsed = optimizerTrialEventSchema.safeParse(data);
    if (!parsed.success) {
      this.onError('a trial event that does not fit the protocol was dropped', parsed.error);
      return;
    }
    // A cancelled run's late trial, or one from an optimizer we no longer wait on: dropped.
    if (this.active?.runId !== parsed.data.runId) return;
    this.pending.push(parsed.data);
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private onFinished(data: unknown): void {
    const parsed = optimizerFinishedEventSchema.safeParse(data);
    if (!parsed.success || this.active?.runId !== parsed.data.runId) return;
    const { runId, status, error } = parsed.data;
    this.active = null;
    this.flush();
    this.repo.setStatus(runId, status, { finishedAt: this.now(), error: error ?? null });
    this.emitProgress(this.run(runId), true);
    this.kick();
  }

  private onTransition(t: ServiceTransitionEvent): void {
    if (!this.isOptimizer(t.service)) return;
    if (t.to === 'running') {
      this.kick();
      return;
    }
    if (t.to === 'paused' || t.to === 'reloading') return;
    const active = this.active;
    if (active?.service !== t.service) return;
    // Its process is gone or going: the run stays `running` and resumes at the next ready, unless the
    // optimizer keeps dying on it (a range too big for memory): then it fails instead of looping.
    this.active = null;
    this.flush();
    const crashed = t.exit !== null && t.from !== 'stopping';
    const crashes = (this.crashes.get(active.runId) ?? 0) + (crashed ? 1 : 0);
    this.crashes.set(active.runId, crashes);
    if (crashes >= MAX_RUN_CRASHES) {
      this.repo.setStatus(active.runId, 'failed', {
        finishedAt: this.now(),
        error: `the optimizer died ${crashes} times during this run (last: ${t.exit?.reason ?? t.reason}); see its log`,
      });
    }
    this.emitProgress(this.run(active.runId), true);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const byRun = new Map<number, TrialWire[]>();
    for (const { runId, trial } of batch) {
      const list = byRun.get(runId);
      if (list) list.push(trial);
      else byRun.set(runId, [trial]);
    }
    const at = this.now();
    for (const [runId, trials] of byRun) {
      try {
        this.repo.addTrials(runId, trials, at);
      } catch (error) {
        // Not stored, so not done: a resume computes them again.
        this.onError(`storing ${trials.length} trials of run ${runId}`, error);
      }
      const run = this.repo.getRun(runId);
      if (run) this.emitProgress(this.view(run), false);
    }
  }

  // ---- views ----

  private stored(id: number, field: string): StoredRun {
    const run = this.repo.getRun(id);
    if (!run) throw new ApiError('not_found', `no optimizer run ${id}`, field);
    return run;
  }

  private view(run: StoredRun): OptimizerRun {
    const active = this.active?.runId === run.id ? this.active : null;
    let etaMs: number | null = null;
    if (active && run.status === 'running') {
      const elapsed = this.now() - active.since;
      const rate = (run.done - active.doneAtStart) / Math.max(1, elapsed);
      if (rate > 0) etaMs = Math.round((run.total - run.done) / rate);
    }
    return {
      id: run.id,
      status: run.status,
      request: run.request,
      strategyVersion: run.strategyVersion,
      split: run.split,
      dataTo: run.dataTo,
      skipped: run.skipped,
      progress: { done: run.done, total: run.total, failed: run.failed, etaMs, best: run.best },
      gaps: run.gaps,
      candles: run.candles,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      error: run.error,
      note: this.note(run, active !== null),
    };
  }

  private note(run: StoredRun, active: boolean): string | null {
    if (run.status !== 'queued' && run.status !== 'running') return null;
    if (active) return null;
    const optimizers = this.sup.list().filter((s) => isOptimizerProgram(s));
    if (optimizers.length === 0) {
      return 'waiting: no service runs the optimizer program (add one, kind optimizer, program optimizer)';
    }
    const up = optimizers.find((s) => s.state === 'running');
    if (up && this.active) return `queued behind run ${this.active.runId}`;
    const states = optimizers.map((s) => `${s.name} is ${s.state}`).join(', ');
    return run.status === 'running'
      ? `waiting for the optimizer to come back (${states}); finished trials are kept and not computed again`
      : `queued: ${states}; the run starts when the optimizer runs`;
  }

  private emitProgress(run: OptimizerRun, force: boolean): void {
    if (this.closed) return;
    const now = this.now();
    const last = this.lastProgress.get(run.id) ?? 0;
    const timer = this.progressTimers.get(run.id);
    if (force || now - last >= PROGRESS_MS) {
      if (timer) clearTimeout(timer);
      this.progressTimers.delete(run.id);
      this.lastProgress.set(run.id, now);
      const p = run.progress;
      this.events.emit('optimizer.progress', {
        runId: run.id,
        status: run.status,
        done: p.done,
        total: p.total,
        failed: p.failed,
        etaMs: p.etaMs,
        best: p.best,
      });
      if (run.status !== 'queued' && run.status !== 'running') this.lastProgress.delete(run.id);
      return;
    }
    if (timer) return;
    // The trailing one: the last trials of a burst are told too.
    this.progressTimers.set(
      run.id,
      setTimeout(
        () => {
          this.progressTimers.delete(run.id);
          const stored = this.repo.getRun(run.id);
          if (stored) this.emitProgress(this.view(stored), false);
        },
        PROGRESS_MS - (now - last),
      ),
    );
  }

  // ---- which services ----

  private isOptimizer(service: string): boolean {
    try {
      return isOptimizerProgram(this.sup.get(service));
    } catch {
      return false;
    }
  }

  private runningOptimizer(): string | null {
    return this.sup.list().find((s) => isOptimizerProgram(s) && s.state === 'running')?.name ?? null;
  }
}

function isOptimizerProgram(s: ServiceInfo): boolean {
  return s.program.type === 'builtin' && s.program.name === OPTIMIZER_PROGRAM;
}

function fieldError(field: string, message: string): ApiError {
  return new ApiError('invalid_input', `${field}: ${message}`, field);
}
