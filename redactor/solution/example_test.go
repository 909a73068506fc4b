package solution_test

import (
	"fmt"
	"log"

	"github.com/flowmask/flowmask/redactor/solution"
)

// Reading the secret-type environment variables of an export, for example to
// load their values as known secrets.
func Example() {
	s, err := solution.Open("testdata/example.zip")
	if err != nil {
		log.Fatal(err)
	}
	for _, fl := range s.Flows {
		fmt.Println("flow:", fl.Name)
	}
	for _, v := range s.EnvVars {
		fmt.Println("env var:", v.SchemaName, v.Type, "value stored:", v.HasValue)
	}
	// Output:
	// flow: Sync orders
	// env var: contoso_ApiSecret secret value stored: true
}
