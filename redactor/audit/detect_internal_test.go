package audit

import (
	"context"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestDetectIgnoresExpressionSpans checks the overlap filter on its own: a
// known-secret literal equal to the placeholder matches every expression,
// and those matches must be dropped while literal text is still reported.
func TestDetectIgnoresExpressionSpans(t *testing.T) {
	r, err := redactor.New(redactor.Config{Literals: []redactor.Literal{
		{Source: "test:placeholder", Value: placeholder},
		{Source: "test:literal", Value: "s3cr3t-literal-value"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		give string
		want bool
	}{
		{"@parameters('x')", false},
		{"Bearer @{parameters('x')}", false},
		{"a @{parameters('x')} b @{body('y')}", false},
		{"prefix s3cr3t-literal-value @{parameters('x')}", true},
		{"s3cr3t-literal-value", true},
		{"@concat('s3cr3t-literal-value', parameters('x'))", true}, // quoted literal inside an expression
	}
	for _, tt := range tests {
		got := detectValue(context.Background(), r, tt.give, []seg{keySeg("note")}, false)
		if (len(got) > 0) != tt.want {
			t.Errorf("%q: got %v; want secret=%v", tt.give, got, tt.want)
		}
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		give string
		arm  bool
		want []segment
	}{
		{give: "plain", want: []segment{{text: "plain"}}},
		{give: "@body('a')", want: []segment{{text: "body('a')", expr: true}}},
		{give: "@@odata.context", want: []segment{{text: "@odata.context"}}},
		{give: "x @{a('}')} y", want: []segment{{text: "x "}, {text: "a('}')", expr: true}, {text: " y"}}},
		{give: "a@b.example", want: []segment{{text: "a@b.example"}}},
		{give: "open @{never", want: []segment{{text: "open @{never"}}},
		{give: "[parameters('p')]", arm: true, want: []segment{{text: "parameters('p')", expr: true}}},
		{give: "[[literal]", arm: true, want: []segment{{text: "[[literal]"}}},
		{give: "[parameters('p')]", arm: false, want: []segment{{text: "[parameters('p')]"}}},
	}
	for _, tt := range tests {
		got := segments(tt.give, tt.arm)
		if len(got) != len(tt.want) {
			t.Errorf("%q: got %+v; want %+v", tt.give, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: got %+v; want %+v", tt.give, got, tt.want)
				break
			}
		}
	}
	rs := refs("@{body('Get secret')?['value']} @outputs('x')", false)
	if len(rs) != 1 || rs[0] != (ref{fn: "body", name: "Get secret"}) {
		t.Errorf("refs: got %+v (only the interpolation is an expression in a mixed string)", rs)
	}
	rs = refs("@concat(body('A'), outputs('B'), variables('v'), parameters('it''s'))", false)
	if len(rs) != 4 || rs[3].name != "it's" {
		t.Errorf("refs: got %+v", rs)
	}
}
