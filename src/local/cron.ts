/**
 * Deployment schedules: the next fire times (`upcoming_runs_at`) of a cron expression in an IANA
 * time zone. Which expressions and zones are accepted is src/kinds/deployment/cron.ts's rule,
 * shared with `agentform validate` (one copy of every API rule); this file turns its refusals
 * into the API's 400 and adds the wall-clock arithmetic only the local plane needs. Pure apart
 * from the clock passed in.
 *
 * Matching is literal wall-clock time in the schedule's zone, as the API documents: a wall time
 * that does not exist (the hour skipped when DST starts) never fires, and one that happens twice
 * (the hour repeated when DST ends) fires twice. So the search walks wall-clock days and minutes,
 * and turns each matching wall time into the zero, one or two instants that show it.
 */
import { cronMatchesDay, parseCron as parseCronExpression, validTimezone, type Cron } from "../kinds/deployment/cron.js";
import { badRequest } from "./api-error.js";

export type { Cron };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * How far ahead the search looks: every expression the parser accepts fires within it (the parser
 * refuses those that never fire, and Feb 29 can be 8 years away: 2096 → 2104).
 */
const HORIZON_DAYS = 3660;
/** More than any DST shift (at most 2 hours in tzdata), so a margin of this much in wall time is safe. */
const SHIFT_MARGIN = 3 * HOUR;

/** Parse a 5-field cron expression the way the API accepts it; a refusal is a 400 with the shared parser's message. */
export function parseCron(expression: string): Cron {
  const parsed = parseCronExpression(expression);
  if (!parsed.ok) throw badRequest(`schedule.expression: ${parsed.message}`);
  return parsed.cron;
}

// -- time zones -----------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** An IANA zone name as the shared rule (validTimezone) accepts it, returned as sent; otherwise a 400. */
export function checkTimeZone(timeZone: string): string {
  if (!validTimezone(timeZone)) {
    throw badRequest(`schedule.timezone: ${JSON.stringify(timeZone.slice(0, 100))} is not an IANA time zone name (such as "America/Los_Angeles" or "UTC")`);
  }
  return timeZone;
}

/** The zone's offset from UTC at `instant`, in milliseconds (wall time = instant + offset). */
function offsetAt(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day as number, parts.hour as number, parts.minute as number, parts.second as number);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instants that show wall time `wall` (a wall-clock time written as if it were UTC): none in
 * a DST gap, two in a DST overlap. `offsets` are the zone's offsets around that day.
 */
function instantsOf(wall: number, offsets: readonly number[], timeZone: string): number[] {
  if (offsets.length === 1) return [wall - (offsets[0] as number)];
  const out = new Set<number>();
  for (const off of offsets) if (offsetAt(wall - off, timeZone) === off) out.add(wall - off);
  return [...out].sort((a, b) => a - b);
}

/** Whether the schedule fires on the wall-clock day starting at `dayStart` (a midnight written as if it were UTC). */
function dayMatches(cron: Cron, dayStart: number): boolean {
  const d = new Date(dayStart);
  return cronMatchesDay(cron, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * The first `count` fire times strictly after `now`, as ISO strings, searching HORIZON_DAYS ahead.
 * Wall times are visited in order; across a DST overlap their instants are not, so the search
 * runs SHIFT_MARGIN past the count-th instant before sorting.
 */
export function upcomingRuns(cron: Cron, timeZone: string, now: Date, count: number): string[] {
  const t = now.getTime();
  const firstDay = Math.floor((t + offsetAt(t, timeZone)) / DAY) * DAY - DAY;
  const found: number[] = [];
  let stopWall = Infinity;
  for (let day = firstDay; day < firstDay + HORIZON_DAYS * DAY && day <= stopWall; day += DAY) {
    if (!dayMatches(cron, day)) continue;
    // Every instant showing a wall time of this day lies within [day - 14h, day + 38h].
    const probes = [day - 14 * HOUR, day + 12 * HOUR, day + 38 * HOUR].map((p) => offsetAt(p, timeZone));
    const offsets = [...new Set(probes)];
    // The hours and minutes are sorted, so wall times are visited in order.
    for (const h of cron.hours) {
      for (const m of cron.minutes) {
        const wall = day + h * HOUR + m * MINUTE;
        if (wall > stopWall) continue;
        for (const instant of instantsOf(wall, offsets, timeZone)) if (instant > t) found.push(instant);
        if (found.length >= count && stopWall === Infinity) stopWall = wall + SHIFT_MARGIN;
      }
    }
  }
  return found
    .sort((a, b) => a - b)
    .slice(0, count)
    .map((i) => new Date(i).toISOString());
}
