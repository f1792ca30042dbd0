import { benchPlanApply } from "./bench/plan-apply.js";
const figs = await benchPlanApply([100, 1000, 5000]);
console.log(JSON.stringify(figs.map(f => [f.agents, f.environments, f.step, f.requests, f.writes, Math.round(f.wallMs), f.exitCode])));
console.log("peakRSS MB", Math.round(process.resourceUsage().maxRSS / 1024));
