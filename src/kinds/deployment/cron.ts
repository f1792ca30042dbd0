/**
 * A deployment's schedule, `{type: "cron", expression, timezone}`: checks the expression and the
 * time zone the way the Managed Agents API does, and measures how often a schedule fires, so
 * validate can reject what apply would be refused and plan can show what a schedule costs.
 *
 * Pure: no I/O, no clock. Everything here depends only on its arguments (and, for time zones,
 * on the runtime's ICU time zone data).
 *
 * The syntax is 5-field cron: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12,
 * day-of-week 0-7 (0 and 7 are Sunday). Each field is a comma list of items:
 *   `*`, `*\/n`, `n`, `a-b`, `a-b/n`.
 * POSIX allows only numbers, ranges and lists; `*\/n` and `a-b/n` are accepted too because every
 * cron implementation the API is likely built on (Vixie cron/cronie, robfig/cron, croniter)
 * accepts them. `n/step` is rejected: Vixie cron rejects it and the others disagree on what it
 * means, so the message suggests the unambiguous `n-max/step`. Names (MON, JAN), Quartz
 * extensions (L, W, #, ?), seconds or year fields and shortcuts (@daily) are rejected, as the API
 * rejects them. A step larger than the field's maximum (`*\/60` for minutes) is rejected as
 * cronie rejects it: it can only be a mistake (`*\/60` means "minute 0", not "hourly").
 * Only spaces and tabs separate fields, as POSIX crontab says; a newline or other whitespace is
 * left in a field and rejected there. An expression that never fires (`0 0 30 2 *`) is rejected:
 * the API documents `upcoming_runs_at` as non-empty for every active or paused deployment.
 *
 * Matching is literal wall-clock time in the schedule's time zone. When both day fields are
 * restricted, a day matches if EITHER matches (classic cron); otherwise both must match.
 *
 * The local control plane (src/local/cron.ts) parses with this module too, so `validate` and the
 * local API accept exactly the same expressions and time zones.
 */

/** The fields in order; a parse failure's `field` is an index into this list. */
export const CRON_FIELDS = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;

/** The longest expression parseCron reads: keeps the work bounded whatever a manifest holds. */
export const MAX_CRON_LENGTH = 256;

/**
 * A parsed expression: each field as the sorted values it matches. Day-of-week is 0-6 with
 * Sunday 0 (a 7 in the expression is folded into 0).
 */
export interface Cron {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  readonly daysOfWeek: readonly number[];
  /** Whether the day field was written as something other than `*` (see isRestricted). */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

export type CronParse = { ok: true; cron: Cron } | { ok: false; field: number | null; message: string };

/** A wall-clock time in the schedule's time zone; month 1-12, and the date must exist. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

const DOW = 4;
const LIMITS: readonly (readonly [number, number])[] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
const ALLOWED = ["0-59", "0-23", "1-31", "1-12", "0-7 (0 and 7 are Sunday)"];

/** Shortcuts some crons accept, with the five fields to write instead. */
const SHORTCUTS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

type Values = { ok: true; values: number[] } | { ok: false; problem: string };

/** Parses a 5-field cron expression; a failure names the field (or null for the whole) and what is allowed. */
export function parseCron(expression: string): CronParse {
  const whole = (message: string): CronParse => ({ ok: false, field: null, message });
  if (expression.length > MAX_CRON_LENGTH) return whole(`cron expression is ${expression.length} characters long; at most ${MAX_CRON_LENGTH} are allowed`);
  // Only spaces and tabs separate fields (as in a crontab); any other character is left in a field and rejected there.
  const trimmed = expression.replace(/^[ \t]+|[ \t]+$/g, "");
  if (trimmed === "") return whole("cron expression is empty; write five fields: minute hour day-of-month month day-of-week");
  if (trimmed.startsWith("@")) {
    const instead = SHORTCUTS[trimmed.toLowerCase()];
    return whole(`shortcuts such as @daily are not accepted${instead ? `; write "${instead}" for ${trimmed}` : ""}; write five fields: minute hour day-of-month month day-of-week`);
  }
  const parts = trimmed.split(/[ \t]+/);
  if (parts.length === 6 || parts.length === 7) return whole(`cron expression has ${parts.length} fields; seconds and year fields are not accepted; write five fields: minute hour day-of-month month day-of-week`);
  if (parts.length !== 5) return whole(`cron expression has ${parts.length} field${parts.length === 1 ? "" : "s"}; write five fields: minute hour day-of-month month day-of-week`);
  const fields: number[][] = [];
  for (const [i, text] of parts.entries()) {
    const r = parseField(text, i);
    if (!r.ok) return { ok: false, field: i, message: `${CRON_FIELDS[i]} field "${text}": ${r.problem}` };
    fields.push(r.values);
  }
  const [minutes = [], hours = [], daysOfMonth = [], months = [], daysOfWeek = []] = fields;
  const cron: Cron = { minutes, hours, daysOfMonth, months, daysOfWeek, dayOfMonthRestricted: isRestricted(parts[2] ?? "*"), dayOfWeekRestricted: isRestricted(parts[DOW] ?? "*") };
  // Only a day-of-month no listed month has can make a schedule never fire: a restricted
  // day-of-week matches in every month, and every other field is a non-empty set.
  if (!everFires(cron)) return whole(`cron expression never fires: none of the months "${parts[3]}" has a day "${parts[2]}" (February has 29 days at most; April, June, September and November 30)`);
  return { ok: true, cron };
}

/**
 * Whether a day field takes part in the either-day rule. POSIX says "not `*`"; `*\/1` is the
 * same set as `*`, and Vixie cron and robfig/cron both treat it as `*`, so it is unrestricted
 * too. `*\/n` with n > 1 is restricted (robfig/cron, croniter; Vixie cron counts any field
 * starting with `*` as unrestricted, so the implementations disagree there).
 */
function isRestricted(text: string): boolean {
  return text !== "*" && text !== "*/1";
}

function parseField(text: string, index: number): Values {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const r = parseItem(item, index);
    if (!r.ok) return r;
    // Sunday is both 0 and 7; keep one of them so the sets compare and count correctly.
    for (const v of r.values) values.add(index === DOW && v === 7 ? 0 : v);
  }
  return { ok: true, values: [...values].sort((a, b) => a - b) };
}

