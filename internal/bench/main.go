// Command bench measures Switchboard against the floor on the same machine (`make bench`):
// the calls page through JWT verification and the RLS tenant transaction against a bare
// net/http handler running one raw pgx query on an identical pool; the page at growing
// table sizes; VAPI report ingestion against one raw durable upsert; the Twilio hand-off's
// own overhead; memory at 200 connections; outbound webhook deliveries; and the data
// lifecycle (the inbox on disk before and after pruning, the purge beside the hand-off).
// Every server and the load generator run as separate processes on loopback; one run
// prints one table.
//
//	go run ./internal/bench [-sizes 100000,1000000] [-duration 10s] [-conns 32]
//
// The same binary is the floor server (`bench floor`) and the load generator
// (`bench load`); the harness starts them.
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "floor":
		err = floorMain(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "load":
		err = loadMain(os.Args[2:])
	default:
		err = harnessMain(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
