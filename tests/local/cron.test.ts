/**
 * The deployment schedule's cron rules in the local plane (src/local/cron.ts), with a fixed
 * clock: that parsing and time zones are the shared rules (src/kinds/deployment/cron.ts) with
 * their messages as 400s, the day fields' either/both rule, and literal wall-clock matching
 * across DST changes.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/local/api-error.js";
import { parseCron as parseShared, validTimezone } from "../../src/kinds/deployment/cron.js";
import { checkTimeZone, parseCron, upcomingRuns } from "../../src/local/cron.js";

const at = (iso: string) => new Date(iso);
const runs = (expression: string, timeZone: string, now: string, count = 5) => upcomingRuns(parseCron(expression), timeZone, at(now), count);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) return err.message;
    throw err;
  }
  throw new Error("expected a 400");
}

describe("cron expressions", () => {
  it("accepts numbers, *, ranges, steps */n and a-b/n, lists, and 7 as Sunday", () => {
    const cron = parseCron("0,30 9-17/2 */10 1-12 1-5,7");
    expect(cron.minutes).toEqual([0, 30]);
    expect(cron.hours).toEqual([9, 11, 13, 15, 17]);
    expect(cron.daysOfMonth).toEqual([1, 11, 21, 31]);
    expect(cron.daysOfWeek).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parseCron("  5  4   *  * *  ").minutes).toEqual([5]);
    expect(parseCron("05 09 * * *")).toMatchObject({ minutes: [5], hours: [9] });
  });

  it("is the shared parser: every refusal is a 400 with its message", () => {
    const refused = [
      "0 0 9 * * 1",
      "0 9 * *",
      "",
      " \t ",
      "@daily",
      "0 0 L * *",
      "0 0 15W * *",
      "0 0 * * 1#2",
      "0 0 ? * *",
      "0 0 * * MON",
      "0 0 * JAN *",
      "60 * * * *",
      "* * 0 * *",
      "* * * * 8",
      "* 5-2 * * *",
      "*/0 * * * *",
      "*/60 * * * *",
      "0 */24 * * *",
      "0 0 * * */8",
      "5/10 * * * *",
      "1,,2 * * * *",
      "-1 * * * *",
      "0\n9 * * * *",
      "0 9 * * *\n",
      "0 0 30 2 *",
      "1,".repeat(130) + "1 * * * *",
    ];
    for (const e of refused) {
      const shared = parseShared(e);
      expect(shared.ok, JSON.stringify(e)).toBe(false);
      expect(refusal(() => parseCron(e)), JSON.stringify(e)).toBe(`schedule.expression: ${shared.ok ? "" : shared.message}`);
    }
    expect(refusal(() => parseCron("0 0 9 * * 1"))).toMatch(/has 6 fields; seconds and year fields are not accepted/);
    expect(refusal(() => parseCron(""))).toMatch(/cron expression is empty/);
    expect(refusal(() => parseCron("@daily"))).toMatch(/shortcuts such as @daily/);
    for (const e of ["0 0 L * *", "0 0 15W * *", "0 0 * * 1#2", "0 0 ? * *"]) expect(refusal(() => parseCron(e)), e).toMatch(/L, W, # or \?/);
    expect(refusal(() => parseCron("0 0 * * MON"))).toMatch(/day-of-week field "MON": names such as MON or JAN are not accepted/);
    expect(refusal(() => parseCron("*/60 * * * *"))).toMatch(/step 60 is not allowed; a step must be 1-59/);
    expect(refusal(() => parseCron("5/10 * * * *"))).toMatch(/a step needs \* or a range/);
    expect(refusal(() => parseCron("0 9 * * *\n"))).toMatch(/day-of-week field/);
    expect(refusal(() => parseCron("0 0 30 2 *"))).toMatch(/never fires/);
    expect(refusal(() => parseCron("0 0 31 4,6,9,11 *"))).toMatch(/never fires/);
  });

  it("counts a day field as restricted unless it is * or */1, as the shared parser does", () => {
    expect(parseCron("0 0 */1 * */1")).toMatchObject({ dayOfMonthRestricted: false, dayOfWeekRestricted: false });
    expect(parseCron("0 0 */2 * 1")).toMatchObject({ dayOfMonthRestricted: true, dayOfWeekRestricted: true });
  });
});