function parseItem(item: string, index: number): Values {
  const [min, max] = LIMITS[index] ?? [0, 0];
  const bad = (problem: string): Values => ({ ok: false, problem });
  if (item === "") return bad("empty list item (a doubled, leading or trailing comma); write comma lists as a,b,c");
  const unsupported = unsupportedSyntax(item, index);
  if (unsupported) return bad(unsupported);
  const m = /^(?:(\*)|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
  if (!m) return bad(`"${item}" is not a valid item; write *, */n, n, a-b or a-b/n with values ${ALLOWED[index]}, or a comma list of these`);
  const [, star, lo, hi, stepText] = m;
  if (lo !== undefined && hi === undefined && stepText !== undefined) {
    return bad(`a step needs * or a range; write ${lo}-${max}/${stepText} for "from ${lo} every ${stepText}"`);
  }
  for (const text of [lo, hi]) {
    if (text !== undefined && (Number(text) < min || Number(text) > max)) return bad(`${text} is out of range; allowed values are ${ALLOWED[index]}`);
  }
  const low = star ? min : Number(lo);
  const high = star ? max : hi === undefined ? low : Number(hi);
  if (low > high) return bad(`range ${lo}-${hi} is reversed; write ranges low-high (they do not wrap around)`);
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step < 1 || step > max) return bad(`step ${stepText} is not allowed; a step must be 1-${max}`);
  const values: number[] = [];
  for (let v = low; v <= high; v += step) values.push(v);
  return { ok: true, values };
}

/** The message for syntax other crons accept and the API does not, or null. */
function unsupportedSyntax(item: string, index: number): string | null {
  const quartz = "Quartz syntax such as L, W, # or ? is not accepted";
  if (item.includes("?")) return `${quartz}: "?" means "no value"; use *`;
  if (item.includes("#")) return `${quartz}: "#" means "nth weekday of the month"; allowed values are ${ALLOWED[index]}`;
  if (/[A-Za-z]{3}/.test(item)) return `names such as MON or JAN are not accepted; use numbers: allowed values are ${ALLOWED[index]}`;
  if (/[LW]/i.test(item)) return `${quartz}: "L" and "W" mean "last day" and "nearest weekday"; allowed values are ${ALLOWED[index]}`;
  return null;
}

/** 0 (Sunday) to 6 for a calendar date; UTC so that no local time zone is involved. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Whether the schedule fires on this calendar day (at the hours and minutes it lists). */
export function cronMatchesDay(cron: Cron, year: number, month: number, day: number): boolean {
  if (!cron.months.includes(month)) return false;
  const dom = cron.daysOfMonth.includes(day);
  const dow = cron.daysOfWeek.includes(weekday(year, month, day));
  // An unrestricted field holds every value, so `&&` is right unless both are restricted.
  return cron.dayOfMonthRestricted && cron.dayOfWeekRestricted ? dom || dow : dom && dow;
}

