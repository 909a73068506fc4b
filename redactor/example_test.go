package redactor_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/flowmask/flowmask/redactor"
)

func ExampleRedactor_Append() {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		panic(err)
	}
	in := `{"user":"svc-orders","password":"Winter2024!","code":"OK"}`
	out, stats := r.Append(nil, []byte(in), redactor.FormatJSON)
	fmt.Println(string(out))
	fmt.Println(stats.Redactions, stats.ByRule["password"])
	// Output:
	// {"user":"svc-orders","password":"[REDACTED:password]","code":"OK"}
	// 1 1
}

func ExampleRedactor_Stream() {
	r, err := redactor.New(redactor.Config{
		Literals: []redactor.Literal{{Source: "env:DB_PASSWORD", Value: "Tr0ub4dor&3x"}},
	})
	if err != nil {
		panic(err)
	}
	logs := "connecting with Tr0ub4dor&3x\nauth failed: token=abc123\n"
	_, err = r.Stream(context.Background(), os.Stdout, strings.NewReader(logs), redactor.FormatText, 0)
	if err != nil {
		panic(err)
	}
	// Output:
	// connecting with [REDACTED:known-secret]
	// auth failed: token=[REDACTED:token]
}
