/**
 * Preloaded into a service by `npm run bench -- --profile-dir DIR` (NODE_OPTIONS="--import ..."; node
 * refuses --cpu-prof there): records a V8 CPU profile from start to exit and writes it to
 * $LEEDRUSH_CPU_PROFILE_DIR/<name>-<pid>.cpuprofile, readable by Chrome DevTools or speedscope.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, dirname, join } from 'node:path';

const dir = process.env.LEEDRUSH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // A same-thread session answers synchronously, so the profile is written before the process ends.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const name = basename(dirname(process.argv[1] ?? 'node'));
      writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
