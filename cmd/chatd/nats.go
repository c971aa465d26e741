package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server/cluster"
)

// runNats is `chatd nats -config FILE` (args are what follows "nats"): it
// runs only the NATS server of the file's cluster.nats.embedded section,
// for operators who keep NATS apart from the chat nodes; the rest of the
// file is validated but not used, except log:. It logs "NATS server ready"
// with the client URL once the server accepts clients, "JetStream ready"
// once JetStream is (in a mesh, when the meta leader is known), and stops
// the server on the first value from signals. It returns the exit status:
// 0 after a stop by signal, 1 when the file is invalid, has
// cluster.nats.embedded.enabled false, or the server cannot start or stops
// by itself, 2 for a usage error.
func runNats(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	fs := flag.NewFlagSet("chatd nats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "the YAML config `FILE` (required); its cluster.nats.embedded section is run")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), `Usage:
  chatd nats -config FILE

Runs only the NATS server (with JetStream) of FILE's cluster.nats.embedded
section, which must be enabled; chat nodes then connect to it through
cluster.nats.urls. Stops on SIGINT or SIGTERM.

Flags:
`)
		fs.PrintDefaults()
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if *configFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(fs.Output(), "chatd nats: want -config FILE and no arguments")
		fs.Usage()
		return 2
	}
	cfg, err := LoadConfig(*configFile)
	if err != nil {
		fmt.Fprintf(stderr, "chatd nats: %v\n", err)
		return 1
	}
	if !cfg.Cluster.NATS.Embedded.Enabled {
		fmt.Fprintf(stderr, "chatd nats: %s: cluster.nats.embedded.enabled is false; set it to true to run the NATS server\n", *configFile)
		return 1
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "chatd nats: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }() // stderr may not support fsync
	return serveNats(cfg.Cluster, log, signals)
}

// serveNats runs the embedded NATS server of c until the first signal.
func serveNats(c cluster.Config, log *zap.Logger, signals <-chan os.Signal) int {
	s, err := cluster.StartEmbedded(c, log)
	if err != nil {
		log.Error("cannot start the NATS server", zap.Error(err))
		return 1
	}
	own := c
	own.NATS.URLs = nil // ClientURLs then reports this server's
	fields := []zap.Field{
		zap.String("url", cluster.ClientURLs(own, s)[0]), // one: the server's own
		zap.String("name", s.Name()),
		zap.String("store_dir", c.NATS.Embedded.StoreDir),
	}
	if addr := s.ClusterAddr(); addr != nil {
		fields = append(fields, zap.Stringer("cluster_listen", addr), zap.Strings("routes", c.NATS.Embedded.Routes))
	}
	log.Info("NATS server ready", fields...)

	ctx, cancel := context.WithCancel(context.Background())
	jsDone := make(chan struct{})
	go func() {
		defer close(jsDone)
		if err := cluster.WaitJetStream(ctx, s, 1); err == nil {
			log.Info("JetStream ready", zap.Bool("clustered", s.JetStreamIsClustered()))
		}
	}()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.WaitForShutdown()
	}()

	status := 0
	select {
	case sig := <-signals:
		log.Info("signal received, stopping the NATS server", zap.Stringer("signal", sig))
		s.Shutdown()
	case <-stopped:
		log.Error("the NATS server stopped by itself")
		status = 1
	}
	cancel()
	<-jsDone
	<-stopped
	log.Info("NATS server stopped")
	return status
}
