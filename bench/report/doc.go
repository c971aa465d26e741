// Package report is chatbench's output: the Report of one run, written as
// a readable table (Table), as JSON (WriteJSON, the -out file), and as PNG
// plots made with gonum/plot (Plots): latency over time, the percentile
// curve, and throughput over time.
//
// A Report is plain data. Package scenario fills it from the merged
// results of the workers; compare reads Metrics by name to put runs side by
// side. Latencies are in microseconds in the JSON and in milliseconds in
// the table.
package report
