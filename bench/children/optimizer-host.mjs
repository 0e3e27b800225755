// Stands in for the supervisor in the optimizer bench: forks the built optimizer program, hands it a
// run, and takes its trial events, so their handling does not load the bench process (which plays the
// market data source). Argument: JSON { program, dataDir, config, params }. Tells the bench
// { started, total } once the run is going, and { trials } when asked for a count; stops on "stop".
import { fork } from 'node:child_process';

const { program, dataDir, config, params } = JSON.parse(process.argv[2]);
const child = fork(program, {
  serialization: 'json',
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  env: {
    ...process.env,
    VIGIL_DATA_DIR: dataDir,
    VIGIL_CONFIG: JSON.stringify(config),
    VIGIL_PARENT_PID: String(process.pid),
  },
});
let trials = 0;
child.on('message', (m) => {
  if (m.type === 'ready') child.send({ type: 'request', id: 1, method: 'start', params });
  else if (m.type === 'reply' && m.error) process.send({ error: m.error.message });
  else if (m.type === 'reply') process.send({ started: true, total: m.result.total });
  else if (m.type === 'event' && m.name === 'trial') trials += 1;
});
process.on('message', (m) => {
  if (m === 'count') process.send({ trials });
  if (m === 'stop') {
    child.send({ type: 'stop', reason: 'bench done' });
    child.once('exit', () => process.exit(0));
  }
});
