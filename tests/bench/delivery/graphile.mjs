// The graphile-worker side of the claim + complete benchmark: runs the JOBS no-op jobs of task
// TASK (run.sh queued them), batching on (local queue, batched completion), then prints the time.
//   node graphile.mjs CONNECTION_STRING TASK JOBS CONCURRENCY
import { Logger, run } from "graphile-worker";

const [connectionString, task, jobsText, concurrencyText] = process.argv.slice(2);
const jobs = Number(jobsText);
const concurrency = Number(concurrencyText);
const preset = {
  worker: {
    connectionString,
    concurrentJobs: concurrency,
    maxPoolSize: concurrency + 2,
    pollInterval: 1000,
    localQueue: { size: concurrency + 1 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
};

let done = 0;
let first = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));
const started = process.hrtime.bigint();
const runner = await run({
  preset,
  noHandleSignals: true,
  // Quiet: logging each job to the console would measure the console.
  logger: new Logger(() => () => {}),
  taskList: {
    [task]: async () => {
      if (!first) first = process.hrtime.bigint();
      if (++done === jobs) finish();
    },
  },
});
await finished;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await runner.stop();
console.log(`graphile ${jobs} ${seconds.toFixed(3)}`);
