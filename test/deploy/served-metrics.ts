// The name of born serve's queue-depth gauge (src/serve/metrics.ts), which deploy/k8s/hpa.yaml
// and the adapter rule must name too. test/deploy/nginx.test.ts checks that a running
// `born serve` exports it.
export const QUEUE_DEPTH_METRIC = 'born_serve_queue_depth';
