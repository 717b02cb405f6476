import { benchStartup } from '../startup.js';
const r = await benchStartup({ runs: 2 });
for (const f of r) console.log(f.id, f.figure, f.ceiling, f.ratio, f.notes[1]);
