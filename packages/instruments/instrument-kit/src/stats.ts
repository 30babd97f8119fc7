// The order statistics moved to @crucible/baseline (a shared package), so the metrics
// gateway's server-side run comparison uses the same median and MAD as the reports; the
// instruments keep importing them from here.
export { madToSigma, mad, median, quantile } from '@crucible/baseline';
