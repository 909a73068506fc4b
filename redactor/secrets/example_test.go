package secrets_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/prometheus/client_golang/prometheus"
)

// A front end loads the known secrets, keeps a Redactor current with Track,
// and runs the refresh loop in the background.
func Example() {
	os.Setenv("EXAMPLE_SECRET_DB", "example-db-password-1")
	cfg := secrets.Config{EnvPrefix: []string{"EXAMPLE_SECRET_"}}
	m, err := secrets.New(cfg, secrets.Options{
		Registry: prometheus.NewRegistry(),
		// The front end's own secrets are always masked.
		Static: []redactor.Literal{{Source: "inbound_token", Value: "example-inbound-token"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Load(ctx); err != nil {
		log.Fatal(err) // names the source, e.g. an unreachable vault
	}
	base, err := redactor.New(redactor.Config{})
	if err != nil {
		log.Fatal(err)
	}
	live := m.Track(base)
	go m.Run(ctx)

	// Per request: take the current Redactor once.
	r := live.Load()
	fmt.Println(r.String("db=example-db-password-1 auth=example-inbound-token"))
	for _, s := range m.Sources() {
		fmt.Println(s.Name, s.Values, s.Err)
	}
	// Output:
	// db=[REDACTED:known-secret] auth=[REDACTED:known-secret]
	// env_prefix:EXAMPLE_SECRET_ 1 <nil>
}
