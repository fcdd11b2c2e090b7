package apitest

import (
	"net/http"
	"testing"

	"redress/api/contract"
)

// checkContract fails t when the answer to req breaks api/openapi.yaml (package contract);
// routes_test keeps every registered API route documented.
func checkContract(t *testing.T, req *http.Request, res response) {
	t.Helper()
	p, err := contract.Check(req, res.status, res.header, res.body)
	if err != nil {
		t.Fatal(err)
	}
	if p != "" {
		t.Errorf("contract: %s", p)
	}
}
