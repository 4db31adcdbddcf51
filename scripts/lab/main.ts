// `npm run lab` (as root): builds the lab, runs the story, prints one table row per step, and
// removes everything on exit, after a failure or Ctrl-C too. `--steps 1,4,5` runs some steps;
// `--keep` leaves the lab up until Ctrl-C (to look around with `ip netns exec olab-de …`).
import { Lab, type StepRow } from './lab.js';

const args = process.argv.slice(2);
const stepsArg = args[args.indexOf('--steps') + 1];
const wanted =
  args.includes('--steps') && stepsArg !== undefined
    ? stepsArg.split(',')
    : ['1', '2', '3', '4', '5', '6', '7'];
const keep = args.includes('--keep');

const out = (s: string) => process.stdout.write(`${s}\n`);
const lab = new Lab();
lab.log = (l) => out(`  · ${l}`);

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  out('removing the lab (processes, namespaces, lock)…');
  await lab.stop();
  process.exit(code);
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop(130));

function table(rows: StepRow[]): string {
  const lines = ['| step | ok | what | figures |', '|------|----|------|---------|'];
  for (const r of rows)
    lines.push(`| ${r.step} | ${r.ok ? 'yes' : 'NO'} | ${r.what} | ${r.figures} |`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  out('Outpost lab: starting the hosts…');
  await lab.start();
  const steps: Record<string, () => Promise<StepRow>> = {
    '1': () => lab.step1(),
    '2': () => lab.step2(),
    '3': () => lab.step3(),
    '4': () => lab.step4(),
    '5': () => lab.step5(),
    '6': () => lab.step6(),
    '7': () => lab.step7(),
  };
  // step 1 first: it waits for the certificate the others need
  const order = ['1', ...wanted.filter((s) => s !== '1')];
  for (const s of order) {
    const run = steps[s];
    if (run === undefined)
      throw new Error(`no step ${s} (steps: ${Object.keys(steps).join(', ')})`);
    const row = await run();
    out(`  step ${row.step}: ${row.ok ? 'ok' : 'NOT OK'}: ${row.figures}`);
  }
  out('');
  out(table(lab.rows));
  if (keep) {
    out('--keep: the lab stays up; Ctrl-C removes it.');
    await new Promise(() => undefined);
  }
  return lab.rows.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => stop(code),
  (err: unknown) => {
    process.stderr.write(`lab failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (keep) out('--keep: the lab stays up for a look; Ctrl-C removes it.');
    else void stop(1);
  },
);
