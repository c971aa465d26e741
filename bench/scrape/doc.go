// Package scrape reads gauges from a Prometheus text exposition, such as
// chatd's admin /metrics (go_goroutines, process_open_fds), for chatbench
// soak's time series. It understands only what it needs: unlabelled
// samples "name value" and "name{labels} value" (summed over the labels),
// comments skipped. overhead.sh, beside it, measures what scraping costs
// chatd.
package scrape
