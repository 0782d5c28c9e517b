// Imported first by the gateway. V8's default young generation (up to 3 x 16 MB semi-spaces)
// lets a busy gateway hold ~50 MB of short-lived garbage; small semi-spaces keep its resident
// memory low and, on this workload (small requests), cost no measurable throughput.
import { setFlagsFromString } from 'node:v8';

if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
	setFlagsFromString('--max-semi-space-size=2');
}
