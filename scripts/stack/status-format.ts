export interface ComponentStatus {
  name: string;
  address: string;
  healthy: boolean;
  pid?: number;
  version?: string;
  /** Why it is down, when it is. */
  reason?: string;
}

/** One aligned line per component: name, address, healthy/down, version (or the reason it is down). */
export function formatStatus(rows: ComponentStatus[]): string {
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const addressWidth = Math.max(...rows.map((r) => r.address.length));
  return rows
    .map((r) => {
      const state = r.healthy ? 'healthy' : 'down   ';
      const detail = r.healthy ? `${r.version ?? '?'}  pid ${r.pid ?? '?'}` : (r.reason ?? '');
      return `${r.name.padEnd(nameWidth)}  ${r.address.padEnd(addressWidth)}  ${state}  ${detail}`.trimEnd();
    })
    .join('\n');
}
