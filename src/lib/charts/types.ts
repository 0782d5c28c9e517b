/** One drawn series of a TimeChart: bars or a line of a value per bucket. */
export type Layer<R> = {
	kind: 'bar' | 'line';
	value: (d: R) => number | null;
	color: string;
	dashed?: boolean;
};