describe("time zones", () => {
  it("takes IANA names, current ones included, and refuses offsets, wrong case and unknown names", () => {
    for (const tz of ["UTC", "Etc/UTC", "America/Los_Angeles", "Asia/Kolkata", "Europe/Kyiv", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "US/Pacific"]) expect(checkTimeZone(tz)).toBe(tz);
    for (const tz of ["Mars/Olympus_Mons", "+05:00", "Z", "asia/kolkata", "utc", "Etc/Utc", "us/pacific", "America/los_angeles", "", "America/Los Angeles", "UTC "]) {
      expect(refusal(() => checkTimeZone(tz)), tz).toMatch(/^schedule\.timezone: .* is not an IANA time zone name/);
    }
  });

  it("is the shared rule", () => {
    for (const tz of ["Europe/Paris", "europe/paris", "Europe/Atlantis", "Asia/Calcutta", "US/Eastern", "EST", "CEST", "ASIA/KOLKATA"]) {
      const ok = (() => {
        try {
          return checkTimeZone(tz) === tz;
        } catch {
          return false;
        }
      })();
      expect(ok, tz).toBe(validTimezone(tz));
    }
  });
});

describe("upcoming runs", () => {
  it("weekdays at 9:00 in Los Angeles, strictly after now, as ISO instants", () => {
    // 2026-03-06 is a Friday; DST starts on Sunday 2026-03-08 (PST -8 → PDT -7).
    expect(runs("0 9 * * 1-5", "America/Los_Angeles", "2026-03-05T17:00:00.000Z")).toEqual([
      "2026-03-06T17:00:00.000Z",
      "2026-03-09T16:00:00.000Z",
      "2026-03-10T16:00:00.000Z",
      "2026-03-11T16:00:00.000Z",
      "2026-03-12T16:00:00.000Z",
    ]);
  });

  it("skips a wall time that does not exist when DST starts, and fires twice at one that repeats when it ends", () => {
    // New York: 2026-03-08 02:00 → 03:00 (02:30 never happens); 2026-11-01 02:00 → 01:00 (01:30 happens twice).
    expect(runs("30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z", 3)).toEqual(["2026-03-07T07:30:00.000Z", "2026-03-09T06:30:00.000Z", "2026-03-10T06:30:00.000Z"]);
    expect(runs("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 3)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-01T06:30:00.000Z", "2026-11-02T06:30:00.000Z"]);
    // Every 20 minutes through the repeated hour: instants come back in time order.
    expect(runs("*/20 1 1 11 *", "America/New_York", "2026-10-31T12:00:00Z", 6)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T05:20:00.000Z",
      "2026-11-01T05:40:00.000Z",
      "2026-11-01T06:00:00.000Z",
      "2026-11-01T06:20:00.000Z",
      "2026-11-01T06:40:00.000Z",
    ]);
  });

  it("day-of-month and day-of-week: either when both are restricted, both when one is * or */1", () => {
    // June 2026: the 13th is a Saturday; Fridays are 5, 12, 19, 26.
    expect(runs("0 0 13 6 5", "UTC", "2026-06-01T00:00:00Z", 3)).toEqual(["2026-06-05T00:00:00.000Z", "2026-06-12T00:00:00.000Z", "2026-06-13T00:00:00.000Z"]);
    // */13 (the 1st, 14th and 27th) is restricted, so either day matches (Vixie cron would want both).
    expect(runs("0 0 */13 6 5", "UTC", "2026-05-31T12:00:00Z", 4)).toEqual(["2026-06-01T00:00:00.000Z", "2026-06-05T00:00:00.000Z", "2026-06-12T00:00:00.000Z", "2026-06-14T00:00:00.000Z"]);
    // */1 is *: Fridays only.
    expect(runs("0 0 */1 6 5", "UTC", "2026-06-01T00:00:00Z", 2)).toEqual(["2026-06-05T00:00:00.000Z", "2026-06-12T00:00:00.000Z"]);
    // Sunday as 0 and as 7.
    expect(runs("0 12 * * 7", "UTC", "2026-06-01T00:00:00Z", 1)).toEqual(runs("0 12 * * 0", "UTC", "2026-06-01T00:00:00Z", 1));
    expect(runs("0 12 * * 7", "UTC", "2026-06-01T00:00:00Z", 1)).toEqual(["2026-06-07T12:00:00.000Z"]);
  });

  it("finds a leap day years ahead, even from the turn of a century without one", () => {
    expect(runs("0 0 29 2 *", "UTC", "2026-06-01T00:00:00Z", 2)).toEqual(["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"]);
    expect(runs("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1)).toEqual(["2104-02-29T00:00:00.000Z"]);
  });

  it("every minute: the next five minutes, in a zone with a 45-minute offset too", () => {
    expect(runs("* * * * *", "UTC", "2026-06-01T10:00:30Z")).toEqual(["01", "02", "03", "04", "05"].map((m) => `2026-06-01T10:${m}:00.000Z`));
    expect(runs("0 * * * *", "Asia/Kathmandu", "2026-06-01T10:00:00Z", 2)).toEqual(["2026-06-01T10:15:00.000Z", "2026-06-01T11:15:00.000Z"]);
  });
});
