/**
 * Fuzz run: mutated frames, updates and envelopes across every protocol stage and document
 * type (tests/fuzz/layerFuzz.ts).
 *
 *   npm run bench:fuzz
 *
 * FUZZ_CASES (default 1,000,000; `npm test` runs 100,000), FUZZ_SEED (default 1). Prints the
 * rate, crashes, cases over 1 s and the slowest case (each named by seed and case, with its
 * input); exits 1 on a crash, a hang or a damaged honest document.
 */
import { fuzzLayers, fuzzReport } from '../tests/fuzz/layerFuzz.ts';

const figures = await fuzzLayers(Number(process.env.FUZZ_CASES ?? 1_000_000), Number(process.env.FUZZ_SEED ?? 1));
console.log(fuzzReport(figures));
for (const crash of figures.crashes.slice(0, 10)) console.log(`CRASH ${crash}`);
for (const hang of figures.hangs.slice(0, 10)) console.log(`HANG ${hang}`);
if (figures.crashes.length > 0 || figures.hangs.length > 0 || !figures.honestIntact) process.exitCode = 1;
