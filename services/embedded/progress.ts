import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** Plain lines at each quarter when stderr is not a terminal (a log, a pipe), so it stays readable. */
const QUARTERS = [0.25, 0.5, 0.75, 1];

/** A bar on a terminal, a few plain lines otherwise. */
export function createProgress(stream: NodeJS.WriteStream): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        stream,
        format: 'leads {bar} {value}/{total} ({percentage}%) {eta_formatted} left',
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let next = 0;
  return {
    update(done, total) {
      if (next >= QUARTERS.length || done < Math.ceil(total * (QUARTERS[next] as number))) return;
      stream.write(`leads: ${done}/${total}\n`);
      while (next < QUARTERS.length && done >= Math.ceil(total * (QUARTERS[next] as number))) next++;
    },
    stop() {},
  };
}
