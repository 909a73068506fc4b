package audit_test

import (
	"context"
	"fmt"
	"log"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/audit"
)

func Example() {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		log.Fatal(err)
	}
	def := []byte(`{"definition": {"contentVersion": "1.0.0.0", "triggers": {}, "actions": {
	  "Get_secret": {"type": "ApiConnection", "inputs": {"method": "get", "path": "/secrets/@{encodeURIComponent('erp')}/value"}},
	  "Call_ERP": {"type": "Http", "inputs": {"method": "GET", "uri": "https://erp.example/api",
	    "headers": {"Authorization": "Bearer @{body('Get_secret')?['value']}"}}}}}}`)
	rep, err := audit.New(r).Audit(context.Background(), "orders/workflow.json", def, audit.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Rule, f.Flow, f.Action, f.Path)
	}
	// Output:
	// error keyvault-output-not-secured orders Get_secret $.definition.actions.Get_secret.runtimeConfiguration.secureData
	// warning http-credentials-not-secured orders Call_ERP $.definition.actions.Call_ERP.runtimeConfiguration.secureData
}
