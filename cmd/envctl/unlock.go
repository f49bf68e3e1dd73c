package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/litentry/envctl/pkg/lock"
)

// UnlockOptions are the inputs of envctl force-unlock.
type UnlockOptions struct {
	Globals
	Env    string
	LockID string
}

func forceUnlockCommand(io *IO) *cli.Command {
	return &cli.Command{
		Name:      "force-unlock",
		Usage:     "remove a stale lock left by a run that died",
		UsageText: "envctl force-unlock --env NAME LOCK_ID",
		Flags:     withCommon(&cli.StringFlag{Name: "env", Usage: "the env whose lock to remove"}),
		Action: func(c *cli.Context) error {
			name, err := requireEnv(c)
			if err != nil {
				return err
			}
			if c.Args().Len() != 1 {
				return fmt.Errorf("force-unlock needs the LOCK_ID that the failed run or the lock error printed")
			}
			return runForceUnlock(c.Context, io, UnlockOptions{Globals: globals(c), Env: name, LockID: c.Args().First()})
		},
	}
}

func runForceUnlock(ctx context.Context, io *IO, o UnlockOptions) error {
	s, err := openSession(ctx, o.Globals, o.Env)
	if err != nil {
		return err
	}
	l := s.env.Lock
	if l == nil {
		return fmt.Errorf("env %s declares no lock", o.Env)
	}
	if err := lock.ForceUnlock(ctx, s.clients.S3, l.Bucket, l.Key, o.LockID); err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "Removed lock %s from s3://%s/%s.\n", o.LockID, l.Bucket, l.Key)
	return nil
}
