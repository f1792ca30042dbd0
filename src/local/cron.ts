/**
 * Deployment schedules: 5-field POSIX cron expressions, IANA time zones, and the next fire times
 * (`upcoming_runs_at`). Pure apart from the clock passed in.
 *
 * Matching is literal wall-clock time in the schedule's zone, as the API documents: a wall time
 * that does not exist (the hour skipped when DST starts) never fires, and one that happens twice
 * (the hour repeated when DST ends) fires twice. So the search walks wall-clock days and minutes,
 * and turns each matching wall time into the zero, one or two instants that show it.
 */
import { badRequest } from "./api-error.js";

/** A parsed expression: the allowed values of each field, and whether each day field starts with `*`. */
export interface CronSpec {
  minutes: readonly boolean[];
  hours: readonly boolean[];
  days: readonly boolean[];
  months: readonly boolean[];
  weekdays: readonly boolean[];
  /** Vixie cron's rule: when either day field starts with `*`, a day must match both; otherwise either. */
  dayStar: boolean;
  weekdayStar: boolean;
}

interface Field {
  name: string;
  min: number;
  max: number;
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  // 0 and 7 are both Sunday.
  { name: "day-of-week", min: 0, max: 7 },
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How far ahead a schedule must fire at least once: Feb 29 can be 8 years away (2096 → 2104). */
const HORIZON_DAYS = 3660;
/** More than any DST shift (at most 2 hours in tzdata), so a margin of this much in wall time is safe. */
const SHIFT_MARGIN = 3 * HOUR;
const ITEM = /^(?:\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/;

function fail(expression: string, why: string): never {
  throw badRequest(`schedule.expression: ${JSON.stringify(expression.slice(0, 100))} ${why}`);
}

/** One field: a list of `*`, `*\/n`, `a`, `a-b` or `a-b/n` items. */
function parseField(text: string, field: Field, expression: string): boolean[] {
  const allowed = new Array<boolean>(field.max + 1).fill(false);
  for (const item of text.split(",")) {
    const m = ITEM.exec(item);
    if (!m) fail(expression, `has an invalid ${field.name} field "${text}": use numbers, *, ranges a-b, steps */n or a-b/n, and lists`);
    const [, a, b, s] = m;
    if (a !== undefined && b === undefined && s !== undefined) fail(expression, `has "${item}" in the ${field.name} field: a step needs * or a range (a-b/n)`);
    const lo = a === undefined ? field.min : Number(a);
    const hi = a === undefined ? field.max : b === undefined ? lo : Number(b);
    const step = s === undefined ? 1 : Number(s);
    if (lo < field.min || hi > field.max) fail(expression, `has a ${field.name} value outside ${field.min}-${field.max}`);
    if (lo > hi) fail(expression, `has a reversed range "${item}" in the ${field.name} field`);
    if (step < 1 || step > field.max - field.min + 1) fail(expression, `has a step outside 1-${field.max - field.min + 1} in the ${field.name} field`);
    for (let v = lo; v <= hi; v += step) allowed[v] = true;
  }
  return allowed;
}

/** Parse a 5-field POSIX cron expression; every other form is a 400 naming what is not supported. */
export function parseCron(expression: string): CronSpec {
  const trimmed = expression.trim();
  if (trimmed.startsWith("@")) fail(expression, "is a shortcut; shortcuts such as @daily are not supported, write the 5 fields");
  if (/[LW#?]/i.test(trimmed)) fail(expression, "uses L, W, # or ?, which are not supported");
  const parts = trimmed === "" ? [] : trimmed.split(/\s+/);
  if (parts.length !== 5) fail(expression, `has ${parts.length} fields; write exactly 5 (minute hour day-of-month month day-of-week), without seconds or year`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, FIELDS[i] as Field, expression)) as [boolean[], boolean[], boolean[], boolean[], boolean[]];
  weekdays[0] = weekdays[0] === true || weekdays[7] === true;
  return { minutes, hours, days, months, weekdays: weekdays.slice(0, 7), dayStar: parts[2]?.startsWith("*") === true, weekdayStar: parts[4]?.startsWith("*") === true };
}

// -- time zones -----------------------------------------------------------------------------------

let supportedZones: Set<string> | null = null;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * An IANA zone name: one that `Intl.supportedValuesOf("timeZone")` lists, "UTC", or another name
 * ICU resolves (`Asia/Kolkata`, `Europe/Kyiv`, `US/Pacific`, `Etc/GMT+5`: ICU lists only its own
 * canonical names, such as `Asia/Calcutta`, and the current IANA names must not be refused). Each
 * part must start with a capital letter, since ICU matches names without regard to case and IANA
 * does not; that also keeps out the UTC offsets (`+05:00`) newer ICU versions accept.
 */
export function checkTimeZone(timeZone: string): string {
  supportedZones ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);
  if (supportedZones.has(timeZone)) return timeZone;
  let known = false;
  if (/^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/.test(timeZone)) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone });
      known = true;
    } catch {
      // not a zone ICU knows
    }
  }
  if (!known) {
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

function dayMatches(spec: CronSpec, dayStart: number): boolean {
  const d = new Date(dayStart);
  if (!spec.months[d.getUTCMonth() + 1]) return false;
  const dom = spec.days[d.getUTCDate()] === true;
  const dow = spec.weekdays[d.getUTCDay()] === true;
  return spec.dayStar || spec.weekdayStar ? dom && dow : dom || dow;
}

/**
 * The first `count` fire times strictly after `now`, as ISO strings, searching HORIZON_DAYS ahead.
 * Wall times are visited in order; across a DST overlap their instants are not, so the search
 * runs SHIFT_MARGIN past the count-th instant before sorting.
 */
export function upcomingRuns(spec: CronSpec, timeZone: string, now: Date, count: number): string[] {
  const t = now.getTime();
  const firstDay = Math.floor((t + offsetAt(t, timeZone)) / DAY) * DAY - DAY;
  const found: number[] = [];
  let stopWall = Infinity;
  for (let day = firstDay; day < firstDay + HORIZON_DAYS * DAY && day <= stopWall; day += DAY) {
    if (!dayMatches(spec, day)) continue;
    // Every instant showing a wall time of this day lies within [day - 14h, day + 38h].
    const probes = [day - 14 * HOUR, day + 12 * HOUR, day + 38 * HOUR].map((p) => offsetAt(p, timeZone));
    const offsets = [...new Set(probes)];
    for (let h = 0; h < 24; h++) {
      if (!spec.hours[h]) continue;
      for (let m = 0; m < 60; m++) {
        const wall = day + h * HOUR + m * MINUTE;
        if (!spec.minutes[m] || wall > stopWall) continue;
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