/** Whether the schedule fires at this wall-clock minute. */
export function cronMatches(cron: Cron, at: WallClock): boolean {
  return cron.minutes.includes(at.minute) && cron.hours.includes(at.hour) && cronMatchesDay(cron, at.year, at.month, at.day);
}

/**
 * The fixed period frequencies are measured over: four calendar years, so it holds exactly one
 * 29 February and every month four times. Fixed rather than "the next 30 days" because plans
 * must be deterministic: a plan saved today and applied tomorrow must compare equal, so the
 * measure cannot depend on when it is taken. (1461 days are 208 weeks and 5 days, so five
 * weekdays occur once more than the other two: a bias under 0.5%.)
 */
export const REFERENCE_PERIOD = { firstYear: 2028, lastYear: 2031, days: 1461 } as const;

/**
 * Whether any day of the reference period matches. The period holds every month and every
 * (month, day) date, 29 February included, so this is whether the schedule ever fires.
 */
function everFires(cron: Cron): boolean {
  for (let year = REFERENCE_PERIOD.firstYear; year <= REFERENCE_PERIOD.lastYear; year++) {
    for (let month = 1; month <= 12; month++) {
      const last = daysInMonth(year, month);
      for (let day = 1; day <= last; day++) if (cronMatchesDay(cron, year, month, day)) return true;
    }
  }
  return false;
}

/**
 * How many wall-clock minutes in the reference period the schedule matches: exact, and at least
 * 1 for every schedule parseCron accepts (it refuses those that never fire, such as
 * `0 0 30 2 *`). Iterates days, not minutes: each matching day contributes every (hour, minute)
 * pair.
 */
export function firesInReferencePeriod(cron: Cron): number {
  let days = 0;
  for (let year = REFERENCE_PERIOD.firstYear; year <= REFERENCE_PERIOD.lastYear; year++) {
    for (let month = 1; month <= 12; month++) {
      const last = daysInMonth(year, month);
      for (let day = 1; day <= last; day++) if (cronMatchesDay(cron, year, month, day)) days++;
    }
  }
  return days * cron.hours.length * cron.minutes.length;
}

/**
 * How often the schedule fires in 30 days, on average over the reference period, rounded to
 * one decimal. Rare schedules round to 0 (`0 0 29 2 *` is 30/1461 ≈ 0.02), although every
 * schedule parseCron accepts fires at least once in the period (firesInReferencePeriod ≥ 1).
 */
export function firesPer30Days(cron: Cron): number {
  return Math.round((firesInReferencePeriod(cron) * 30 * 10) / REFERENCE_PERIOD.days) / 10;
}

let zoneNames: { exact: Set<string>; lower: Set<string> } | undefined;

/**
 * Whether `tz` is an IANA time zone name. Intl.supportedValuesOf("timeZone") lists only ICU's
 * canonical ids, which omit "UTC" and keep old names (Node 20 lists Asia/Calcutta but not
 * Asia/Kolkata, Europe/Kiev but not Europe/Kyiv), so a name it lacks is also accepted when
 * Intl.DateTimeFormat resolves it (IANA aliases such as Asia/Kolkata, US/Eastern). ICU ignores
 * case and the API's zone database may not, so wrong case is refused: a listed name (or UTC,
 * Etc/UTC) spelled in another case, and any name with a part that does not start with a capital
 * letter, as every IANA name's parts do ("utc", "us/pacific", "asia/kolkata"). An alias ICU
 * resolves in another upper-case spelling ("ASIA/KOLKATA") still passes: ICU does not say how
 * it spells its aliases. The accepted set follows the Node version's ICU data.
 */
export function validTimezone(tz: string): boolean {
  if (tz === "UTC" || tz === "Etc/UTC") return true;
  // IANA names are Area/Location words starting with a capital letter; this also keeps
  // offsets ("+01:00"), padding and lower-case spellings out.
  if (tz.length > 64 || !/^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(tz)) return false;
  zoneNames ??= (() => {
    const names = Intl.supportedValuesOf("timeZone");
    return { exact: new Set(names), lower: new Set([...names, "UTC", "Etc/UTC"].map((n) => n.toLowerCase())) };
  })();
  if (zoneNames.exact.has(tz)) return true;
  if (zoneNames.lower.has(tz.toLowerCase())) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
