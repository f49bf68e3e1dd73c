package resources_test

import (
	"context"
	"os"
	"testing"

	"github.com/litentry/envctl/internal/moto"
	"github.com/litentry/envctl/pkg/awsapi"
	"github.com/litentry/envctl/pkg/resources"
)

func TestMain(m *testing.M) { os.Exit(moto.Main(m)) }

// drivers returns every driver, wired to a fresh, empty moto_server.
func drivers(t *testing.T) (map[string]resources.Driver, *awsapi.Clients) {
	t.Helper()
	srv := moto.ForTest(t)
	c, err := awsapi.New(context.Background(), awsapi.Options{Region: "us-east-1", EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return resources.Drivers(c), c
}
