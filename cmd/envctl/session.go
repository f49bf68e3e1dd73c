package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/config"
	"github.com/litentry/envctl/pkg/plan"
	"github.com/litentry/envctl/pkg/resources"
)

// ErrWrongAccount: the credentials belong to another account than the env
// file pins.
var ErrWrongAccount = errors.New("wrong AWS account")

// session is what a command that talks to AWS needs: the loaded env, the
// clients and the engine, built once.
type session struct {
	env     *config.Env
	clients *awsapi.Clients
	engine  *plan.Engine
}

// openSession loads the env file, builds the clients and refuses to go on
// when the credentials belong to another account than the file pins. It
// makes no other AWS call.
func openSession(ctx context.Context, g Globals, envName string) (*session, error) {
	env, err := config.LoadEnv(g.Dir, envName)
	if err != nil {
		return nil, err
	}
	clients, err := awsapi.New(ctx, awsapi.Options{Region: env.Region, EndpointURL: g.EndpointURL})
	if err != nil {
		return nil, err
	}
	account, err := clients.CallerAccount(ctx)
	if err != nil {
		return nil, err
	}
	if account != env.AccountID {
		return nil, fmt.Errorf("%w: the credentials in use belong to account %s, but %s pins account_id %s; nothing was read or changed", ErrWrongAccount, account, env.File, env.AccountID)
	}
	return &session{
		env:     env,
		clients: clients,
		engine:  &plan.Engine{Drivers: resources.Drivers(clients), Parallelism: g.Parallelism},
	}, nil
}
