// The chart drawings (LayerCake, d3-scale and the layers) are a chunk of their own, fetched
// when a chart has data to draw: the bot page paints its cards and feed without them.
import type BandChart from './BandChart.svelte';
import type TimeChart from './TimeChart.svelte';

export type ChartComponents = { TimeChart: typeof TimeChart; BandChart: typeof BandChart };

let loading: Promise<ChartComponents> | null = null;

/** The chart components, imported once; a failed import is tried again on the next call. */
export function chartComponents(): Promise<ChartComponents> {
	loading ??= Promise.all([import('./TimeChart.svelte'), import('./BandChart.svelte')]).then(
		([time, band]) => ({ TimeChart: time.default, BandChart: band.default }),
		(e: unknown) => {
			loading = null;
			throw e;
		}
	);
	return loading;
}
