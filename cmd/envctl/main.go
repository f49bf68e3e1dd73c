// Command envctl provisions AWS environments described by env files: it
// plans changes against live AWS and applies them, with no state file.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nInterrupt received: finishing the AWS calls in flight, starting no new ones. Press Ctrl-C again to abort at once.")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "Aborted.")
		os.Exit(130)
	}()
	io := &IO{
		In:       os.Stdin,
		Out:      os.Stdout,
		Err:      os.Stderr,
		OutIsTTY: term.IsTerminal(int(os.Stdout.Fd())),
		InIsTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		Getenv:   os.Getenv,
	}
	os.Exit(Run(ctx, os.Args, io))
}
