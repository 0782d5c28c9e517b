// Imported first by the gateway. V8's defaults (16 MB semi-spaces, eager heap growth) let a
// busy gateway sit at ~140-170 MB resident; small semi-spaces and V8's optimize-for-size mode
// keep it near 110 MB under the benchmark's load, with no CPU cost per request measurable on
// this 2-core machine (bench:platform reports both).
import { setFlagsFromString } from 'node:v8';

if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
	setFlagsFromString('--max-semi-space-size=2');
	setFlagsFromString('--optimize-for-size');
}
