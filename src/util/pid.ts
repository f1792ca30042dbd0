/** Whether a process with this pid is running (on this machine). Used by pid-file locks. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, which still means it is running.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
