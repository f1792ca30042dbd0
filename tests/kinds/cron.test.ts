/**
 * Deployment schedules (src/kinds/deployment/cron.ts): parsing 5-field cron the way the API
 * accepts it, the either-day rule, the frequency measure over the fixed reference period, and
 * time zone names. Expected counts were computed independently by walking every minute of
 * 2028-2031 with hand-written predicates.
 */
import { describe, expect, it } from "vitest";
import { CRON_FIELDS, MAX_CRON_LENGTH, REFERENCE_PERIOD, cronMatches, firesInReferencePeriod, firesPer30Days, parseCron, validTimezone, type Cron } from "../../src/kinds/deployment/cron.js";

function cron(expression: string): Cron {
  const r = parseCron(expression);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(expression)} to parse: ${r.message}`);
  return r.cron;
}

function failure(expression: string): { field: number | null; message: string } {
  const r = parseCron(expression);
  if (r.ok) throw new Error(`expected ${JSON.stringify(expression)} to be rejected`);
  return { field: r.field, message: r.message };
}

const at = (year: number, month: number, day: number, hour = 0, minute = 0) => ({ year, month, day, hour, minute });

describe("parseCron: accepted expressions", () => {
  it("expands *, */n, n, a-b, a-b/n and lists into sorted values", () => {
    expect(cron("*/15 0,12 1-3 1-12/4 *")).toEqual({
      minutes: [0, 15, 30, 45],
      hours: [0, 12],
      daysOfMonth: [1, 2, 3],
      months: [1, 5, 9],
      daysOfWeek: [0, 1, 2, 3, 4, 5, 6],
      dayOfMonthRestricted: true,
      dayOfWeekRestricted: false,
    });
  });

  it("merges overlapping list items and sorts them", () => {
    expect(cron("50-55,0,52,10-20/5 * * * *").minutes).toEqual([0, 10, 15, 20, 50, 51, 52, 53, 54, 55]);
  });

  it("accepts the bounds of every field", () => {
    expect(cron("0,59 0,23 1,31 1,12 0,6")).toMatchObject({ minutes: [0, 59], hours: [0, 23], daysOfMonth: [1, 31], months: [1, 12], daysOfWeek: [0, 6] });
  });

  it("splits on runs of spaces and tabs and ignores leading and trailing ones", () => {
    expect(cron(" \t0\t\t9  *   * \t1-5 ")).toMatchObject({ minutes: [0], hours: [9], daysOfWeek: [1, 2, 3, 4, 5] });
  });

  it("reads 0 and 7 both as Sunday", () => {
    expect(cron("0 0 * * 0").daysOfWeek).toEqual([0]);
    expect(cron("0 0 * * 7").daysOfWeek).toEqual([0]);
    expect(cron("0 0 * * 5-7").daysOfWeek).toEqual([0, 5, 6]);
    expect(cron("0 0 * * 0,7").daysOfWeek).toEqual([0]);
    // 2028-01-02 is a Sunday.
    expect(cronMatches(cron("0 0 * * 7"), at(2028, 1, 2))).toBe(true);
    expect(cronMatches(cron("0 0 * * 0"), at(2028, 1, 2))).toBe(true);
    expect(cronMatches(cron("0 0 * * 7"), at(2028, 1, 3))).toBe(false);
  });

  it("counts a day field as restricted unless it is * or */1", () => {
    expect(cron("0 0 * * *")).toMatchObject({ dayOfMonthRestricted: false, dayOfWeekRestricted: false });
    expect(cron("0 0 */1 * */1")).toMatchObject({ dayOfMonthRestricted: false, dayOfWeekRestricted: false });
    expect(cron("0 0 */2 * 1-7")).toMatchObject({ dayOfMonthRestricted: true, dayOfWeekRestricted: true });
  });
});

describe("parseCron: rejected expressions name the field and what is allowed", () => {
  it.each([
    ["60 * * * *", 0, 'minute field "60": 60 is out of range; allowed values are 0-59'],
    ["0 24 * * *", 1, 'hour field "24": 24 is out of range; allowed values are 0-23'],
    ["0 0 0 * *", 2, 'day-of-month field "0": 0 is out of range; allowed values are 1-31'],
    ["0 0 32 * *", 2, 'day-of-month field "32": 32 is out of range; allowed values are 1-31'],
    ["0 0 * 13 *", 3, 'month field "13": 13 is out of range; allowed values are 1-12'],
    ["0 0 * 0 *", 3, 'month field "0": 0 is out of range; allowed values are 1-12'],
    ["0 0 * * 8", 4, 'day-of-week field "8": 8 is out of range; allowed values are 0-7 (0 and 7 are Sunday)'],
    ["0 0 * * 1-8", 4, 'day-of-week field "1-8": 8 is out of range; allowed values are 0-7 (0 and 7 are Sunday)'],
  ])("out of range: %s", (expression, field, message) => {
    expect(failure(expression)).toEqual({ field, message });
  });

  it.each([
    ["0 17-9 * * *", 1, 'hour field "17-9": range 17-9 is reversed; write ranges low-high (they do not wrap around)'],
    ["0 0 * * 5-1", 4, 'day-of-week field "5-1": range 5-1 is reversed; write ranges low-high (they do not wrap around)'],
  ])("reversed range: %s", (expression, field, message) => {
    expect(failure(expression)).toEqual({ field, message });
  });

  it.each([
    ["*/0 * * * *", 0, 'minute field "*/0": step 0 is not allowed; a step must be 1-59'],
    ["0 1-10/0 * * *", 1, 'hour field "1-10/0": step 0 is not allowed; a step must be 1-23'],
    ["*/60 * * * *", 0, 'minute field "*/60": step 60 is not allowed; a step must be 1-59'],
  ])("bad step: %s", (expression, field, message) => {
    expect(failure(expression)).toEqual({ field, message });
  });

  it("rejects n/step and suggests the range form", () => {
    expect(failure("5/15 * * * *")).toEqual({ field: 0, message: 'minute field "5/15": a step needs * or a range; write 5-59/15 for "from 5 every 15"' });
  });

  it.each([
    ["1,,2 * * * *", 0, "1,,2"],
    ["0 ,9 * * *", 1, ",9"],
    ["0 9 * * 1,", 4, "1,"],
  ])("empty list item: %s", (expression, field, text) => {
    expect(failure(expression)).toEqual({ field, message: `${CRON_FIELDS[field]} field "${text}": empty list item (a doubled, leading or trailing comma); write comma lists as a,b,c` });
  });

  it.each([
    ["0 9 * * MON", 4, "MON", "0-7 (0 and 7 are Sunday)"],
    ["0 9 * * mon-fri", 4, "mon-fri", "0-7 (0 and 7 are Sunday)"],
    ["0 9 1 JAN *", 3, "JAN", "1-12"],
  ])("names: %s", (expression, field, text, allowed) => {
    expect(failure(expression)).toEqual({ field, message: `${CRON_FIELDS[field]} field "${text}": names such as MON or JAN are not accepted; use numbers: allowed values are ${allowed}` });
  });

  const quartz = "Quartz syntax such as L, W, # or ? is not accepted";
  it.each([
    ["0 0 L * *", 2, `day-of-month field "L": ${quartz}: "L" and "W" mean "last day" and "nearest weekday"; allowed values are 1-31`],
    ["0 0 15W * *", 2, `day-of-month field "15W": ${quartz}: "L" and "W" mean "last day" and "nearest weekday"; allowed values are 1-31`],
    ["0 0 * * 5L", 4, `day-of-week field "5L": ${quartz}: "L" and "W" mean "last day" and "nearest weekday"; allowed values are 0-7 (0 and 7 are Sunday)`],
    ["0 0 * * 1#2", 4, `day-of-week field "1#2": ${quartz}: "#" means "nth weekday of the month"; allowed values are 0-7 (0 and 7 are Sunday)`],
    ["0 0 ? * 1", 2, `day-of-month field "?": ${quartz}: "?" means "no value"; use *`],
  ])("Quartz extensions: %s", (expression, field, message) => {
    expect(failure(expression)).toEqual({ field, message });
  });

  it.each([
    ["*-5 * * * *", 0, 'minute field "*-5": "*-5" is not a valid item; write *, */n, n, a-b or a-b/n with values 0-59, or a comma list of these'],
    ["0 9 * * -1", 4, 'day-of-week field "-1": "-1" is not a valid item; write *, */n, n, a-b or a-b/n with values 0-7 (0 and 7 are Sunday), or a comma list of these'],
    ["0 9.5 * * *", 1, 'hour field "9.5": "9.5" is not a valid item; write *, */n, n, a-b or a-b/n with values 0-23, or a comma list of these'],
  ])("malformed item: %s", (expression, field, message) => {
    expect(failure(expression)).toEqual({ field, message });
  });

  it("rejects seconds and year fields", () => {
    const fix = "write five fields: minute hour day-of-month month day-of-week";
    expect(failure("0 0 9 * * 1")).toEqual({ field: null, message: `cron expression has 6 fields; seconds and year fields are not accepted; ${fix}` });
    expect(failure("0 0 9 * * 1 2030")).toEqual({ field: null, message: `cron expression has 7 fields; seconds and year fields are not accepted; ${fix}` });
    expect(failure("0 9 * *")).toEqual({ field: null, message: `cron expression has 4 fields; ${fix}` });
    expect(failure("0 0 9 * * 1 2030 x")).toEqual({ field: null, message: `cron expression has 8 fields; ${fix}` });
    expect(failure(" \t ")).toEqual({ field: null, message: `cron expression is empty; ${fix}` });
  });

  it("rejects shortcuts and says what to write instead", () => {
    const fix = "write five fields: minute hour day-of-month month day-of-week";
    expect(failure("@daily")).toEqual({ field: null, message: `shortcuts such as @daily are not accepted; write "0 0 * * *" for @daily; ${fix}` });
    expect(failure("@weekly")).toEqual({ field: null, message: `shortcuts such as @daily are not accepted; write "0 0 * * 0" for @weekly; ${fix}` });
    expect(failure("@reboot")).toEqual({ field: null, message: `shortcuts such as @daily are not accepted; ${fix}` });
  });

  it(`refuses expressions longer than ${MAX_CRON_LENGTH} characters before reading them`, () => {
    const atLimit = `${"1,".repeat(123)}10 * * * *`;
    const overLimit = `${"1,".repeat(124)}1 * * * *`;
    expect([atLimit.length, overLimit.length]).toEqual([256, 257]);
    expect(parseCron(atLimit).ok).toBe(true);
    expect(failure(overLimit)).toEqual({ field: null, message: "cron expression is 257 characters long; at most 256 are allowed" });
  });

  it("rejects a newline between fields or after them (only spaces and tabs separate them)", () => {
    expect(failure("0\n9 * * * *")).toEqual({ field: 0, message: 'minute field "0\n9": "0\n9" is not a valid item; write *, */n, n, a-b or a-b/n with values 0-59, or a comma list of these' });
    expect(failure("0 9 * * *\n")).toMatchObject({ field: 4 });
    expect(failure("0\u00a09 * * * *")).toMatchObject({ field: 0 });
  });

  it("rejects steps larger than the field's maximum, in every field", () => {
    expect(failure("0 */24 * * *")).toEqual({ field: 1, message: 'hour field "*/24": step 24 is not allowed; a step must be 1-23' });
    expect(failure("0 0 * * */8")).toEqual({ field: 4, message: 'day-of-week field "*/8": step 8 is not allowed; a step must be 1-7' });
    expect(cron("0 0 */31 */12 */7")).toMatchObject({ daysOfMonth: [1], months: [1], daysOfWeek: [0] });
  });

  it("reads numbers with leading zeros", () => {
    expect(cron("05 009 01 * *")).toMatchObject({ minutes: [5], hours: [9], daysOfMonth: [1] });
  });

  it.each([
    ["0 0 30 2 *", '"2" has a day "30"'],
    ["0 0 31 4,6,9,11 *", '"4,6,9,11" has a day "31"'],
    ["0 0 30,31 2 */1", '"2" has a day "30,31"'],
  ])("rejects an expression that never fires: %s", (expression, names) => {
    expect(failure(expression)).toEqual({
      field: null,
      message: `cron expression never fires: none of the months ${names} (February has 29 days at most; April, June, September and November 30)`,
    });
  });

  it("accepts a rare schedule that fires, and a day that never comes when the weekday field can still match", () => {
    expect(parseCron("0 0 29 2 *").ok).toBe(true);
    expect(parseCron("0 0 31 4,6,9,11 1").ok).toBe(true); // Mondays in those months
    expect(parseCron("0 0 30 2 */2").ok).toBe(true); // */2 is restricted: Sundays, Tuesdays, Thursdays, Saturdays
  });
});

describe("cronMatches: the either-day rule", () => {
  const firstOrMonday = cron("0 0 1 * 1");

  it("matches the 1st of the month, or any Monday, when both day fields are restricted", () => {
    expect(cronMatches(firstOrMonday, at(2028, 2, 1))).toBe(true); // a Tuesday, the 1st
    expect(cronMatches(firstOrMonday, at(2028, 1, 3))).toBe(true); // a Monday, the 3rd
    expect(cronMatches(firstOrMonday, at(2028, 1, 4))).toBe(false); // a Tuesday, the 4th
    expect(cronMatches(firstOrMonday, at(2028, 1, 3, 0, 1))).toBe(false); // the minute does not match
  });

  it("requires both when only one day field is restricted", () => {
    expect(cronMatches(cron("0 0 1 * *"), at(2028, 1, 3))).toBe(false);
    expect(cronMatches(cron("0 0 * * 1"), at(2028, 2, 1))).toBe(false);
    // */1 is * for the rule: Mondays only, not every day.
    expect(cronMatches(cron("0 0 */1 * 1"), at(2028, 1, 4))).toBe(false);
    expect(cronMatches(cron("0 0 */1 * 1"), at(2028, 1, 3))).toBe(true);
  });

  it("checks the month before either day", () => {
    expect(cronMatches(cron("0 0 1 6 1"), at(2028, 1, 3))).toBe(false);
    expect(cronMatches(cron("0 0 1 6 1"), at(2028, 6, 5))).toBe(true); // a Monday in June
  });
});

describe("firesPer30Days over the fixed reference period", () => {
  it("is a fixed period of 1461 days, one of them 29 February", () => {
    expect(REFERENCE_PERIOD).toEqual({ firstYear: 2028, lastYear: 2031, days: 1461 });
  });

  it.each([
    ["*/15 * * * *", 140256, 2880],
    ["* * * * *", 2103840, 43200],
    ["0 9 * * 1-5", 1043, 21.4],
    ["0 0 * * 0", 209, 4.3],
    ["0 0 * * 7", 209, 4.3],
    ["0 0 1 * *", 48, 1],
    ["0 0 1 * 1", 250, 5.1], // 48 firsts + 209 Mondays - 7 Mondays that are the 1st
    ["0 0 */1 * 1", 209, 4.3],
    ["0 12 */2 * 1", 847, 17.4],
    ["30 8-17/3 13 * 5", 1000, 20.5],
  ])("%s fires %d times in the period, %d per 30 days", (expression, inPeriod, per30) => {
    const c = cron(expression);
    expect(firesInReferencePeriod(c)).toBe(inPeriod);
    expect(firesPer30Days(c)).toBe(per30);
  });

  it("counts the leap day once: 30/1461 ≈ 0.02 per 30 days, which rounds to 0", () => {
    const leapDay = cron("0 0 29 2 *");
    expect(firesInReferencePeriod(leapDay)).toBe(1);
    expect(firesPer30Days(leapDay)).toBe(0);
  });

  it("counts at least 1 for every schedule parseCron accepts: those that never fire are refused", () => {
    expect(parseCron("0 0 30 2 *").ok).toBe(false);
    expect(firesInReferencePeriod(cron("0 0 30 2 1"))).toBe(16); // the Mondays of February, 4 a year
  });
});

describe("validTimezone", () => {
  it.each([
    ["Europe/Paris", true],
    ["UTC", true],
    ["Etc/UTC", true],
    ["America/New_York", true],
    ["America/Argentina/Buenos_Aires", true],
    // Current IANA names that Node 20's Intl.supportedValuesOf lists under their old names.
    ["Asia/Kolkata", true],
    ["Europe/Kyiv", true],
    ["Etc/GMT+5", true],
    ["US/Pacific", true],
    ["Mars/Olympus", false],
    ["Europe/Atlantis", false],
    ["europe/paris", false],
    // Wrong case for names ICU lists only as aliases (or not at all) is refused too.
    ["utc", false],
    ["Etc/Utc", false],
    ["us/pacific", false],
    ["asia/kolkata", false],
    ["America/los_angeles", false],
    ["Europe/Paris ", false],
    ["+01:00", false],
    ["", false],
  ])("%s → %s", (tz, ok) => {
    expect(validTimezone(tz)).toBe(ok);
  });
});
