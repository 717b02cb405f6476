import { benchPtpIngest } from '../ptpIngest.js';
for (const mix of ['steady', { interfaces: 64 }] as const) {
const f = await benchPtpIngest({ runs: 2, lines: 50000, mix });
console.log(f.id, f.figure.toFixed(0), f.ceiling.toFixed(0), f.ratio.toFixed(2), f.notes.join(' | '));
}
